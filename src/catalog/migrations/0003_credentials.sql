-- callvault catalog, version 3: login credentials of human principals and the failed-login
-- records the rate limit counts. Passwords only as Argon2id PHC strings; TOTP secrets only
-- wrapped under the vault's key ring (id `totp:<name>`), as the JSON of a WrappedKey.

CREATE TABLE principal_logins (
    name           TEXT NOT NULL PRIMARY KEY REFERENCES principals (name),
    password_hash  TEXT,
    totp_wrapped   TEXT,
    -- The last accepted TOTP time step; a code must belong to a later one (no replay).
    totp_last_step INTEGER CHECK (totp_last_step >= 0)
);

-- One row per login attempt that has not (yet) succeeded. `name` is as typed and may name
-- no principal, so there is no foreign key. Times are unix seconds so that windows compare
-- as numbers; rows older than the rate-limit window are pruned.
CREATE TABLE login_failures (
    id      INTEGER NOT NULL PRIMARY KEY,
    name    TEXT NOT NULL,
    origin  TEXT NOT NULL,
    at_unix INTEGER NOT NULL
);

CREATE INDEX login_failures_by_name ON login_failures (name, at_unix);
CREATE INDEX login_failures_by_origin ON login_failures (origin, at_unix);
CREATE INDEX login_failures_by_time ON login_failures (at_unix);

-- callvault catalog, version 5: regulator exports and the age recipients registered on
-- principals. An export moves `pending → building → ready | failed`; only the bundle,
-- already encrypted to the regulator, is stored (as a blob); this table holds no content.

CREATE TABLE exports (
    id             TEXT NOT NULL PRIMARY KEY,
    case_id        TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    call_ids_json  TEXT NOT NULL,
    regulator      TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   INTEGER NOT NULL,
    approved_by    TEXT,
    approved_at    INTEGER,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'building', 'ready', 'failed')),
    files_done     INTEGER NOT NULL DEFAULT 0,
    files_total    INTEGER NOT NULL DEFAULT 0,
    bundle_blob    TEXT,
    bundle_bytes   INTEGER,
    bundle_sha256  TEXT,
    failure        TEXT,
    CHECK (approved_by IS NULL OR approved_by <> requested_by)
);

CREATE INDEX exports_by_time ON exports (requested_at);

-- The age (X25519) recipient an export to this principal defaults to.
CREATE TABLE principal_recipients (
    name      TEXT NOT NULL PRIMARY KEY REFERENCES principals (name),
    recipient TEXT NOT NULL
);

-- Access requests, grants and the customer blind index. No customer value is stored:
-- queries by customer keep only the keyed MAC.

CREATE TABLE access_requests (
    id             TEXT NOT NULL PRIMARY KEY,
    requester      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    level          TEXT NOT NULL CHECK (level IN ('masked', 'unmasked')),
    duration_s     INTEGER NOT NULL CHECK (duration_s > 0),
    call_ids_json  TEXT,
    query_json     TEXT,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'revoked')),
    approvals_json TEXT NOT NULL,
    decision_json  TEXT,
    created_at     TEXT NOT NULL,
    version        INTEGER NOT NULL,
    CHECK ((call_ids_json IS NULL) <> (query_json IS NULL))
);

CREATE INDEX access_requests_by_requester ON access_requests (requester, created_at);

CREATE TABLE grants (
    id             TEXT NOT NULL PRIMARY KEY,
    request_id     TEXT NOT NULL UNIQUE REFERENCES access_requests (id),
    requester      TEXT NOT NULL,
    approvers_json TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    level          TEXT NOT NULL CHECK (level IN ('masked', 'unmasked')),
    call_ids_json  TEXT NOT NULL,
    from_query     INTEGER NOT NULL CHECK (from_query IN (0, 1)),
    not_before     INTEGER NOT NULL,
    not_after      INTEGER NOT NULL,
    revoked        INTEGER NOT NULL CHECK (revoked IN (0, 1))
);

CREATE INDEX grants_by_requester ON grants (requester, not_after);

-- HMAC-SHA-256 (dedicated key) of a canonical customer identifier → call.
CREATE TABLE customer_index (
    mac     BLOB NOT NULL,
    call_id TEXT NOT NULL,
    PRIMARY KEY (mac, call_id)
);

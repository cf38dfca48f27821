-- callvault catalog, version 2: tamper evidence and search for the audit log.
-- Written only by the append transaction (src/catalog/sqlite/audit.rs), which reads the
-- tip and writes leaves, MACs, object index rows and the tree state together.

-- HMAC-SHA-256(audit MAC key, big-endian index || RFC 6962 leaf hash). NULL only for leaves written
-- before this version; the first append adopts them.
ALTER TABLE audit_log ADD COLUMN mac BLOB;

-- The tree over the first `size` leaves: its frontier (compact range of the right edge)
-- and the checkpoint signed for exactly that tree. One row.
CREATE TABLE audit_state (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
    size     INTEGER NOT NULL CHECK (size >= 0),
    frontier BLOB NOT NULL,
    note     TEXT NOT NULL
);

-- Signed checkpoints kept over time (at most about one a second), for `audit verify`.
CREATE TABLE audit_checkpoints (
    size       INTEGER NOT NULL PRIMARY KEY CHECK (size >= 0),
    note       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Which entries name an object (call id, request id): `GET /v1/audit/search`.
CREATE TABLE audit_objects (
    object TEXT NOT NULL,
    idx    INTEGER NOT NULL,
    PRIMARY KEY (object, idx)
);

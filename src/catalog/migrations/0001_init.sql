-- callvault catalog, version 1.
-- Portable SQL: TEXT, INTEGER, BLOB and DOUBLE PRECISION columns, timestamps as ISO 8601
-- TEXT, booleans as INTEGER 0/1. A PostgreSQL twin will differ only in BLOB (BYTEA) and
-- BIGINT spellings. No transcript text is ever stored here.

CREATE TABLE calls (
    call_id                  TEXT NOT NULL PRIMARY KEY,
    started_at               TEXT NOT NULL,
    agent_id                 TEXT NOT NULL,
    language                 TEXT NOT NULL,
    has_audio                INTEGER NOT NULL CHECK (has_audio IN (0, 1)),
    duration_s               DOUBLE PRECISION,
    upload_id                TEXT NOT NULL,
    transcript_blob          TEXT NOT NULL,
    audio_blob               TEXT,
    key_version              INTEGER NOT NULL CHECK (key_version >= 0),
    wrapped_key              BLOB NOT NULL,
    transcript_sha256        TEXT NOT NULL,
    audio_sha256             TEXT,
    sealed_transcript_sha256 TEXT NOT NULL,
    sealed_audio_sha256      TEXT,
    receipt_json             TEXT NOT NULL,
    created_at               TEXT NOT NULL
);

-- Dense, 0-based indices; the primary key makes concurrent appenders collide instead of
-- sharing an index.
CREATE TABLE audit_log (
    idx  INTEGER NOT NULL PRIMARY KEY CHECK (idx >= 0),
    leaf BLOB NOT NULL
);

CREATE TABLE principals (
    name       TEXT NOT NULL PRIMARY KEY,
    roles_json TEXT NOT NULL,
    attrs_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled   INTEGER NOT NULL CHECK (disabled IN (0, 1))
);

-- Tokens are stored only as hashes.
CREATE TABLE api_tokens (
    token_hash    BLOB NOT NULL PRIMARY KEY,
    principal     TEXT NOT NULL REFERENCES principals (name),
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked       INTEGER NOT NULL CHECK (revoked IN (0, 1)),
    second_factor INTEGER NOT NULL CHECK (second_factor IN (0, 1))
);

CREATE INDEX api_tokens_by_principal ON api_tokens (principal);

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

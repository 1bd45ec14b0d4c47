-- The device's store. Times are Unix seconds. Columns named *_sealed hold personal data,
-- encrypted with the device's data key (XChaCha20-Poly1305, bound to table, column and row).

CREATE TABLE enrolment (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    role              TEXT NOT NULL CHECK (role IN ('agent', 'customer')),
    organisation_name TEXT NOT NULL,
    organisation_keys BLOB NOT NULL,       -- concatenated 33-byte compressed P-256 keys
    server_url        TEXT NOT NULL,
    device_key        BLOB NOT NULL,       -- this device's public key (the private half stays in hardware)
    enrolled_at       INTEGER NOT NULL
);

-- The agent's visit package.
CREATE TABLE visits (
    visit_id             BLOB PRIMARY KEY,
    ticket               BLOB NOT NULL,    -- signed ticket, as issued
    customer_key         BLOB NOT NULL,
    window_start         INTEGER NOT NULL,
    window_end           INTEGER NOT NULL,
    customer_data_sealed BLOB,             -- the fields this visit may show; NULL once purged
    outcome              TEXT,
    completed_at         INTEGER,
    synced_at            INTEGER
);

-- The customer's notices.
CREATE TABLE notices (
    visit_id     BLOB PRIMARY KEY,
    notice       BLOB NOT NULL,            -- signed notice
    photo_sealed BLOB,                     -- the agent's photo, checked against the ticket's hash
    window_end   INTEGER NOT NULL,
    received_at  INTEGER NOT NULL
);

-- Handshakes in progress, so an app killed at the door resumes.
CREATE TABLE sessions (
    visit_id     BLOB PRIMARY KEY,
    state_sealed BLOB NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Append-only, hash-chained log of receipts.
CREATE TABLE receipts (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE, -- UUIDv7: the server's idempotency key
    visit_id         BLOB NOT NULL,
    receipt          BLOB NOT NULL,        -- signed receipt (no personal data)
    recorded_at      INTEGER NOT NULL,
    prev_hash        BLOB NOT NULL,
    entry_hash       BLOB NOT NULL,
    countersignature BLOB                  -- the server's, once synced
);

CREATE TRIGGER receipts_are_append_only
BEFORE UPDATE OF seq, id, visit_id, receipt, recorded_at, prev_hash, entry_hash ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts are append-only');
END;

CREATE TRIGGER receipts_are_never_deleted
BEFORE DELETE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts are never deleted');
END;

CREATE TRIGGER countersignatures_are_written_once
BEFORE UPDATE OF countersignature ON receipts
WHEN OLD.countersignature IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a countersignature is written once');
END;

-- Uploads waiting for the server.
CREATE TABLE outbox (
    id              BLOB PRIMARY KEY,      -- UUIDv7, sent as the idempotency key
    kind            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    acknowledged_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE acknowledged_at IS NULL;

CREATE TABLE denylist (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    encoded   BLOB NOT NULL,
    sequence  INTEGER NOT NULL,
    issued_at INTEGER NOT NULL
);

CREATE TABLE checkpoints (
    stream TEXT PRIMARY KEY,
    cursor TEXT NOT NULL
);

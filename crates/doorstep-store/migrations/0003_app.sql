-- Where the agent must go: the visit's address, sealed like the customer's data, erased with it.
ALTER TABLE visits ADD COLUMN address_sealed BLOB;

-- The device's own signing key, sealed with the data key (platforms with a hardware key store
-- keep it there instead and never write this table).
CREATE TABLE device_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_sealed BLOB NOT NULL
);

-- What the customer keeps of each visit they let in: whom, when, the confirmation code, the
-- handshake's transcript hash and, once scanned, the agent's signed receipt.
CREATE TABLE kept_receipts (
    visit_id   BLOB PRIMARY KEY,
    body       TEXT NOT NULL,   -- JSON of the core's CustomerReceipt
    created_at INTEGER NOT NULL
);

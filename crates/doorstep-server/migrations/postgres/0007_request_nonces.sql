-- The nonce of every signed request, kept until the request could no longer be replayed (its
-- time plus the window) and at least a minute, in the database so that every server process
-- sharing it refuses a replay, also after a restart. received_at serves the per-device limit.
CREATE TABLE request_nonces (
    key_id      BYTEA NOT NULL,
    nonce       BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    keep_until  BIGINT NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_by_device ON request_nonces (key_id, received_at);
CREATE INDEX request_nonces_expiry ON request_nonces (keep_until);

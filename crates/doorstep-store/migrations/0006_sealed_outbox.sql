-- Reports and notes are personal: outbox payloads are sealed like the other personal columns
-- from now on. Rows written before stay readable as they are (payload_sealed = 0).
ALTER TABLE outbox ADD COLUMN payload_sealed INTEGER NOT NULL DEFAULT 0;

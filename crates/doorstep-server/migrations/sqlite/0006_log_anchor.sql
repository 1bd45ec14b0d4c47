-- The newest anchored head of each device's receipt log (entries, hash of the newest entry),
-- and when a sync showed that log rewritten on the phone.
ALTER TABLE devices ADD COLUMN log_entries BIGINT;
ALTER TABLE devices ADD COLUMN log_head BLOB;
ALTER TABLE devices ADD COLUMN log_rewritten_at BIGINT;

-- An upload the server refused for good stays on the device, marked, for a person to look at;
-- it is never retried and never deleted.
ALTER TABLE outbox ADD COLUMN rejected_kind TEXT;
ALTER TABLE outbox ADD COLUMN rejected_message TEXT;

-- What the console shows of people and their devices.
-- When each device last made a signed request: its last sync.
ALTER TABLE devices ADD COLUMN last_seen_at BIGINT;
-- The last nine digits of the customer's phone number, so the official line finds a caller by
-- the number they call from, whatever its prefix; NULL once their data is erased.
ALTER TABLE customers ADD COLUMN phone_key TEXT;
CREATE INDEX customers_phone ON customers (organisation_id, phone_key);

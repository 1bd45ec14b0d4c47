-- A device enrolled for someone who already has one is held: it receives nothing until the
-- organisation's cooling-off period passes or the back-office confirms it, and the earlier
-- device, still working meanwhile, is told at its next sync.
ALTER TABLE devices ADD COLUMN held_until BIGINT;
-- How long a customer's enrolment code lasts, and how long a second device is held.
ALTER TABLE organisations ADD COLUMN customer_code_days INTEGER NOT NULL DEFAULT 3;
ALTER TABLE organisations ADD COLUMN cooling_off_hours INTEGER NOT NULL DEFAULT 24;

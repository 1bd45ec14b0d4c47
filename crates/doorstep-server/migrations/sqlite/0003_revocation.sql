-- Revocation from the back-office: a cancelled visit puts its tickets' serials on the
-- denylist; a revoked customer's devices are revoked and no new one may enrol.
ALTER TABLE visits ADD COLUMN cancelled_at BIGINT;
ALTER TABLE customers ADD COLUMN revoked_at BIGINT;

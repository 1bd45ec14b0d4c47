-- What the back-office found of a device key's attestation when the device enrolled: for
-- example "android strongbox", "android tee", "android, not verified: no root configured",
-- "apple app attest, not verified". NULL: the device sent none (a software key).
ALTER TABLE devices ADD COLUMN attestation TEXT;

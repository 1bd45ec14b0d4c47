-- Why each visit is made (sealed, erased with the address) and the office's reference for it,
-- so the agent tells apart visits at one address.
ALTER TABLE visits ADD COLUMN purpose_sealed BLOB;
ALTER TABLE visits ADD COLUMN visit_ref TEXT;

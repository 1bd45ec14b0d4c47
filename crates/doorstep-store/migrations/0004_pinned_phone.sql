-- The official number comes from the organisation pinned in the app, recorded at enrolment,
-- so every customer screen can show it with or without a visit announced.
ALTER TABLE enrolment ADD COLUMN official_phone TEXT NOT NULL DEFAULT '';

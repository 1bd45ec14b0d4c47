-- How long the organisation lets its phones keep personal data, recorded at enrolment and moved
-- on by syncs; `Store::purge` enforces it (capped by the app, whatever a back-office says).
ALTER TABLE enrolment ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30;
CREATE INDEX visits_by_window_end ON visits (window_end);

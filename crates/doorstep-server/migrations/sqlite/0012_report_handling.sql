-- How the office handled each report phones sent: called back, then closed. A report with no
-- row here is new.
CREATE TABLE report_handling (
    upload_id   BLOB PRIMARY KEY REFERENCES results (upload_id),
    state       TEXT NOT NULL CHECK (state IN ('called_back', 'closed')),
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

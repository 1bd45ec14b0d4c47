-- Plan B: the references the office's operator gave on the official line after confirming a
-- visit with the customer. A receipt "verified by the office" is accepted only with one of its
-- visit's references.
CREATE TABLE office_confirmations (
    visit_id     BLOB NOT NULL REFERENCES visits (id),
    reference    TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    confirmed_by TEXT NOT NULL,
    PRIMARY KEY (visit_id, reference)
);

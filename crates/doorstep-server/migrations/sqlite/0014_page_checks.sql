-- The references the verification page gave customers without the app who checked their
-- visitor there. A receipt "checked on the page" is accepted only with one of its visit's
-- references. One per page pass (its nonce), so the page asked again gives the same one.
-- Nothing here is personal: no address, no browser, no customer.
CREATE TABLE page_checks (
    visit_id   BLOB NOT NULL REFERENCES visits (id),
    reference  TEXT NOT NULL,
    pass_nonce BLOB NOT NULL UNIQUE,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (visit_id, reference)
);

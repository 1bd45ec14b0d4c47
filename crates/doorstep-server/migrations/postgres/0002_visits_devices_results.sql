-- Customers, devices and their one-time enrolment codes, visits, the tickets issued for them,
-- results received from devices, and signed denylist snapshots. Times are Unix seconds.

ALTER TABLE organisations ADD COLUMN official_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN retention_days BIGINT NOT NULL DEFAULT 30;
-- The photo customers are shown; staff data, not customer data.
ALTER TABLE agents ADD COLUMN photo BYTEA;

CREATE TABLE customers (
    id              BYTEA PRIMARY KEY,
    organisation_id BYTEA NOT NULL REFERENCES organisations (id),
    customer_ref    TEXT NOT NULL,
    data            TEXT,              -- JSON: field name to value; NULL once purged
    created_at      BIGINT NOT NULL,
    purged_at       BIGINT,
    UNIQUE (organisation_id, customer_ref)
);

-- Only a hash of each code is kept: a database leak enrols nobody.
CREATE TABLE enrolment_codes (
    code_hash       BYTEA PRIMARY KEY,
    organisation_id BYTEA NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL CHECK (role IN ('agent', 'customer')),
    subject_id      BYTEA NOT NULL,     -- the agent's or the customer's id
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    redeemed_at     BIGINT
);

CREATE TABLE devices (
    id              BYTEA PRIMARY KEY,
    organisation_id BYTEA NOT NULL REFERENCES organisations (id),
    role            TEXT NOT NULL CHECK (role IN ('agent', 'customer')),
    subject_id      BYTEA NOT NULL,
    key_id          BYTEA NOT NULL UNIQUE,
    public_key      BYTEA NOT NULL,
    enrolled_at     BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX devices_subject ON devices (subject_id);

CREATE TABLE visits (
    id              BYTEA PRIMARY KEY,  -- the 16-byte visit id in tickets (a UUIDv7)
    organisation_id BYTEA NOT NULL REFERENCES organisations (id),
    visit_ref       TEXT NOT NULL,
    agent_id        BYTEA NOT NULL REFERENCES agents (id),
    customer_id     BYTEA NOT NULL REFERENCES customers (id),
    window_start    BIGINT NOT NULL,
    window_minutes  BIGINT NOT NULL,
    purpose         TEXT NOT NULL,
    checks          BIGINT NOT NULL,
    fields          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    completed_at    BIGINT,
    UNIQUE (organisation_id, visit_ref)
);
CREATE INDEX visits_agent ON visits (agent_id, window_start);
CREATE INDEX visits_customer ON visits (customer_id, window_start);

CREATE TABLE tickets (
    serial          BIGSERIAL PRIMARY KEY,
    visit_id        BYTEA NOT NULL REFERENCES visits (id),
    agent_device_id BYTEA NOT NULL REFERENCES devices (id),
    customer_key_id BYTEA NOT NULL,
    issued_at       BIGINT NOT NULL,
    encoded         BYTEA NOT NULL
);
CREATE INDEX tickets_visit ON tickets (visit_id);

-- One row per upload id, whatever how many times it was delivered.
CREATE TABLE results (
    upload_id        BYTEA PRIMARY KEY,
    organisation_id  BYTEA NOT NULL REFERENCES organisations (id),
    device_id        BYTEA NOT NULL REFERENCES devices (id),
    kind             TEXT NOT NULL CHECK (kind IN ('receipt', 'report')),
    visit_id         BYTEA,
    outcome          TEXT,
    payload          BYTEA NOT NULL,
    payload_digest   BYTEA NOT NULL,
    received_at      BIGINT NOT NULL,
    countersignature BYTEA NOT NULL
);
CREATE INDEX results_visit ON results (visit_id);

CREATE TABLE denylists (
    organisation_id BYTEA NOT NULL REFERENCES organisations (id),
    sequence        BIGINT NOT NULL,
    issued_at       BIGINT NOT NULL,
    content_digest  BYTEA NOT NULL,
    encoded         BYTEA NOT NULL,
    PRIMARY KEY (organisation_id, sequence)
);

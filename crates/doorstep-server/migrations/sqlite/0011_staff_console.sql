-- The console's staff: accounts with one role each, their sessions, failed logins (for
-- throttling, shared by every server process) and the append-only audit log of what they did.

CREATE TABLE staff (
    id              BLOB PRIMARY KEY,   -- UUIDv7
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'planner', 'operator', 'auditor')),
    password_hash   TEXT NOT NULL,    -- Argon2id, PHC string
    created_at      BIGINT NOT NULL,
    disabled_at     BIGINT
);

-- Only a hash of the session token is stored: a copy of the database opens no session.
CREATE TABLE staff_sessions (
    token_hash  BLOB PRIMARY KEY,
    staff_id    BLOB NOT NULL REFERENCES staff (id),
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE login_failures (
    username  TEXT NOT NULL,
    address   TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX login_failures_by_username ON login_failures (username, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);

-- References only (staff, visit, agent, device ids), never a customer's personal data, so the
-- log can outlive the retention period.
CREATE TABLE audit_log (
    id              BLOB PRIMARY KEY,   -- UUIDv7: ordered by time
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    at              BIGINT NOT NULL,
    staff_id        BLOB,
    staff_username  TEXT NOT NULL,
    action          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

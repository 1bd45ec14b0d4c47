-- Organisations, their signing keys and their agents. Times are Unix seconds. Every row that
-- belongs to an organisation names it, and every query filters by it.

CREATE TABLE organisations (
    id         BLOB PRIMARY KEY,        -- UUIDv7
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Public halves only: the private key lives in a file with owner-only permissions.
CREATE TABLE organisation_keys (
    key_id          BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    public_key      BLOB NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);

CREATE TABLE agents (
    id              BLOB PRIMARY KEY,   -- UUIDv7
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    staff_ref       TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    on_behalf_of    TEXT NOT NULL,
    photo_hash      BLOB NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    UNIQUE (organisation_id, staff_ref)
);

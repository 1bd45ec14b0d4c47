-- Every organisation key hand-over, signed by the key it replaces; devices apply them in order.
-- The replaced key's organisation_keys.retired_at is the end of the overlap.
CREATE TABLE key_rotations (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    issued_at       BIGINT NOT NULL,
    new_key_id      BLOB NOT NULL,
    encoded         BLOB NOT NULL,
    PRIMARY KEY (organisation_id, new_key_id)
);

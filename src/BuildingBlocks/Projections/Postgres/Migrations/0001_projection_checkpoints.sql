CREATE TABLE projection_checkpoints (
    name             text PRIMARY KEY,
    commit_position  bigint NOT NULL,
    prepare_position bigint NOT NULL,
    updated_at       timestamptz NOT NULL
);

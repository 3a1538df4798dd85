CREATE TABLE projection_checkpoints (
    name             TEXT PRIMARY KEY,
    commit_position  INTEGER NOT NULL,
    prepare_position INTEGER NOT NULL,
    updated_at       TEXT    NOT NULL
) WITHOUT ROWID;

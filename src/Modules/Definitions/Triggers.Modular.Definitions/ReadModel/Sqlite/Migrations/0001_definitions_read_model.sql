CREATE TABLE IF NOT EXISTS definitions_definitions (
    definition_id TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    version       INTEGER NOT NULL,
    enabled       INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_definitions_scope ON definitions_definitions (tenant_id, environment, definition_id);

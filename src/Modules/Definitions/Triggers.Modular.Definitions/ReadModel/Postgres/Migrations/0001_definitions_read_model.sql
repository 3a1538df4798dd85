CREATE SCHEMA IF NOT EXISTS definitions;
CREATE TABLE IF NOT EXISTS definitions.definitions (
    definition_id text        NOT NULL PRIMARY KEY,
    tenant_id     text        NOT NULL,
    environment   text        NOT NULL,
    name          text        NOT NULL,
    description   text        NULL,
    version       integer     NOT NULL,
    enabled       boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_definitions_scope ON definitions.definitions (tenant_id, environment, definition_id);

CREATE SCHEMA IF NOT EXISTS triggers;

-- Read model: one row per live trigger (deleted ones leave), for the list endpoint and for routing events:
-- event_name is set for event triggers, so the dispatcher finds the triggers of an event with one index probe.
CREATE TABLE IF NOT EXISTS triggers.triggers (
    trigger_id  text        NOT NULL PRIMARY KEY,
    tenant_id   text        NOT NULL,
    environment text        NOT NULL,
    workflow_id text        NOT NULL,
    name        text        NOT NULL,
    type        text        NOT NULL,
    enabled     boolean     NOT NULL,
    event_name  text        NULL,
    config      text        NOT NULL,
    source      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_triggers_scope ON triggers.triggers (tenant_id, environment, trigger_id);
CREATE INDEX IF NOT EXISTS ix_triggers_event ON triggers.triggers (tenant_id, environment, event_name) WHERE event_name IS NOT NULL;

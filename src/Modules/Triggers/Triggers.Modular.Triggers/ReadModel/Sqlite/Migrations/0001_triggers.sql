-- Read model: one row per live trigger (deleted ones leave), for the list endpoint and for routing events.
CREATE TABLE IF NOT EXISTS triggers_triggers (
    trigger_id  TEXT    NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    workflow_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    enabled     INTEGER NOT NULL,
    event_name  TEXT    NULL,
    config      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_triggers_scope ON triggers_triggers (tenant_id, environment, trigger_id);
CREATE INDEX IF NOT EXISTS ix_triggers_event ON triggers_triggers (tenant_id, environment, event_name) WHERE event_name IS NOT NULL;

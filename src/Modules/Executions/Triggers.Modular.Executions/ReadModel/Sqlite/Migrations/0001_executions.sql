

-- Read model: one row per execution, for lists and filters (the execution itself is read from its stream).
CREATE TABLE IF NOT EXISTS executions_executions (
    execution_id     text        NOT NULL PRIMARY KEY,
    tenant_id        text        NOT NULL,
    environment      text        NOT NULL,
    workflow_id      text        NOT NULL,
    workflow_version integer     NOT NULL,
    status           text        NOT NULL,
    trigger_type     text        NOT NULL,
    trigger_ref      text        NULL,
    created_ms       bigint      NOT NULL,
    created_at       TEXT        NOT NULL,
    updated_at       TEXT        NOT NULL,
    finished_at      TEXT        NULL,
    error_code       text        NULL,
    error_message    text        NULL
);
CREATE INDEX IF NOT EXISTS ix_executions_scope_created ON executions_executions (tenant_id, environment, created_ms DESC, execution_id DESC);
CREATE INDEX IF NOT EXISTS ix_executions_workflow ON executions_executions (tenant_id, environment, workflow_id, status);

-- The embedded runtime's due work, derived from execution events by the executions-work projection: steps to run,
-- retry back-offs, sleeping steps' timers and whole-execution deadlines. Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS executions_work (
    execution_id text    NOT NULL,
    item         text    NOT NULL,
    kind         text    NOT NULL,
    step_id      text    NULL,
    attempt      integer NOT NULL,
    due_ms       bigint  NOT NULL,
    lease_owner  text    NULL,
    lease_ms     bigint  NULL,
    PRIMARY KEY (execution_id, item)
);
CREATE INDEX IF NOT EXISTS ix_work_due ON executions_work (due_ms);

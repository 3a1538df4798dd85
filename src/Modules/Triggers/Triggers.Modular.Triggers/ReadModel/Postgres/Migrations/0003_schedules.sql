-- Read model: the state of each schedule trigger's cadence (ADR 0015), from its schedule-{trg} stream. The firing loop reads
-- it to find due schedules without reading every stream, and decisions start from the row (the state as of
-- stream_revision, the revision of the last event applied) and read the stream after it; the list endpoint shows it.
-- A trigger's row leaves with it.
CREATE TABLE IF NOT EXISTS triggers.schedules (
    trigger_id        text        NOT NULL PRIMARY KEY,
    tenant_id         text        NOT NULL,
    environment       text        NOT NULL,
    paused            boolean     NOT NULL,
    cursor_at         timestamptz NULL,
    buffered_slot     text        NULL,
    buffered_at       timestamptz NULL,
    last_run_at       timestamptz NULL,
    last_execution_id text        NULL,
    run_count         bigint      NOT NULL,
    skipped_count     bigint      NOT NULL,
    missed_count      bigint      NOT NULL,
    stream_revision   bigint      NOT NULL
);

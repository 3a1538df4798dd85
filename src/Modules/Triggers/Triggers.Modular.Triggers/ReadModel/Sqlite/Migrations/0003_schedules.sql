-- Read model: the state of each schedule trigger's cadence (ADR 0015), from its schedule-{trg} stream. The firing loop reads
-- it to find due schedules without reading every stream, and decisions start from the row (the state as of
-- stream_revision, the revision of the last event applied) and read the stream after it; the list endpoint shows it.
-- A trigger's row leaves with it.
CREATE TABLE IF NOT EXISTS triggers_schedules (
    trigger_id        TEXT    NOT NULL PRIMARY KEY,
    tenant_id         TEXT    NOT NULL,
    environment       TEXT    NOT NULL,
    paused            INTEGER NOT NULL,
    cursor_at         TEXT    NULL,
    buffered_slot     TEXT    NULL,
    buffered_at       TEXT    NULL,
    last_run_at       TEXT    NULL,
    last_execution_id TEXT    NULL,
    run_count         INTEGER NOT NULL,
    skipped_count     INTEGER NOT NULL,
    missed_count      INTEGER NOT NULL,
    stream_revision   INTEGER NOT NULL
);

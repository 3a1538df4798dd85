-- Event store on SQLite. One writer at a time (BEGIN IMMEDIATE), so positions are in commit order. A rolled-back
-- append's values are handed out again, which is harmless: no reader ever saw them. AUTOINCREMENT (not plain rowid)
-- so that a position is never reused after the highest row is deleted.
CREATE TABLE es_streams (
    stream_name TEXT PRIMARY KEY,
    revision    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE es_events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT    NOT NULL UNIQUE,
    stream_name    TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    tenant_id      TEXT,
    environment    TEXT,
    actor          TEXT,
    correlation_id TEXT,
    causation_id   TEXT,
    created_at     TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
);

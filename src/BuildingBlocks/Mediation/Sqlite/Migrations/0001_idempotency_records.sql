CREATE TABLE IF NOT EXISTS platform_idempotency_records (
    tenant_id       TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    claim_id        TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'completed')),
    response_json   TEXT    NULL,
    locked_until_ms INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, environment, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_platform_idempotency_records_expires ON platform_idempotency_records (expires_at_ms);

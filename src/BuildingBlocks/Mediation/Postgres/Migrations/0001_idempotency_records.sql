CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.idempotency_records (
    tenant_id       text   NOT NULL,
    environment     text   NOT NULL,
    idempotency_key text   NOT NULL,
    claim_id        text   NOT NULL,
    request_hash    text   NOT NULL,
    status          text   NOT NULL CHECK (status IN ('pending', 'completed')),
    response_json   text   NULL,
    locked_until_ms bigint NOT NULL,
    expires_at_ms   bigint NOT NULL,
    PRIMARY KEY (tenant_id, environment, idempotency_key)
);
CREATE INDEX IF NOT EXISTS ix_idempotency_records_expires ON platform.idempotency_records (expires_at_ms);

-- Webhook secrets (not a read model: secrets are never in events, so nothing could rebuild them; a projection reset
-- leaves this table alone). One row per version; versions other than the newest stop verifying at expires_at.
CREATE TABLE IF NOT EXISTS triggers_webhook_secrets (
    trigger_id  TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NULL,
    PRIMARY KEY (trigger_id, version)
);

-- Read model: the request log of webhook triggers, newest first per trigger.
CREATE TABLE IF NOT EXISTS triggers_webhook_requests (
    request_id     TEXT    NOT NULL PRIMARY KEY,
    trigger_id     TEXT    NOT NULL,
    tenant_id      TEXT    NOT NULL,
    environment    TEXT    NOT NULL,
    received_at    TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    query          TEXT    NOT NULL,
    headers        TEXT    NOT NULL,
    body           TEXT    NULL,
    body_encoding  TEXT    NOT NULL,
    body_bytes     INTEGER NOT NULL,
    body_truncated INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    reason         TEXT    NULL,
    detail         TEXT    NULL,
    duration_ms    REAL    NOT NULL,
    client_ip      TEXT    NULL,
    user_agent     TEXT    NULL,
    delivery_id    TEXT    NULL,
    execution_id   TEXT    NULL,
    duplicate_of   TEXT    NULL
);
CREATE INDEX IF NOT EXISTS ix_webhook_requests_trigger ON triggers_webhook_requests (trigger_id, received_at DESC, request_id DESC);

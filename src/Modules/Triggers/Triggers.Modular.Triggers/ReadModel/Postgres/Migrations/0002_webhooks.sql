-- Webhook secrets (not a read model: secrets are never in events, so nothing could rebuild them; a projection reset
-- leaves this table alone). One row per version; versions other than the newest stop verifying at expires_at.
CREATE TABLE IF NOT EXISTS triggers.webhook_secrets (
    trigger_id  text        NOT NULL,
    version     integer     NOT NULL,
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NULL,
    PRIMARY KEY (trigger_id, version)
);

-- Read model: the request log of webhook triggers, newest first per trigger.
CREATE TABLE IF NOT EXISTS triggers.webhook_requests (
    request_id     text             NOT NULL PRIMARY KEY,
    trigger_id     text             NOT NULL,
    tenant_id      text             NOT NULL,
    environment    text             NOT NULL,
    received_at    timestamptz      NOT NULL,
    method         text             NOT NULL,
    path           text             NOT NULL,
    query          text             NOT NULL,
    headers        text             NOT NULL,
    body           text             NULL,
    body_encoding  text             NOT NULL,
    body_bytes     bigint           NOT NULL,
    body_truncated boolean          NOT NULL,
    status         integer          NOT NULL,
    reason         text             NULL,
    detail         text             NULL,
    duration_ms    double precision NOT NULL,
    client_ip      text             NULL,
    user_agent     text             NULL,
    delivery_id    text             NULL,
    execution_id   text             NULL,
    duplicate_of   text             NULL
);
CREATE INDEX IF NOT EXISTS ix_webhook_requests_trigger ON triggers.webhook_requests (trigger_id, received_at DESC, request_id DESC);

-- Tenancy read model (projection "tenancy"). API keys: never the token nor its hash (those stay in the apikey-* streams).
CREATE SCHEMA IF NOT EXISTS tenancy;

CREATE TABLE IF NOT EXISTS tenancy.tenants (
    tenant_id  text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS tenancy.environments (
    tenant_id  text        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS tenancy.api_keys (
    key_id      text        PRIMARY KEY,
    tenant_id   text        NOT NULL,
    environment text        NOT NULL,
    name        text        NOT NULL,
    prefix      text        NOT NULL,
    permissions text        NOT NULL, -- JSON array of permission names
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz NULL
);

CREATE INDEX IF NOT EXISTS ix_api_keys_scope ON tenancy.api_keys (tenant_id, environment, created_at);

-- Tenancy read model (projection "tenancy"). Times are ISO 8601 UTC text ('O' format), which sorts as time.
-- API keys: never the token nor its hash (those stay in the apikey-* streams).
CREATE TABLE IF NOT EXISTS tenancy_tenants (
    tenant_id  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS tenancy_environments (
    tenant_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS tenancy_api_keys (
    key_id      TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    environment TEXT NOT NULL,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT NULL
);

CREATE INDEX IF NOT EXISTS ix_tenancy_api_keys_scope ON tenancy_api_keys (tenant_id, environment, created_at);

-- History queries of the Audit module (IEventHistory): a tenant × environment's events in $all order, newest or oldest
-- first, optionally of one type, in a time range, or following one correlation id.
CREATE INDEX IF NOT EXISTS ix_es_events_scope_position ON es_events (tenant_id, environment, position);
CREATE INDEX IF NOT EXISTS ix_es_events_scope_type ON es_events (tenant_id, environment, type, position);
CREATE INDEX IF NOT EXISTS ix_es_events_scope_created ON es_events (tenant_id, environment, created_at);
CREATE INDEX IF NOT EXISTS ix_es_events_correlation ON es_events (correlation_id, position) WHERE correlation_id IS NOT NULL;

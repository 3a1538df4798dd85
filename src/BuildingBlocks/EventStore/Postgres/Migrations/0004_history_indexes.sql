-- History queries of the Audit module (IEventHistory): a tenant × environment's events in $all order, newest or oldest
-- first, optionally of one type, in a time range, or following one correlation id.
CREATE INDEX IF NOT EXISTS ix_events_scope_position ON event_store.events (tenant_id, environment, tx_id, seq);
CREATE INDEX IF NOT EXISTS ix_events_scope_type ON event_store.events (tenant_id, environment, type, tx_id, seq);
CREATE INDEX IF NOT EXISTS ix_events_scope_created ON event_store.events (tenant_id, environment, created_at);
CREATE INDEX IF NOT EXISTS ix_events_correlation ON event_store.events (correlation_id, tx_id, seq) WHERE correlation_id IS NOT NULL;

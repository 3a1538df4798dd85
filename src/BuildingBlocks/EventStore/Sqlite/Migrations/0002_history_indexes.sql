-- History queries of the Audit module (IEventHistory), kept cheap for appends (docs/adr/0016): a tenant × environment's
-- events in $all order (newest or oldest first; other filters — type, category, actor, stream — are checked along that
-- index), one correlation id's events (traces), and time ranges.
CREATE INDEX IF NOT EXISTS ix_es_events_scope_position ON es_events (tenant_id, environment, position);
CREATE INDEX IF NOT EXISTS ix_es_events_correlation ON es_events (correlation_id, position) WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_es_events_scope_created ON es_events (tenant_id, environment, created_at);

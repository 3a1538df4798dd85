-- History queries of the Audit module (IEventHistory), kept cheap for appends (docs/adr/0016, measured in
-- docs/benchmarks.md): a tenant × environment's events in $all order (newest or oldest first; other filters — type,
-- category, actor, stream — are checked along that index), one correlation id's events (traces), and time ranges through
-- a BRIN index (created times follow the append order closely, and a BRIN index costs next to nothing to keep).
CREATE INDEX IF NOT EXISTS ix_events_scope_position ON event_store.events (tenant_id, environment, tx_id, seq);
CREATE INDEX IF NOT EXISTS ix_events_correlation ON event_store.events (correlation_id, tx_id, seq) WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_events_created_brin ON event_store.events USING brin (created_at);

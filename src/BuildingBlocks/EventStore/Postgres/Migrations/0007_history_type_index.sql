-- A rare event type (docs/adr/0016, measured in docs/benchmarks.md "Audit history queries"): along the scope-position index a
-- type of 0.1 % has to walk ~100,000 entries of a scope for a page of 100. A narrow (type, position) index — no scope columns:
-- the scope is checked on the few rows it yields — finds them directly, in either order. Appends pay one more b-tree entry
-- (appended at the right end of the type's range, like the primary key).
CREATE INDEX IF NOT EXISTS ix_events_type_position ON event_store.events (type, tx_id, seq);

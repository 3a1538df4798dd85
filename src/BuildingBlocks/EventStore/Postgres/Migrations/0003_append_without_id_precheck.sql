-- append_events without the separate look-up of the event ids before the insert (docs/adr/0013): the insert itself
-- skips ids already stored (ON CONFLICT (event_id) DO NOTHING, which also waits for a concurrent writer of the same id
-- and skips it if that one commits); when any id was skipped, the rows this call did insert are deleted again and the
-- caller gets status 5 (it applies the idempotence rule, as before). The ids are looked up first only when the expected
-- revision does not hold: a retried append whose first attempt succeeded is a replay, not a conflict.
-- Statuses and effects are unchanged: 0 written; 2 wrong expected revision; 5 some event ids already stored.
CREATE OR REPLACE FUNCTION event_store.append_events(
    p_stream text, p_category text, p_expected bigint,
    p_ids uuid[], p_types text[], p_versions int[], p_data text[],
    p_tenants text[], p_environments text[], p_actors text[], p_correlations text[], p_causations text[],
    p_created_at timestamptz)
RETURNS TABLE (status int, current_revision bigint, last_tx_id bigint, last_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_current  bigint;
    v_count    int := cardinality(p_ids);
    v_inserted uuid[];
    v_tx       bigint;
    v_seq      bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));

    SELECT s.revision INTO v_current FROM event_store.streams s WHERE s.stream_name = p_stream;
    IF NOT FOUND THEN
        v_current := -1;
    END IF;

    IF NOT (p_expected = -2
            OR (p_expected = -1 AND v_current = -1)
            OR (p_expected = -4 AND v_current >= 0)
            OR (p_expected >= 0 AND v_current = p_expected)) THEN
        IF EXISTS (SELECT 1 FROM event_store.events e WHERE e.event_id = ANY (p_ids)) THEN
            RETURN QUERY SELECT 5, v_current, 0::bigint, 0::bigint;
        ELSE
            RETURN QUERY SELECT 2, v_current, 0::bigint, 0::bigint;
        END IF;
        RETURN;
    END IF;

    WITH inserted AS (
        INSERT INTO event_store.events (event_id, stream_name, category, revision, type, schema_version, data,
                                        tenant_id, environment, actor, correlation_id, causation_id, created_at)
        SELECT u.id, p_stream, p_category, v_current + u.ord, u.type, u.version, u.data::json,
               u.tenant, u.environment, u.actor, u.correlation, u.causation, p_created_at
        FROM unnest(p_ids, p_types, p_versions, p_data, p_tenants, p_environments, p_actors, p_correlations, p_causations)
             WITH ORDINALITY AS u(id, type, version, data, tenant, environment, actor, correlation, causation, ord)
        ORDER BY u.ord
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_store.events.event_id, event_store.events.tx_id, event_store.events.seq)
    SELECT array_agg(i.event_id), max(i.tx_id), max(i.seq) INTO v_inserted, v_tx, v_seq FROM inserted i;

    IF coalesce(cardinality(v_inserted), 0) < v_count THEN
        -- Some ids are stored already: undo this call's rows (never visible to anyone) and let the caller decide.
        DELETE FROM event_store.events e WHERE e.event_id = ANY (v_inserted);
        RETURN QUERY SELECT 5, v_current, 0::bigint, 0::bigint;
        RETURN;
    END IF;

    INSERT INTO event_store.streams AS s (stream_name, revision) VALUES (p_stream, v_current + v_count)
    ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision;

    RETURN QUERY SELECT 0, v_current + v_count, v_tx, v_seq;
END;
$$;

-- Tamper evidence (docs/adr/0016): each event's hash links it to the previous event of its stream,
--   hash(r) = sha256(hash(r - 1) || digest || int8send(r)),   32 zero bytes before the first hashed event,
-- where the digest (computed by the adapter over the event's id, stream, type, schema version, data as written, metadata
-- and created time) comes with the append. The stream's last hash is kept with its revision, so a deleted tail shows.
-- Events appended before this migration keep a NULL hash (a stream's unhashed prefix; verification counts them).
ALTER TABLE event_store.events ADD COLUMN IF NOT EXISTS hash bytea;
ALTER TABLE event_store.streams ADD COLUMN IF NOT EXISTS last_hash bytea;

DROP FUNCTION IF EXISTS event_store.append_events(text, text, bigint, uuid[], text[], int[], text[], text[], text[], text[], text[], text[], timestamptz);

CREATE FUNCTION event_store.append_events(
    p_stream text, p_category text, p_expected bigint,
    p_ids uuid[], p_types text[], p_versions int[], p_data text[],
    p_tenants text[], p_environments text[], p_actors text[], p_correlations text[], p_causations text[],
    p_created_at timestamptz, p_digests bytea[])
RETURNS TABLE (status int, current_revision bigint, last_tx_id bigint, last_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_current  bigint;
    v_prev     bytea;
    v_hashes   bytea[] := ARRAY[]::bytea[];
    v_count    int := cardinality(p_ids);
    v_inserted uuid[];
    v_tx       bigint;
    v_seq      bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));

    SELECT s.revision, s.last_hash INTO v_current, v_prev FROM event_store.streams s WHERE s.stream_name = p_stream;
    IF NOT FOUND THEN
        v_current := -1;
        v_prev := NULL;
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

    IF cardinality(p_digests) IS DISTINCT FROM v_count THEN
        RAISE EXCEPTION 'append_events: % events but % digests', v_count, cardinality(p_digests);
    END IF;
    v_prev := coalesce(v_prev, decode(repeat('00', 32), 'hex'));
    FOR i IN 1 .. v_count LOOP
        v_prev := sha256(v_prev || p_digests[i] || int8send(v_current + i));
        v_hashes := v_hashes || v_prev;
    END LOOP;

    WITH inserted AS (
        INSERT INTO event_store.events (event_id, stream_name, category, revision, type, schema_version, data,
                                        tenant_id, environment, actor, correlation_id, causation_id, created_at, hash)
        SELECT u.id, p_stream, p_category, v_current + u.ord, u.type, u.version, u.data::json,
               u.tenant, u.environment, u.actor, u.correlation, u.causation, p_created_at, u.hash
        FROM unnest(p_ids, p_types, p_versions, p_data, p_tenants, p_environments, p_actors, p_correlations, p_causations, v_hashes)
             WITH ORDINALITY AS u(id, type, version, data, tenant, environment, actor, correlation, causation, hash, ord)
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

    INSERT INTO event_store.streams AS s (stream_name, revision, last_hash) VALUES (p_stream, v_current + v_count, v_prev)
    ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision, last_hash = EXCLUDED.last_hash;

    RETURN QUERY SELECT 0, v_current + v_count, v_tx, v_seq;
END;
$$;

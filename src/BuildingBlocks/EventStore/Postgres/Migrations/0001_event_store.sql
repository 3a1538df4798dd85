-- Event store on PostgreSQL. See docs/adr/0003 for why $all is ordered by (tx_id, seq).
CREATE SCHEMA IF NOT EXISTS event_store;

CREATE TABLE event_store.streams (
    stream_name text PRIMARY KEY,
    revision    bigint NOT NULL
);

CREATE TABLE event_store.events (
    -- The writing transaction's id. A reader only reads rows with tx_id below its snapshot's xmin, so no
    -- transaction still in flight can later commit a row that sorts before what the reader has seen.
    tx_id          bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    event_id       uuid   NOT NULL,
    stream_name    text   NOT NULL,
    category       text   NOT NULL,
    revision       bigint NOT NULL,
    type           text   NOT NULL,
    schema_version int    NOT NULL,
    data           json   NOT NULL,   -- json, not jsonb: the bytes written are the bytes read (hash chain).
    tenant_id      text,
    environment    text,
    actor          text,
    correlation_id text,
    causation_id   text,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tx_id, seq),
    CONSTRAINT events_stream_revision_key UNIQUE (stream_name, revision),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

-- Appends a batch to one stream in one round trip. Returns status:
--   0 written; 2 wrong expected revision (actual in current_revision); 5 some event ids already stored
--   (the caller applies the idempotence rule). Nothing is written unless status = 0.
-- The per-stream advisory lock is taken before the first write, so the transaction id (assigned at the first
-- write) of a later writer to the same stream is always greater: revision order agrees with $all order.
CREATE FUNCTION event_store.append_events(
    p_stream text, p_category text, p_expected bigint,
    p_ids uuid[], p_types text[], p_versions int[], p_data text[],
    p_tenants text[], p_environments text[], p_actors text[], p_correlations text[], p_causations text[],
    p_created_at timestamptz)
RETURNS TABLE (status int, current_revision bigint, last_tx_id bigint, last_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_current bigint;
    v_count   int := cardinality(p_ids);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));

    SELECT s.revision INTO v_current FROM event_store.streams s WHERE s.stream_name = p_stream;
    IF NOT FOUND THEN
        v_current := -1;
    END IF;

    IF EXISTS (SELECT 1 FROM event_store.events e WHERE e.event_id = ANY (p_ids)) THEN
        RETURN QUERY SELECT 5, v_current, 0::bigint, 0::bigint;
        RETURN;
    END IF;

    IF NOT (p_expected = -2
            OR (p_expected = -1 AND v_current = -1)
            OR (p_expected = -4 AND v_current >= 0)
            OR (p_expected >= 0 AND v_current = p_expected)) THEN
        RETURN QUERY SELECT 2, v_current, 0::bigint, 0::bigint;
        RETURN;
    END IF;

    INSERT INTO event_store.streams AS s (stream_name, revision) VALUES (p_stream, v_current + v_count)
    ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision;

    RETURN QUERY
    WITH inserted AS (
        INSERT INTO event_store.events (event_id, stream_name, category, revision, type, schema_version, data,
                                        tenant_id, environment, actor, correlation_id, causation_id, created_at)
        SELECT u.id, p_stream, p_category, v_current + u.ord, u.type, u.version, u.data::json,
               u.tenant, u.environment, u.actor, u.correlation, u.causation, p_created_at
        FROM unnest(p_ids, p_types, p_versions, p_data, p_tenants, p_environments, p_actors, p_correlations, p_causations)
             WITH ORDINALITY AS u(id, type, version, data, tenant, environment, actor, correlation, causation, ord)
        ORDER BY u.ord
        RETURNING event_store.events.tx_id, event_store.events.seq)
    SELECT 0, v_current + v_count, max(i.tx_id), max(i.seq) FROM inserted i;
END;
$$;

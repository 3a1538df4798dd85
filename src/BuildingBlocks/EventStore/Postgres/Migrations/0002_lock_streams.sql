-- Group commit (docs/adr/0013): several appends, to several streams, in one transaction. Their per-stream advisory locks
-- are all taken first, in one global order (by lock key), before the transaction's first write:
--   * transactions that lock several streams cannot deadlock on each other (same order everywhere);
--   * the transaction id, assigned at the first write, still comes after every stream lock it holds, so for every stream
--     written a later writer's tx_id is greater: revision order keeps agreeing with $all order (docs/adr/0003).
-- append_events then takes each lock again, which a transaction already holding it passes at once.
CREATE FUNCTION event_store.lock_streams(p_streams text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_key bigint;
BEGIN
    FOR v_key IN SELECT DISTINCT hashtextextended(s, 0) FROM unnest(p_streams) AS s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(v_key);
    END LOOP;
END;
$$;

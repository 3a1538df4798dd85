-- Where the hash chain began (docs/adr/0016). Since migration 0005 every append hashes its events, so the only events
-- without a hash are those stored before it: this records the last of them (0_0 on a store that had none). An event after
-- this position without a hash had its hash removed — nulling a whole stream's hashes no longer passes it off as history
-- recorded before the chain.
CREATE TABLE event_store.chain_start (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    tx_id     bigint  NOT NULL,
    seq       bigint  NOT NULL
);
INSERT INTO event_store.chain_start (tx_id, seq)
SELECT COALESCE(last.tx_id, 0), COALESCE(last.seq, 0)
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT tx_id, seq FROM event_store.events WHERE hash IS NULL ORDER BY tx_id DESC, seq DESC LIMIT 1) AS last ON true;

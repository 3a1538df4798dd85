-- Where the hash chain began (docs/adr/0016): the last event stored without a hash, before migration 0003 made hashing
-- part of every append (0 on a store that had none). An event after it without a hash had its hash removed.
CREATE TABLE es_chain_start (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    position  INTEGER NOT NULL
);
INSERT INTO es_chain_start (singleton, position) SELECT 1, COALESCE(MAX(position), 0) FROM es_events WHERE hash IS NULL;

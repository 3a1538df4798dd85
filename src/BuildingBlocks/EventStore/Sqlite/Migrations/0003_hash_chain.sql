-- Tamper evidence (docs/adr/0016): each event's hash links it to the previous event of its stream (computed by the
-- adapter at append); the stream's last hash is kept with its revision, so a deleted tail shows. Events appended before
-- this migration keep a NULL hash (a stream's unhashed prefix; verification counts them).
ALTER TABLE es_events ADD COLUMN hash BLOB NULL;
ALTER TABLE es_streams ADD COLUMN last_hash BLOB NULL;

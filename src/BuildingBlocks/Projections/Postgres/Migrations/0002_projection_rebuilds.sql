-- One rebuild per projection at a time, across processes and instances (docs/adr/0016): the rebuilder's claim, renewed
-- while it replays; it lapses at expires_ms (Unix ms) when not renewed (a crashed rebuilder).
CREATE TABLE projection_rebuilds (
    name         text   PRIMARY KEY,
    owner        text   NOT NULL,
    expires_ms   bigint NOT NULL
);

-- One rebuild per projection at a time, across processes (docs/adr/0016): the rebuilder's claim, renewed while it
-- replays; it lapses at expires_ms (Unix ms) when not renewed (a crashed rebuilder).
CREATE TABLE projection_rebuilds (
    name         TEXT    PRIMARY KEY,
    owner        TEXT    NOT NULL,
    expires_ms   INTEGER NOT NULL
) WITHOUT ROWID;

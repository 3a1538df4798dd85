-- One rebuild per projection at a time, across processes and instances (docs/adr/0016): the rebuilder's claim, renewed
-- while it replays, lapses when it is not renewed (a crashed rebuilder).
CREATE TABLE projection_rebuilds (
    name         text   PRIMARY KEY,
    owner        text   NOT NULL,
    renewed_ms   bigint NOT NULL
);

-- Grants shared by several instances.
--   mi_grants.version  counts the writes of a grant's token cache: a cache is written back only over the version it
--                      was read at (compare-and-set), so an instance that refreshed from a stale copy never
--                      overwrites a newer grant (a rotated refresh token).
--   mi_locks           named locks (SELECT ... FOR UPDATE of a row): one refresh of a connection's tokens at a time
--                      across every instance.
ALTER TABLE mi_grants ADD COLUMN IF NOT EXISTS version BIGINT DEFAULT 0 NOT NULL;
CREATE TABLE IF NOT EXISTS mi_locks (
    name            VARCHAR(200)  NOT NULL PRIMARY KEY
);

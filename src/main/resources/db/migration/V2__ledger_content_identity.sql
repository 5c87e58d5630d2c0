-- A Message-ID is not unique (resent mail, broken senders, lists): another key with the same Message-ID is the same
-- message only when its bytes are the same.
--   content_sha256  SHA-256 (hex) of the raw message as delivered or rejected
--   content_size    its size in bytes, also kept when a message was rejected without being read (over rules.max-size
--                   by its listed size); such a message is recognised after a move back by Message-ID and exact size
ALTER TABLE mi_ledger ADD COLUMN IF NOT EXISTS content_sha256 VARCHAR(64);
ALTER TABLE mi_ledger ADD COLUMN IF NOT EXISTS content_size BIGINT;

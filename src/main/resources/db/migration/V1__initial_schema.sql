-- Mail Intake store schema as first released (Flyway migration 1). Plain SQL accepted by H2 and PostgreSQL.
-- Instants are stored as epoch milliseconds (UTC) so no database or JVM time zone can shift them.

-- The exactly-once ledger: one row per message per mailbox.
--   state DELIVERED  delivered to the target, not yet moved to Processed
--         PROCESSED  delivered and moved to Processed
--         FAILING    delivery failed (attempts counts them); the message stays in the Inbox
--         REJECTED   decided to go to Error (reason); the move may still be pending
--         ERROR      moved to Error
CREATE TABLE IF NOT EXISTS mi_ledger (
    mailbox             VARCHAR(100)  NOT NULL,
    message_key         VARCHAR(512)  NOT NULL,
    internet_message_id VARCHAR(998),
    state               VARCHAR(16)   NOT NULL,
    reason              VARCHAR(2000),
    attempts            INTEGER       NOT NULL DEFAULT 0,
    first_failure_at    BIGINT,
    delivered_at        BIGINT,
    updated_at          BIGINT        NOT NULL,
    location            VARCHAR(2000),
    PRIMARY KEY (mailbox, message_key)
);
CREATE INDEX IF NOT EXISTS mi_ledger_imid ON mi_ledger (mailbox, internet_message_id);

-- Delegated grants, one per connection: msal4j's token cache (or a generic provider's tokens), AES-GCM encrypted.
--   fingerprint  what the grant was issued for (provider, tenant, client id, scopes); a mismatch means re-authorize
--   state        AUTHORIZED or REAUTHORIZATION_REQUIRED (reason says why and what to do); problems of the app
--                registration (ADMIN_MUST_FIX) are not the grant's and are not stored here
CREATE TABLE IF NOT EXISTS mi_grants (
    connection      VARCHAR(100)  NOT NULL PRIMARY KEY,
    fingerprint     VARCHAR(100)  NOT NULL,
    cache           VARCHAR(200000),
    account         VARCHAR(320),
    state           VARCHAR(32)   NOT NULL,
    reason          VARCHAR(2000),
    authorized_at   BIGINT,
    refreshed_at    BIGINT,
    updated_at      BIGINT        NOT NULL
);

-- Pending authorizations: one-time `state` values bound to a connection, with the PKCE verifier (encrypted).
CREATE TABLE IF NOT EXISTS mi_oauth_states (
    state           VARCHAR(100)  NOT NULL PRIMARY KEY,
    connection      VARCHAR(100)  NOT NULL,
    verifier        VARCHAR(500)  NOT NULL,
    expires_at      BIGINT        NOT NULL,
    used            INTEGER       NOT NULL DEFAULT 0
);

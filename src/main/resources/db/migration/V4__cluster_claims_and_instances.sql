-- Several instances on one PostgreSQL store.
-- mi_claims: which instance is importing a message now. A claim is taken with an insert (or by taking over one whose
--   lease ran out) and renewed, conditionally on still being held, just before the delivery: an instance that lost a
--   mailbox during a pause (fencing) finds its claim taken and delivers nothing.
CREATE TABLE IF NOT EXISTS mi_claims (
    mailbox         VARCHAR(100)  NOT NULL,
    message_key     VARCHAR(512)  NOT NULL,
    owner           VARCHAR(300)  NOT NULL,
    claimed_at      BIGINT        NOT NULL,
    PRIMARY KEY (mailbox, message_key)
);
-- mi_instances: the running instances, with a heartbeat and the namespaces (mailboxes) each owns; without a cluster
--   service a second instance on the same store is refused (it would import every mailbox twice).
CREATE TABLE IF NOT EXISTS mi_instances (
    instance_id     VARCHAR(300)  NOT NULL PRIMARY KEY,
    host            VARCHAR(300)  NOT NULL,
    cluster_service VARCHAR(32)   NOT NULL,
    started_at      BIGINT        NOT NULL,
    heartbeat_at    BIGINT        NOT NULL,
    owns            VARCHAR(1000000)
);

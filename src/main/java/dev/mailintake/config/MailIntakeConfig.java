package dev.mailintake.config;

import java.nio.file.Path;
import java.util.Map;

/** The whole validated configuration: connections and mailboxes by name, the store and the data directory. */
public record MailIntakeConfig(
        Path dataDir,
        StoreConfig store,
        AdminConfig admin,
        RefreshConfig refresh,
        AlertsConfig alerts,
        ClusterConfig cluster,
        Map<String, ConnectionConfig> connections,
        Map<String, MailboxConfig> mailboxes) {

    public ConnectionConfig connectionOf(MailboxConfig mailbox) {
        return connections.get(mailbox.connection());
    }
}

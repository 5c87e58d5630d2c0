package dev.mailintake.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How several instances share the mailboxes: each mailbox (and the refresh-tokens route) is a {@code master:} route
 * owned by one instance at a time through a Camel cluster service.
 *
 * @param service        none (one instance per store), file (a lock directory several processes of one host or a
 *                       shared volume see) or zookeeper
 * @param fileRoot       the shared directory of the file-lock service
 * @param zookeeperNodes {@code host:port,…} of the ZooKeeper ensemble
 * @param instanceId     this instance's name among the others (default: host name and data directory)
 * @param claimLease     how long a claim on a message holds without renewal before another instance may take the
 *                       message over (after its owner died or was paused)
 */
public record ClusterConfig(Service service, Optional<Path> fileRoot, Optional<String> zookeeperNodes,
                            String instanceId, java.time.Duration claimLease) {
    /** The coordination engine. */
    public enum Service {
        NONE,
        FILE,
        ZOOKEEPER
    }

    public boolean clustered() {
        return service != Service.NONE;
    }
}

package dev.mailintake.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How several instances share the mailboxes: each mailbox (and the refresh-tokens route) is a {@code master:} route
 * owned by one instance at a time through a Camel cluster service.
 *
 * @param service        none (one instance per store), file (a lock directory several processes of one host or a
 *                       shared volume see), zookeeper, or kubernetes (Leases)
 * @param fileRoot       the shared directory of the file-lock service
 * @param zookeeperNodes {@code host:port,…} of the ZooKeeper ensemble
 * @param kubernetes     the Lease settings of the kubernetes service
 * @param instanceId     this instance's name among the others (default: host name and data directory, in Kubernetes
 *                       the pod's name)
 * @param claimLease     how long a claim on a message holds without renewal before another instance may take the
 *                       message over (after its owner died or was paused)
 */
public record ClusterConfig(Service service, Optional<Path> fileRoot, Optional<String> zookeeperNodes,
                            Optional<Kubernetes> kubernetes, String instanceId, Duration claimLease) {
    /** The coordination engine. */
    public enum Service {
        NONE,
        FILE,
        ZOOKEEPER,
        KUBERNETES
    }

    /** Without Kubernetes settings (the other services). */
    public ClusterConfig(Service service, Optional<Path> fileRoot, Optional<String> zookeeperNodes, String instanceId,
                         Duration claimLease) {
        this(service, fileRoot, zookeeperNodes, Optional.empty(), instanceId, claimLease);
    }

    public boolean clustered() {
        return service != Service.NONE;
    }

    /**
     * Camel's Kubernetes cluster service: one Lease ({@code coordination.k8s.io/v1}) per mailbox, whose holder is
     * valid while its pod is among the Running and Ready pods with {@code labels}.
     *
     * @param namespace     the Kubernetes namespace of the Leases and the pods
     * @param podName       this pod's name: the Leases' holder identity
     * @param labels        the labels of the member pods
     * @param masterUrl     the API server; empty: the in-cluster configuration (service account)
     * @param leaseDuration how long a new holder waits before it starts the route (so the old one has stopped)
     * @param renewDeadline how long a holder keeps running its routes without a successful renewal
     * @param retryPeriod   how often every instance reads each Lease and the member pods (times up to 1.2)
     */
    public record Kubernetes(String namespace, String podName, Map<String, String> labels, Optional<URI> masterUrl,
                             Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        /** Camel's jitter factor: each retry waits between 1 and 1.2 retry periods. */
        public static final double JITTER = 1.2;
    }
}

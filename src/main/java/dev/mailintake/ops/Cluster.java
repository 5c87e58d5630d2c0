package dev.mailintake.ops;

import dev.mailintake.config.ClusterConfig;
import dev.mailintake.store.Instances;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.component.file.cluster.FileLockClusterService;
import org.apache.camel.component.zookeeper.cluster.ZooKeeperClusterService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance among the others on one store. Clustered, each mailbox's route and the refresh-tokens route are
 * {@code master:} routes of their own namespace on Camel's cluster service (a file lock, ZooKeeper or Kubernetes
 * Leases), so mailboxes spread over the instances and each fails over when its owner dies; alone ({@code none}), the
 * instance refuses to start while another one runs on the same store. Every instance keeps a heartbeat in the store.
 */
public final class Cluster {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);
    private static final String PREFIX = "mailintake-";
    /** How often this instance tells the store it lives and what it owns. */
    private static final Duration HEARTBEAT = Duration.ofSeconds(5);

    /** How often this instance evens out the mailboxes with the others ({@link Rebalancer}). */
    private static final Duration REBALANCE = Duration.ofSeconds(5);

    private final ClusterConfig config;
    private final Instances instances;
    private final String host;
    private CamelClusterService service;
    private ScheduledExecutorService heartbeat;
    private ScheduledExecutorService rebalancing;
    private final java.util.Set<String> namespaces = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Mailbox namespace → route id: what the rebalancer may hand over. */
    private final java.util.Map<String, String> mailboxRoutes = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile List<Instances.Instance> others = List.of();

    public Cluster(ClusterConfig config, Instances instances) {
        this.config = config;
        this.instances = instances;
        String h;
        try {
            h = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            h = "localhost";
        }
        this.host = h;
    }

    /** Adds the cluster service to Camel (before the routes start). */
    public void join(CamelContext camel) {
        service = switch (config.service()) {
            case NONE -> null;
            case FILE -> {
                FileLockClusterService f = new FileLockClusterService();
                f.setRoot(config.fileRoot().orElseThrow().toString());
                f.setAcquireLockDelay(1, TimeUnit.SECONDS);
                f.setAcquireLockInterval(2, TimeUnit.SECONDS);
                yield f;
            }
            case ZOOKEEPER -> {
                ZooKeeperClusterService z = new ZooKeeperClusterService();
                z.setNodes(config.zookeeperNodes().orElseThrow());
                z.setBasePath("/mail-intake/cluster");
                z.setSessionTimeout(Duration.ofSeconds(10).toMillis());
                z.setConnectTimeout(Duration.ofSeconds(10).toMillis());
                yield z;
            }
            // a class of its own: fabric8 and camel-kubernetes are loaded only here
            case KUBERNETES -> KubernetesLeases.service(config.kubernetes().orElseThrow());
        };
        if (service != null) {
            service.setId(config.instanceId());
            try {
                camel.addService(service);
            } catch (Exception e) {
                throw new IllegalStateException("cannot add the " + config.service() + " cluster service", e);
            }
        }
    }

    /** {@code uri} as a route consumer that only this namespace's owner runs (unchanged when not clustered). */
    public String owned(String namespace, String uri) {
        namespaces.add(namespace);
        return service == null ? uri : "master:" + PREFIX + namespace + ":" + uri;
    }

    /** A mailbox's route consumer ({@link #owned}), which the instances even out among themselves. */
    public String ownedMailbox(String namespace, String routeId, String uri) {
        mailboxRoutes.put(namespace, routeId);
        return owned(namespace, uri);
    }

    /**
     * Before the routes start: alone on a store means alone — another instance without a cluster service (or any
     * instance, when this one has none) would import the same mailboxes. Then the heartbeat starts.
     */
    public void start(CamelContext camel) {
        List<Instances.Instance> others = instances.othersAlive(config.instanceId());
        List<Instances.Instance> conflicting = others.stream()
                .filter(o -> !config.clustered() || o.clusterService().equals("NONE")).toList();
        if (!conflicting.isEmpty()) {
            Instances.Instance o = conflicting.get(0);
            throw new IllegalStateException("Mail Intake cannot start: instance " + o.id() + " on " + o.host()
                    + " (heartbeat " + o.heartbeatAgeSeconds() + " s ago) uses the same store "
                    + (o.clusterService().equals("NONE") ? "without a cluster service" : "with a cluster service")
                    + (config.clustered() ? "" : ", and this one has none")
                    + "; every mailbox would be imported twice. Set mailintake.cluster.service (file, zookeeper or kubernetes) on"
                    + " every instance, or stop the other one");
        }
        instances.heartbeat(config.instanceId(), host, config.service().name(), List.of());
        this.others = others;
        heartbeat = camel.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "instance-heartbeat");
        heartbeat.scheduleWithFixedDelay(() -> {
            try {
                instances.heartbeat(config.instanceId(), host, config.service().name(),
                        namespaces.stream().filter(this::owns).toList());
                this.others = instances.othersAlive(config.instanceId());
            } catch (RuntimeException e) {
                LOG.warn("cannot record this instance's heartbeat: {}", e.getMessage());
            }
        }, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        // ZooKeeper only: Camel 4.18's file-lock view, started again after a stop, trips over the lock it released
        // (a logged ClosedChannelException) — and the file lock is for two processes on one host anyway
        if (config.service() == ClusterConfig.Service.ZOOKEEPER && !mailboxRoutes.isEmpty()) {
            Rebalancer rebalancer = new Rebalancer(camel, config.service().name(), mailboxRoutes);
            rebalancing = camel.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "rebalance");
            rebalancing.scheduleWithFixedDelay(() -> {
                try {
                    rebalancer.round(namespaces.stream().filter(this::owns).collect(java.util.stream.Collectors
                            .toSet()), this.others);
                } catch (RuntimeException e) {
                    LOG.warn("cannot even out the mailboxes with the other instances: {}", e.getMessage());
                }
            }, REBALANCE.toMillis(), REBALANCE.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (config.clustered()) {
            LOG.info("instance {} joins the {} cluster service; instances seen on the store: {}", config.instanceId(),
                    config.service().name().toLowerCase(), others.stream().map(Instances.Instance::id).toList());
        }
    }

    /** A clean stop: off the store's instance list. */
    public void stop() {
        if (rebalancing != null) {
            rebalancing.shutdownNow();
        }
        if (heartbeat != null) {
            heartbeat.shutdownNow();
            try {
                instances.leave(config.instanceId());
            } catch (RuntimeException e) {
                LOG.warn("cannot remove this instance from the store: {}", e.getMessage());
            }
        }
    }

    public boolean clustered() {
        return service != null;
    }

    public String instanceId() {
        return config.instanceId();
    }

    /**
     * Whether this instance runs the namespace's route now (always, when not clustered). Asked of the service, not of
     * a view: {@link CamelClusterService#getView} takes a reference on the view that only {@code releaseView} gives
     * back, and a view with a reference left outlives its route — a mailbox route stopped (JMX, a failed mailbox) would
     * keep its leadership, and no other instance would ever take the mailbox over.
     */
    public boolean owns(String namespace) {
        return service == null || service.isLeader(PREFIX + namespace);
    }

    /**
     * The instance that runs the namespace's route now, if known: this one, or the one whose last heartbeat (every
     * few seconds) said it owns it.
     */
    public Optional<String> owner(String namespace) {
        if (service == null || owns(namespace)) {
            return Optional.of(config.instanceId());
        }
        return others.stream().filter(o -> o.owns().contains(namespace)).map(Instances.Instance::id).findFirst();
    }
}

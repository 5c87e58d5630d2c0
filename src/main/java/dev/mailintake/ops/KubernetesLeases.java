package dev.mailintake.ops;

import dev.mailintake.config.ClusterConfig;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.component.kubernetes.KubernetesConfiguration;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterService;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterView;
import org.apache.camel.component.kubernetes.cluster.LeaseResourceType;
import org.apache.camel.component.kubernetes.cluster.lock.KubernetesLockConfiguration;

/**
 * {@code cluster.service=kubernetes}: camel-kubernetes' {@link KubernetesClusterService} on Leases
 * ({@code coordination.k8s.io/v1}), one Lease per namespace, named {@code mail-intake-<namespace>}. How Camel decides
 * (4.18): every retry period each instance reads the Lease and lists the pods with the cluster labels; the holder is
 * valid while its pod is among the Running and Ready ones (the Lease's renew time is not consulted). A pod takes a
 * Lease whose holder is not valid with an update that carries the Lease's {@code resourceVersion} (optimistic
 * locking: of two pods only one succeeds), then waits the lease duration before it starts the route; a holder that
 * could not renew for the renew deadline stops it.
 *
 * <p>Only {@link Cluster} calls this, and only for {@code kubernetes}: no fabric8 or Vert.x class is loaded otherwise.
 * Camel would build one Kubernetes client, each with its own Vert.x, per namespace (mailbox); here every namespace's
 * client shares one Vert.x, closed with the service.
 */
final class KubernetesLeases extends KubernetesClusterService {
    /** The Leases' name prefix: {@code mail-intake-mailintake-mailbox-<name>}. */
    static final String LEASE_PREFIX = "mail-intake";

    private final Config config;
    private Vertx vertx;

    private KubernetesLeases(Config config) {
        this.config = config;
    }

    /** The cluster service for these settings. */
    static CamelClusterService service(ClusterConfig.Kubernetes k) {
        Config base = k.masterUrl().isPresent()
                ? new ConfigBuilder(Config.autoConfigure(null)).withMasterUrl(k.masterUrl().get().toString()).build()
                : Config.autoConfigure(null);
        // as Camel does: requests fail well within the renew deadline, so a stale connection never costs the Leases
        int timeout = (int) Math.min(30_000, Math.max(3_000, k.renewDeadline().toMillis() / 3));
        Config config = new ConfigBuilder(base).withNamespace(k.namespace()).withConnectionTimeout(timeout)
                .withRequestTimeout(timeout).build();
        KubernetesLeases s = new KubernetesLeases(config);
        s.setLeaseResourceType(LeaseResourceType.Lease);
        s.setKubernetesResourceName(LEASE_PREFIX);
        s.setKubernetesResourcesNamespace(k.namespace());
        s.setNamespace(k.namespace());
        s.setPodName(k.podName());
        s.setClusterLabels(new java.util.HashMap<>(k.labels()));
        s.setJitterFactor(ClusterConfig.Kubernetes.JITTER);
        s.setLeaseDurationMillis(k.leaseDuration().toMillis());
        s.setRenewDeadlineMillis(k.renewDeadline().toMillis());
        s.setRetryPeriodMillis(k.retryPeriod().toMillis());
        return s;
    }

    @Override
    protected KubernetesClusterView createView(String namespace) throws Exception {
        KubernetesLockConfiguration lock = lockConfigWithGroupNameAndDefaults(namespace);
        KubernetesConfiguration c = new KubernetesConfiguration();
        // the view closes its client when it stops; the shared Vert.x stays until the service stops
        c.setKubernetesClient(new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(new VertxHttpClientFactory(vertx())).build());
        return new KubernetesClusterView(getCamelContext(), this, c, lock);
    }

    private synchronized Vertx vertx() {
        if (vertx == null) {
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
                    .setInternalBlockingPoolSize(2));
        }
        return vertx;
    }

    @Override
    protected void doStop() throws Exception {
        try {
            super.doStop();
        } finally {
            synchronized (this) {
                if (vertx != null) {
                    vertx.close();
                    vertx = null;
                }
            }
        }
    }
}

package dev.mailintake.ops;

import dev.mailintake.config.ClusterConfig;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.component.kubernetes.KubernetesConfiguration;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterService;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterView;
import org.apache.camel.component.kubernetes.cluster.LeaseResourceType;
import org.apache.camel.component.kubernetes.cluster.lock.KubernetesLockConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesLeases.class);

    private final Config config;
    private final ClusterConfig.Kubernetes settings;
    private Vertx vertx;

    private KubernetesLeases(Config config, ClusterConfig.Kubernetes settings) {
        this.config = config;
        this.settings = settings;
    }

    /** The cluster service for these settings. */
    static CamelClusterService service(ClusterConfig.Kubernetes k) {
        Config base = k.masterUrl().isPresent()
                ? new ConfigBuilder(Config.autoConfigure(null)).withMasterUrl(k.masterUrl().get().toString()).build()
                : Config.autoConfigure(null);
        // as Camel does: requests fail well within the renew deadline, so a stale connection never costs the Leases
        int timeout = (int) Math.min(30_000, Math.max(3_000, k.renewDeadline().toMillis() / 3));
        // no retries inside the client: Camel's controller tries again every retry period, and a request retried with
        // back-off for longer than the renew deadline only keeps the controller from noticing
        Config config = new ConfigBuilder(base).withNamespace(k.namespace()).withConnectionTimeout(timeout)
                .withRequestTimeout(timeout).withRequestRetryBackoffLimit(0).build();
        KubernetesLeases s = new KubernetesLeases(config, k);
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

    /**
     * Before the views start: what Camel's controller would only log at DEBUG every retry period. A refused request
     * (401/403: the token or the Role) stops the start with the fix; an unreachable API server is logged with its
     * reason (the controller keeps trying); a pod that is not among the labelled pods is told it will own nothing.
     */
    @Override
    protected void doStart() throws Exception {
        try (KubernetesClient client = client()) {
            List<String> pods = client.pods().inNamespace(settings.namespace()).withLabels(settings.labels()).list()
                    .getItems().stream().map(p -> p.getMetadata().getName()).toList();
            client.leases().inNamespace(settings.namespace()).withName(LEASE_PREFIX + "-mailintake-refresh-tokens")
                    .get();
            if (!pods.contains(settings.podName())) {
                LOG.warn("pod {} is not among the pods labelled {} in namespace {} ({}): it takes no Lease and owns no"
                        + " mailbox; check mailintake.cluster.kubernetes.labels and .pod-name (POD_NAME)",
                        settings.podName(), settings.labels(), settings.namespace(), pods);
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 401 || e.getCode() == 403) {
                throw new IllegalStateException("the Kubernetes API server refuses this pod's requests in namespace "
                        + settings.namespace() + " (HTTP " + e.getCode() + "): the ServiceAccount needs get, create"
                        + " and update on leases (coordination.k8s.io) and list on pods there, as the Role of"
                        + " deploy/kubernetes/rbac.yaml grants, and its token mounted (automountServiceAccountToken)",
                        e);
            }
            LOG.warn("cannot reach the Kubernetes API server at {} yet: {}; the Leases are tried every {}",
                    config.getMasterUrl(), e.getMessage(), settings.retryPeriod());
        }
        super.doStart();
    }

    private KubernetesClient client() {
        return new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(new VertxHttpClientFactory(vertx())).build();
    }

    @Override
    protected KubernetesClusterView createView(String namespace) throws Exception {
        KubernetesLockConfiguration lock = lockConfigWithGroupNameAndDefaults(namespace);
        KubernetesConfiguration c = new KubernetesConfiguration();
        // the view closes its client when it stops; the shared Vert.x stays until the service stops
        c.setKubernetesClient(client());
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

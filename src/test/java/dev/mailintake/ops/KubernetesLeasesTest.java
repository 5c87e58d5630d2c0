package dev.mailintake.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mailintake.config.ClusterConfig;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The start of the Kubernetes cluster service against an API server that answers as a cluster without the Role would
 * (fabric8's mock server with expectations): the start stops with the fix instead of Camel's controller logging
 * "Unable to retrieve the list of cluster members" every retry period.
 */
class KubernetesLeasesTest {
    private KubernetesMockServer server;
    private DefaultCamelContext camel;

    @BeforeEach
    void setUp() {
        server = new KubernetesMockServer(false);
        server.init();
        camel = new DefaultCamelContext();
    }

    @AfterEach
    void tearDown() throws Exception {
        camel.close();
        server.destroy();
    }

    private CamelClusterService service() {
        CamelClusterService s = KubernetesLeases.service(new ClusterConfig.Kubernetes("mail", "mail-intake-a",
                Map.of("app.kubernetes.io/name", "mail-intake"), Optional.of(URI.create(server.url("/"))),
                Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(5)));
        s.setCamelContext(camel);
        return s;
    }

    @Test
    void aServiceAccountWithoutTheRoleStopsTheStartWithTheFix() {
        server.expect().get().withPath("/api/v1/namespaces/mail/pods?labelSelector=app.kubernetes.io%2Fname%3Dmail-intake")
                .andReturn(403, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\","
                        + "\"code\":403,\"message\":\"pods is forbidden: User \\\"system:serviceaccount:mail:default\\\""
                        + " cannot list resource \\\"pods\\\"\"}").always();
        CamelClusterService s = service();
        assertThatThrownBy(s::start).hasStackTraceContaining("the Kubernetes API server refuses this pod's requests in"
                + " namespace mail (HTTP 403): the ServiceAccount needs get, create and update on leases"
                + " (coordination.k8s.io) and list on pods there, as the Role of deploy/kubernetes/rbac.yaml grants");
    }

    @Test
    void anApiServerThatDoesNotAnswerYetDoesNotStopTheStart() throws Exception {
        server.expect().get().withPath("/api/v1/namespaces/mail/pods?labelSelector=app.kubernetes.io%2Fname%3Dmail-intake")
                .andReturn(503, "{}").always();
        CamelClusterService s = service();
        s.start();
        assertThat(((org.apache.camel.support.service.ServiceSupport) s).isStarted()).isTrue();
        s.stop();
    }
}

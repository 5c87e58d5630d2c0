package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster.service=kubernetes}: two instances — separate JVMs on the application's class path, so without the
 * fabric8 model modules the pom leaves out — on one PostgreSQL store, against a Kubernetes API server: fabric8's
 * {@code kubernetes-server-mock} in CRUD mode (a stateful in-memory API server) in this JVM, holding the two Pod objects
 * (labelled as in deploy/kubernetes, Running and Ready) and the Leases.
 *
 * <p>Two of the mailboxes' Leases exist before the start, one held by each pod (as after a restart of both pods with
 * their names, e.g. containers restarted in place): each instance owns one mailbox for certain; the other mailboxes and
 * {@code refresh-tokens} go to whichever pod takes their new Lease first.
 *
 * <p>What the failover shows about Camel 4.18's Kubernetes cluster service: a holder is valid while its pod is among the
 * Running and Ready pods with the cluster labels, whatever the Lease's renew time says. A {@code kill -9}'d instance
 * whose Pod object still reads Running and Ready keeps its Leases (in a real cluster the kubelet then restarts the
 * container, or marks the pod not ready); once Kubernetes deletes the Pod object (or marks it not ready) the other
 * instance takes the Leases with an update carrying their {@code resourceVersion}, waits the lease duration and starts
 * the mailboxes. That optimistic locking is what makes two pods never both take one Lease:
 * {@link #theCrudServerRefusesALeaseUpdateWithAStaleResourceVersion} checks that the mock server honours it (409), as
 * the real API server does.
 */
class KubernetesClusterFailoverTest {
    private static final int MAILBOXES = 4;
    private static final String NAMESPACE = "mail";
    private static final Map<String, String> LABELS = Map.of("app.kubernetes.io/name", "mail-intake");
    private static final Duration LEASE = Duration.ofSeconds(4);
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private KubernetesMockServer server;
    private NamespacedKubernetesClient k8s;
    private GraphFake fake;
    private PgSchema schema;
    private final List<FakeMailbox> boxes = new ArrayList<>();
    private final List<AppProcess> instances = new ArrayList<>();
    private final Map<String, Integer> managementPorts = new LinkedHashMap<>();

    @BeforeEach
    void setUp() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        k8s = server.createClient();
    }

    @AfterEach
    void tearDown() throws Exception {
        instances.forEach(AppProcess::close);
        Path logs = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "cluster-kubernetes");
        Files.createDirectories(logs);
        for (AppProcess p : instances) {
            Files.write(logs.resolve("instance-" + p.pid() + ".log"), p.lines());
        }
        if (fake != null) {
            fake.close();
        }
        if (schema != null) {
            schema.close();
        }
        k8s.close();
        server.destroy();
    }

    @Test
    void theCrudServerRefusesALeaseUpdateWithAStaleResourceVersion() {
        Lease created = k8s.leases().inNamespace(NAMESPACE).resource(lease("mail-intake-probe", "pod-a")).create();
        String seen = created.getMetadata().getResourceVersion();
        Lease byB = new LeaseBuilder(created).editSpec().withHolderIdentity("pod-b").endSpec().build();
        Lease updated = k8s.leases().inNamespace(NAMESPACE).resource(byB).lockResourceVersion(seen).update();
        assertThat(updated.getMetadata().getResourceVersion()).isNotEqualTo(seen);
        // pod c read the Lease before b's update: its update carries the old resourceVersion and is refused
        Lease byC = new LeaseBuilder(created).editSpec().withHolderIdentity("pod-c").endSpec().build();
        assertThatThrownBy(() -> k8s.leases().inNamespace(NAMESPACE).resource(byC).lockResourceVersion(seen).update())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        assertThat(k8s.leases().inNamespace(NAMESPACE).withName("mail-intake-probe").get().getSpec()
                .getHolderIdentity()).isEqualTo("pod-b");
    }

    @Test
    void aKilledPodsMailboxesMoveToTheOtherPodOnceKubernetesRemovesItAndNothingIsLostOrDeliveredTwice()
            throws Exception {
        schema = PgSchema.create("mi_k8s");
        fake = TestApp.startFake();
        for (int i = 0; i < MAILBOXES; i++) {
            FakeMailbox box = fake.mailbox("m" + i + "@contoso.test");
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            boxes.add(box);
        }
        pod("mail-intake-a");
        pod("mail-intake-b");
        k8s.leases().inNamespace(NAMESPACE).resource(lease("mail-intake-mailintake-mailbox-m0", "mail-intake-a"))
                .create();
        k8s.leases().inNamespace(NAMESPACE).resource(lease("mail-intake-mailintake-mailbox-m1", "mail-intake-b"))
                .create();
        AppProcess a = start("mail-intake-a");
        start("mail-intake-b");
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            for (int i = 0; i < MAILBOXES; i++) {
                if (owner("mail-intake-a", i).isEmpty() || owner("mail-intake-b", i).isEmpty()) {
                    return false;
                }
            }
            return true;
        });
        List<String> owners = new ArrayList<>();
        for (int i = 0; i < MAILBOXES; i++) {
            owners.add(owner("mail-intake-a", i).orElseThrow());
            assertThat(owner("mail-intake-b", i)).as("both instances agree on m" + i).contains(owners.get(i));
            assertThat(holder("mail-intake-mailintake-mailbox-m" + i)).as("the Lease of m" + i).isEqualTo(owners.get(i));
        }
        System.out.println("cluster kubernetes: owners of m0..m3: " + owners);
        assertThat(owners).as("mailboxes split over both pods").contains("mail-intake-a", "mail-intake-b")
                .startsWith("mail-intake-a", "mail-intake-b");

        // mailbox m0's downloads are slow, so the kill comes in the middle of its import
        fake.fault(Fault.delay(Duration.ofMillis(400)).on("GET", ".*/\\$value").forMailbox("m0@contoso.test")
                .always());
        addMessages(20);
        await().atMost(Duration.ofSeconds(60)).until(() -> processed(0) >= 3);
        a.kill();
        Instant killed = Instant.now();

        // the Pod object still says Running and Ready: the Lease stays a's, whatever its renew time
        await().during(LEASE.multipliedBy(3)).atMost(LEASE.multipliedBy(4)).until(() ->
                !owner("mail-intake-b", 0).equals(Optional.of("mail-intake-b"))
                        && "mail-intake-a".equals(holder("mail-intake-mailintake-mailbox-m0")));
        // Kubernetes deletes the pod (a node drain, a scale-down, the kubelet reporting it gone); taken before the
        // request, so no takeover can precede it
        Instant deleted = Instant.now();
        k8s.pods().inNamespace(NAMESPACE).withName("mail-intake-a").delete();
        await().atMost(Duration.ofSeconds(60)).until(() ->
                owner("mail-intake-b", 0).equals(Optional.of("mail-intake-b")));
        Duration takeover = Duration.between(deleted, Instant.now());
        System.out.println("cluster kubernetes failover: mailbox m0 taken over by mail-intake-b "
                + takeover.toMillis() + " ms after its Pod object was deleted (" + Duration.between(killed,
                Instant.now()).toMillis() + " ms after kill -9; lease-duration " + LEASE.toSeconds()
                + " s, retry-period 1 s)");
        assertThat(holder("mail-intake-mailintake-mailbox-m0")).isEqualTo("mail-intake-b");
        // the new holder waits the lease duration after it took the Lease, which it can only do after the deletion
        assertThat(takeover).as("at least the lease duration").isGreaterThanOrEqualTo(LEASE);
        fake.clearFaults();
        assertDeliveredExactlyOnce(20);
        for (int i = 0; i < MAILBOXES; i++) {
            assertThat(owner("mail-intake-b", i)).as("m" + i).contains("mail-intake-b");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Lease lease(String name, String holder) {
        ZonedDateTime now = ZonedDateTime.now();
        return new LeaseBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec()
                .withHolderIdentity(holder).withAcquireTime(now).withRenewTime(now)
                .withLeaseDurationSeconds((int) LEASE.toSeconds()).endSpec().build();
    }

    /** A member pod as the kubelet reports it: labelled, Running and Ready. */
    private void pod(String name) {
        Pod pod = new PodBuilder().withNewMetadata().withName(name).withLabels(LABELS).endMetadata()
                .withNewSpec().addNewContainer().withName("mail-intake").withImage("mail-intake").endContainer()
                .endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True")
                .endCondition().endStatus().build();
        Pod created = k8s.pods().inNamespace(NAMESPACE).resource(pod).create();
        if (created.getStatus() == null || !"Running".equals(created.getStatus().getPhase())) {
            k8s.pods().inNamespace(NAMESPACE).resource(new PodBuilder(created).withStatus(pod.getStatus()).build())
                    .updateStatus();
        }
        assertThat(k8s.pods().inNamespace(NAMESPACE).withName(name).get().getStatus().getPhase()).isEqualTo("Running");
    }

    private String holder(String lease) {
        Lease l = k8s.leases().inNamespace(NAMESPACE).withName(lease).get();
        return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
    }

    private AppProcess start(String podName) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.data-dir", tmp.resolve(podName).toString());
        s.put("mailintake.store.url", schema.url());
        s.put("mailintake.store.user", "postgres");
        s.put("mailintake.cluster.claim-lease", "8s");
        s.put("mailintake.cluster.service", "kubernetes");
        s.put("mailintake.cluster.kubernetes.master-url", k8s.getMasterUrl().toString());
        s.put("mailintake.cluster.kubernetes.namespace", NAMESPACE);
        s.put("mailintake.cluster.kubernetes.pod-name", podName);
        s.put("mailintake.cluster.kubernetes.lease-duration", LEASE.toSeconds() + "s");
        s.put("mailintake.cluster.kubernetes.renew-deadline", "3s");
        s.put("mailintake.cluster.kubernetes.retry-period", "1s");
        int port = AppProcess.freePort();
        managementPorts.put(podName, port);
        s.put("camel.management.port", String.valueOf(port));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        for (int i = 0; i < MAILBOXES; i++) {
            String k = "mailintake.mailboxes.m" + i + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", "m" + i + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "target", "folder:" + tmp.resolve("out"));
        }
        Path config = AppProcess.configFile(tmp.resolve(podName + ".properties"), s);
        // no HOSTNAME / POD_NAME of the test's shell: the pod name comes from the key
        AppProcess p = AppProcess.start(tmp, Map.of(), "--config", config.toString());
        instances.add(p);
        return p;
    }

    /** Who owns mailbox {@code i}, as instance {@code askedId} sees it (its health details). */
    private Optional<String> owner(String askedId, int i) {
        try {
            String body = TestApp.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + managementPorts.get(askedId) + "/observe/health?data=true")).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode check : JSON.readTree(body).path("checks")) {
                if (check.path("name").asText().equals("mailbox-m" + i)) {
                    String owner = check.path("data").path("owner").asText("");
                    return owner.isEmpty() || owner.equals("none yet") ? Optional.empty() : Optional.of(owner);
                }
            }
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private void addMessages(int perMailbox) {
        for (int i = 0; i < MAILBOXES; i++) {
            for (int n = 0; n < perMailbox; n++) {
                boxes.get(i).addMessage("inbox", Mimes.pdfMessage("<m" + i + "-" + n + "@example.com>",
                        "m" + i + " " + n, 300), T0.plusSeconds(n));
            }
        }
    }

    private int processed(int i) {
        return boxes.get(i).messagesIn("Inbox/Processed").size();
    }

    /** Every message exactly once in the shared target, each mailbox's Inbox empty, the ledger all processed. */
    private void assertDeliveredExactlyOnce(int perMailbox) throws Exception {
        int total = MAILBOXES * perMailbox;
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            int sum = 0;
            for (int i = 0; i < MAILBOXES; i++) {
                sum += processed(i);
            }
            return sum == total;
        });
        List<String> ids = new ArrayList<>();
        for (Path d : Delivered.messageDirs(tmp.resolve("out"))) {
            ids.add(JSON.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).hasSize(total).doesNotHaveDuplicates();
        for (int i = 0; i < MAILBOXES; i++) {
            assertThat(boxes.get(i).messagesIn("inbox")).isEmpty();
            assertThat(boxes.get(i).messagesIn("Inbox/Error")).isEmpty();
        }
        try (Connection c = DriverManager.getConnection(schema.url(), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT state, COUNT(*) FROM mi_ledger GROUP BY state")) {
            Map<String, Integer> states = new LinkedHashMap<>();
            while (rs.next()) {
                states.put(rs.getString(1), rs.getInt(2));
            }
            // DELIVERED: moved by the killed instance before it recorded the move (the message is in Processed)
            assertThat(states.keySet()).isSubsetOf("PROCESSED", "DELIVERED");
            assertThat(states.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
        }
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances — separate JVMs — on one PostgreSQL store, each mailbox owned by one of them through Camel's cluster
 * service (a file lock; a real ZooKeeper server): an owner killed with {@code kill -9} is replaced and nothing is lost
 * or delivered twice; an owner frozen with {@code SIGSTOP} past its ZooKeeper session delivers nothing of the mailbox
 * it lost when it runs again (fencing).
 */
class ClusterFailoverTest {
    private static final int MAILBOXES = 4;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private GraphFake fake;
    private final List<FakeMailbox> boxes = new ArrayList<>();
    private final List<AppProcess> instances = new ArrayList<>();
    private final Map<String, Integer> managementPorts = new LinkedHashMap<>();
    private String storeUrl;
    private TestingServer zookeeper;
    private PgSchema schema;

    @BeforeEach
    void setUp() throws Exception {
        schema = PgSchema.create("mi_cluster");
        storeUrl = schema.url();
        fake = TestApp.startFake();
        for (int i = 0; i < MAILBOXES; i++) {
            FakeMailbox box = fake.mailbox("m" + i + "@contoso.test");
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            boxes.add(box);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        instances.forEach(AppProcess::close);
        Path logs = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "cluster");
        Files.createDirectories(logs);
        for (AppProcess p : instances) { // each instance's whole output, for a failure's report
            Files.write(logs.resolve("instance-" + p.pid() + ".log"), p.lines());
        }
        if (fake != null) {
            fake.close();
        }
        if (zookeeper != null) {
            zookeeper.close();
        }
        if (schema != null) {
            schema.close();
        }
    }

    /** Instance {@code id}'s configuration: its own data directory and ports, the shared store, target and cluster. */
    private Path config(String id, Map<String, String> cluster) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.data-dir", tmp.resolve(id).toString());
        s.put("mailintake.store.url", storeUrl);
        s.put("mailintake.store.user", "postgres");
        s.put("mailintake.cluster.instance-id", id);
        s.put("mailintake.cluster.claim-lease", "8s");
        s.putAll(cluster);
        int port = AppProcess.freePort();
        managementPorts.put(id, port);
        s.put("camel.management.port", String.valueOf(port));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        for (int i = 0; i < MAILBOXES; i++) {
            String k = "mailintake.mailboxes.m" + i + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", "m" + i + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "target", "folder:" + tmp.resolve("out"));
        }
        return AppProcess.configFile(tmp.resolve(id + ".properties"), s);
    }

    private AppProcess start(String id, Map<String, String> cluster) {
        Path config = config(id, cluster);
        AppProcess p = AppProcess.start(tmp, Map.of(), "--config", config.toString());
        instances.add(p);
        return p;
    }

    /** Who owns mailbox {@code i}, as instance {@code askedId} sees it (its health details). */
    private Optional<String> owner(String askedId, int i) {
        try {
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
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
            addMessages(i, perMailbox);
        }
    }

    private void addMessages(int mailbox, int count) {
        for (int n = 0; n < count; n++) {
            boxes.get(mailbox).addMessage("inbox", Mimes.pdfMessage("<m" + mailbox + "-" + n + "@example.com>",
                    "m" + mailbox + " " + n, 300), T0.plusSeconds(n));
        }
    }

    private int processed(int i) {
        return boxes.get(i).messagesIn("Inbox/Processed").size();
    }

    /** Every message exactly once in the shared target, each mailbox's Inbox empty, the ledger all processed. */
    private void assertDeliveredExactlyOnce(int perMailbox) throws Exception {
        assertTotalDeliveredExactlyOnce(MAILBOXES * perMailbox);
    }

    private void assertTotalDeliveredExactlyOnce(int total) throws Exception {
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            int sum = 0;
            for (int i = 0; i < MAILBOXES; i++) {
                sum += processed(i);
            }
            return sum == total;
        });
        List<Path> dirs = Delivered.messageDirs(tmp.resolve("out"));
        List<String> ids = new ArrayList<>();
        for (Path d : dirs) {
            ids.add(JSON.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).hasSize(total).doesNotHaveDuplicates();
        for (int i = 0; i < MAILBOXES; i++) {
            assertThat(boxes.get(i).messagesIn("inbox")).isEmpty();
            assertThat(boxes.get(i).messagesIn("Inbox/Error")).isEmpty();
        }
        try (Connection c = DriverManager.getConnection(storeUrl, "postgres", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT state, COUNT(*) FROM mi_ledger GROUP BY state")) {
            Map<String, Integer> states = new LinkedHashMap<>();
            while (rs.next()) {
                states.put(rs.getString(1), rs.getInt(2));
            }
            // DELIVERED: moved by an instance killed before it recorded the move (the message is in Processed)
            assertThat(states.keySet()).isSubsetOf("PROCESSED", "DELIVERED");
            assertThat(states.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
        }
    }

    @Test
    void theOwnerKilledWithKill9IsReplacedAndNothingIsLostOrDeliveredTwiceFileLock() throws Exception {
        Map<String, String> cluster = Map.of("mailintake.cluster.service", "file",
                "mailintake.cluster.file.root", tmp.resolve("cluster").toString());
        AppProcess a = start("a", cluster);
        AppProcess b = start("b", cluster);
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            for (int i = 0; i < MAILBOXES; i++) {
                if (owner("a", i).isEmpty() || owner("b", i).isEmpty()) {
                    return false;
                }
            }
            return true;
        });
        String victim = owner("a", 0).orElseThrow();
        AppProcess dead = victim.equals("a") ? a : b;
        String survivor = victim.equals("a") ? "b" : "a";

        // mailbox m0's downloads are slow, so the kill comes in the middle of its import
        fake.fault(Fault.delay(Duration.ofMillis(400)).on("GET", ".*/\\$value").forMailbox("m0@contoso.test")
                .always());
        addMessages(20);
        await().atMost(Duration.ofSeconds(60)).until(() -> processed(0) >= 3);
        dead.kill();
        Instant killed = Instant.now();
        await().atMost(Duration.ofSeconds(60)).until(() -> owner(survivor, 0).filter(survivor::equals).isPresent());
        Duration takeover = Duration.between(killed, Instant.now());
        System.out.println("cluster file-lock failover: mailbox m0 taken over by " + survivor + " in "
                + takeover.toMillis() + " ms");
        fake.clearFaults();
        assertDeliveredExactlyOnce(20);
    }

    @Test
    void anOwnerFrozenPastItsZooKeeperSessionDeliversNothingOfTheMailboxItLost() throws Exception {
        zookeeper = new TestingServer(true);
        Map<String, String> cluster = Map.of("mailintake.cluster.service", "zookeeper",
                "mailintake.cluster.zookeeper.nodes", zookeeper.getConnectString());
        AppProcess a = start("a", cluster);
        AppProcess b = start("b", cluster);
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            for (int i = 0; i < MAILBOXES; i++) {
                if (owner("a", i).isEmpty()) {
                    return false;
                }
            }
            return true;
        });
        String victim = owner("a", 0).orElseThrow();
        AppProcess frozen = victim.equals("a") ? a : b;
        String other = victim.equals("a") ? "b" : "a";

        fake.fault(Fault.delay(Duration.ofMillis(1500)).on("GET", ".*/\\$value").forMailbox("m0@contoso.test")
                .always());
        addMessages(0, 12); // only m0 has work in hand when its owner freezes: downloads of 1.5 s each
        // the first messages (one per connection in flight) are done: the next ones are in their downloads now
        await().atMost(Duration.ofSeconds(60)).until(() -> processed(0) >= 4);
        frozen.pause();
        Instant paused = Instant.now();
        // its ZooKeeper session (10 s) expires: the other instance owns m0 and, once the claims' lease ran out,
        // imports what the frozen one had in hand
        await().atMost(Duration.ofSeconds(60)).until(() -> owner(other, 0).filter(other::equals).isPresent());
        System.out.println("cluster zookeeper failover after SIGSTOP: mailbox m0 taken over by " + other + " in "
                + Duration.between(paused, Instant.now()).toMillis() + " ms");
        fake.clearFaults();
        await().atMost(Duration.ofSeconds(90)).until(() -> processed(0) == 12);
        int linesBefore = frozen.lines().size();
        frozen.resume();
        await().atMost(Duration.ofSeconds(30)).until(() -> frozen.lines().size() > linesBefore);
        await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).until(() -> true);
        List<String> after = frozen.lines().subList(linesBefore, frozen.lines().size());
        // its imports in hand find their claims taken when it runs again: fenced, not delivered (ClaimsTest proves the
        // rule on a fixed clock); one frozen between its claim's renewal and the target's answer completes (the
        // documented window), which the folder target absorbs (idempotent by key): the output is exactly once
        assertThat(after.stream().filter(l -> l.contains("mailbox 'm0': imported message")).count())
                .as("at most the imports in hand at the freeze complete").isLessThanOrEqualTo(8);
        System.out.println("cluster fencing after SIGSTOP: " + after.stream().filter(l -> l.contains("took it over"))
                .count() + " import(s) fenced, " + after.stream().filter(l -> l.contains("mailbox 'm0': imported message"))
                .count() + " completed in the window between the claim's renewal and the target (see docs)");
        assertTotalDeliveredExactlyOnce(12);
        assertThat(Files.exists(tmp.resolve("out"))).isTrue();
    }
}

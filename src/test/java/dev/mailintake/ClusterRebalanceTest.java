package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart with two instances (separate JVMs, a real ZooKeeper server, one PostgreSQL store): the instance
 * that runs alone owns every mailbox; when a second one joins, the first hands half of them over (Rebalancer) while
 * mail keeps arriving, and nothing is lost or delivered twice; when the second one stops cleanly, the first takes its
 * mailboxes back at once.
 */
class ClusterRebalanceTest {
    private static final int MAILBOXES = 8;
    private static final int PER_MAILBOX = 30;
    private static final Instant T0 = Instant.parse("2026-12-05T08:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private GraphFake fake;
    private PgSchema schema;
    private TestingServer zookeeper;
    private final List<FakeMailbox> boxes = new ArrayList<>();
    private final List<AppProcess> instances = new ArrayList<>();
    private final Map<String, Integer> managementPorts = new LinkedHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        zookeeper = new TestingServer(true);
        schema = PgSchema.create("mi_rebalance");
        fake = TestApp.startFake();
        for (int i = 0; i < MAILBOXES; i++) {
            FakeMailbox box = fake.mailbox("r" + i + "@contoso.test");
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            boxes.add(box);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        instances.forEach(AppProcess::close);
        Path logs = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "rebalance");
        Files.createDirectories(logs);
        for (AppProcess p : instances) {
            Files.write(logs.resolve("instance-" + p.pid() + ".log"), p.lines());
        }
        fake.close();
        schema.close();
        zookeeper.close();
    }

    private AppProcess start(String id) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.data-dir", tmp.resolve(id).toString());
        s.put("mailintake.store.url", schema.url());
        s.put("mailintake.store.user", "postgres");
        s.put("mailintake.cluster.service", "zookeeper");
        s.put("mailintake.cluster.zookeeper.nodes", zookeeper.getConnectString());
        s.put("mailintake.cluster.instance-id", id);
        int port = AppProcess.freePort();
        managementPorts.put(id, port);
        s.put("camel.management.port", String.valueOf(port));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        for (int i = 0; i < MAILBOXES; i++) {
            String k = "mailintake.mailboxes.r" + i + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", "r" + i + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "target", "folder:" + tmp.resolve("out"));
        }
        AppProcess p = AppProcess.start(tmp, Map.of(), "--config",
                AppProcess.configFile(tmp.resolve(id + ".properties"), s).toString());
        instances.add(p);
        return p;
    }

    /** The mailboxes instance {@code id} runs now (its metric {@code mailintake_mailbox_owned}). */
    private Set<String> owned(String id) {
        Set<String> owned = new TreeSet<>();
        try {
            String body = TestApp.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + managementPorts.get(id) + "/observe/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) {
                if (line.startsWith("mailintake_mailbox_owned{") && line.endsWith(" 1.0")) {
                    owned.add(line.replaceAll(".*mailbox=\"([^\"]+)\".*", "$1"));
                }
            }
        } catch (Exception e) {
            return Set.of("unreachable");
        }
        return owned;
    }

    private void addMessages(int from, int to) {
        for (int i = 0; i < MAILBOXES; i++) {
            for (int n = from; n < to; n++) {
                boxes.get(i).addMessage("inbox", Mimes.pdfMessage("<r" + i + "-" + n + "@example.com>", "r" + i + " "
                        + n, 300), T0.plusSeconds(n));
            }
        }
    }

    @Test
    void aJoiningInstanceGetsHalfTheMailboxesAndALeavingOneHandsThemBack() throws Exception {
        AppProcess a = start("a");
        await().atMost(Duration.ofSeconds(60)).until(() -> owned("a").size() == MAILBOXES);
        addMessages(0, PER_MAILBOX / 3);

        AppProcess b = start("b");
        addMessages(PER_MAILBOX / 3, 2 * PER_MAILBOX / 3);
        Instant joined = Instant.now();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Set<String> ofA = owned("a");
            Set<String> ofB = owned("b");
            return ofA.size() == MAILBOXES / 2 && ofB.size() == MAILBOXES / 2;
        });
        System.out.printf("balanced %d/%d %.1f s after the second instance started%n", MAILBOXES / 2, MAILBOXES / 2,
                Duration.between(joined, Instant.now()).toMillis() / 1000.0);
        Set<String> both = new TreeSet<>(owned("a"));
        both.addAll(owned("b"));
        assertThat(both).hasSize(MAILBOXES);
        assertThat(a.lines()).anyMatch(l -> l.contains("handing 4 over"));
        assertThat(b.lines()).noneMatch(l -> l.contains("handing"));

        addMessages(2 * PER_MAILBOX / 3, PER_MAILBOX);
        Instant leaving = Instant.now();
        b.close(); // a clean stop leaves the elections: the first instance takes its mailboxes back at once
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Set<String> ofA = owned("a");
            return ofA.size() == MAILBOXES;
        });
        System.out.printf("all %d back %.1f s after the second instance was asked to stop%n", MAILBOXES,
                Duration.between(leaving, Instant.now()).toMillis() / 1000.0);

        await().atMost(Duration.ofSeconds(90)).until(() -> boxes.stream()
                .mapToInt(x -> x.messagesIn("Inbox/Processed").size()).sum() == MAILBOXES * PER_MAILBOX);
        List<String> ids = new ArrayList<>();
        for (Path d : Delivered.messageDirs(tmp.resolve("out"))) {
            ids.add(JSON.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).hasSize(MAILBOXES * PER_MAILBOX).doesNotHaveDuplicates();
        for (FakeMailbox box : boxes) {
            assertThat(box.messagesIn("inbox")).isEmpty();
            assertThat(box.messagesIn("Inbox/Error")).isEmpty();
        }
        assertThat(a.alive()).isTrue();
    }
}

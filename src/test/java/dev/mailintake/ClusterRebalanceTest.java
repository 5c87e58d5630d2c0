package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppCluster;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
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
    private AppCluster cluster;

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
        if (cluster != null) {
            cluster.close();
        }
        fake.close();
        schema.close();
        zookeeper.close();
    }

    /** Two instances' shared settings: the store, ZooKeeper, the mailboxes into one folder target. */
    private AppCluster cluster() {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.store.url", schema.url());
        s.put("mailintake.store.user", "postgres");
        s.putAll(AppCluster.zooKeeper(zookeeper.getConnectString()));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < MAILBOXES; i++) {
            names.add("r" + i);
            String k = "mailintake.mailboxes.r" + i + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", "r" + i + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "target", "folder:" + tmp.resolve("out"));
        }
        return new AppCluster(tmp, s, names, Map.of());
    }

    private Set<String> owned(String id) {
        return cluster.owned(id);
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
        cluster = cluster();
        AppProcess a = cluster.start("a");
        await().atMost(Duration.ofSeconds(60)).until(() -> owned("a").size() == MAILBOXES);
        addMessages(0, PER_MAILBOX / 3);

        AppProcess b = cluster.start("b");
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

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppCluster;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.FakeMessage;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.RecordingTarget;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances — separate JVMs — on one PostgreSQL store, each mailbox owned by one of them through Camel's cluster
 * service (a real ZooKeeper server; a file lock): the owner of half the mailboxes killed with {@code kill -9} in the
 * middle of an import is replaced within a bound, and every message is handed to the target exactly once (an HTTP
 * target that records every hand-over, so a second delivery is seen) and ends in its folder; ten kills at random
 * moments (seeded, printed) change nothing of that; an owner frozen with {@code SIGSTOP} past its ZooKeeper session
 * delivers nothing of the mailbox it lost when it runs again (fencing).
 */
class ClusterFailoverTest {
    private static final int MAILBOXES = 10;
    private static final List<String> NAMES = IntStream.range(0, MAILBOXES).mapToObj(i -> "m" + i).toList();
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The takeover bound asserted: ZooKeeper's session timeout (10 s) or the file lock's stale-leader wait (about as
     * long), plus the survivor's next attempt and its health answering on a loaded 2-core machine. The measured figure
     * is printed (docs/benchmarks.md); the 15 s target is judged on it, not asserted.
     */
    private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    private GraphFake fake;
    private final List<FakeMailbox> boxes = new ArrayList<>();
    private RecordingTarget target;
    private AppCluster cluster;
    private TestingServer zookeeper;
    private PgSchema schema;
    private final Instant started = Instant.now();

    @BeforeEach
    void setUp() {
        schema = PgSchema.create("mi_cluster");
        fake = TestApp.startFake();
        for (String name : NAMES) {
            FakeMailbox box = fake.mailbox(name + "@contoso.test");
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            boxes.add(box);
        }
        target = RecordingTarget.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        target.close();
        fake.close();
        if (zookeeper != null) {
            zookeeper.close();
        }
        schema.close();
        System.out.println("cluster test took " + Duration.between(started, Instant.now()).toSeconds() + " s");
    }

    /** Two instances' shared settings: the store, the cluster service, ten mailboxes into {@code targetUri}. */
    private AppCluster cluster(Map<String, String> service, String targetUri) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.store.url", schema.url());
        s.put("mailintake.store.user", "postgres");
        s.put("mailintake.cluster.claim-lease", "8s");
        s.putAll(service);
        for (String name : NAMES) {
            String k = "mailintake.mailboxes." + name + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", name + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "rules.require-attachment", "true");
            s.put(k + "target", targetUri);
        }
        cluster = new AppCluster(tmp, s, NAMES, Map.of());
        return cluster;
    }

    private Map<String, String> zooKeeper() throws Exception {
        zookeeper = new TestingServer(true);
        return AppCluster.zooKeeper(zookeeper.getConnectString());
    }

    /** Instance a owns m0–m4, instance b m5–m9: a starts and owns all, then hands m5–m9 over to b (JMX). */
    private void startSplitPair() throws Exception {
        cluster.start("a");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.owned("a").size() == MAILBOXES);
        cluster.start("b");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.seesOwnersOfAll("b"));
        List<String> half = NAMES.subList(MAILBOXES / 2, MAILBOXES);
        for (String name : half) {
            cluster.stopRoute("a", name);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> cluster.owned("b").containsAll(half));
        for (String name : half) {
            cluster.startRoute("a", name); // a stands by for them
        }
        assertThat(cluster.owned("a")).containsExactlyInAnyOrderElementsOf(NAMES.subList(0, MAILBOXES / 2));
        assertThat(cluster.owned("b")).containsExactlyInAnyOrderElementsOf(half);
    }

    /** Message {@code n} of mailbox {@code i}: every tenth has no attachment (to Error), the others a PDF. */
    private void addMessage(int i, int n) {
        String id = messageId(i, n);
        boxes.get(i).addMessage("inbox", rejected(n) ? Mimes.plain(id, "m" + i + " " + n)
                : Mimes.pdfMessage(id, "m" + i + " " + n, 300), T0.plusSeconds(n));
    }

    private static String messageId(int i, int n) {
        return "<m" + i + "-" + n + "@example.com>";
    }

    private static boolean rejected(int n) {
        return n % 10 == 9;
    }

    /** Mailbox {@code i}'s messages {@code from..to-1} go in. */
    private void addMessages(int from, int to) {
        for (int n = from; n < to; n++) {
            for (int i = 0; i < MAILBOXES; i++) {
                addMessage(i, n);
            }
        }
    }

    private int leftTheInbox() {
        return boxes.stream().mapToInt(b -> b.messagesIn("Inbox/Processed").size() + b.messagesIn("Inbox/Error").size())
                .sum();
    }

    /**
     * Messages {@code 0..perMailbox-1} of every mailbox: each with an attachment handed to the target exactly once
     * (a second hand-over only if flagged possibleDuplicate: the instance was killed between the target's answer and
     * the ledger, the documented window) and in Processed; each without one in Error, never delivered; the Inboxes
     * empty; the ledger agrees.
     */
    private void assertEachMessageOnceInItsFolder(int perMailbox) throws Exception {
        int total = MAILBOXES * perMailbox;
        await().atMost(Duration.ofSeconds(120)).until(() -> leftTheInbox() == total);
        Set<String> toProcessed = new TreeSet<>();
        for (int i = 0; i < MAILBOXES; i++) {
            Set<String> processed = new TreeSet<>();
            Set<String> error = new TreeSet<>();
            for (int n = 0; n < perMailbox; n++) {
                (rejected(n) ? error : processed).add(messageId(i, n));
            }
            toProcessed.addAll(processed);
            FakeMailbox box = boxes.get(i);
            assertThat(box.messagesIn("inbox")).isEmpty();
            assertThat(box.messagesIn("Inbox/Processed")).extracting(FakeMessage::internetMessageId)
                    .containsExactlyInAnyOrderElementsOf(processed);
            assertThat(box.messagesIn("Inbox/Error")).extracting(FakeMessage::internetMessageId)
                    .containsExactlyInAnyOrderElementsOf(error);
        }
        Map<String, Long> counts = target.countsById();
        assertThat(counts.keySet()).as("every message with an attachment reached the target, none other")
                .containsExactlyInAnyOrderElementsOf(toProcessed);
        assertThat(target.unflaggedDuplicates()).as("second deliveries not flagged possibleDuplicate").isEmpty();
        System.out.println("cluster exactly-once: " + total + " messages, " + target.deliveries().size()
                + " hand-overs to the target, " + target.duplicates().size()
                + " message(s) handed over again flagged possibleDuplicate (killed between the target and the ledger)");
        try (Connection c = DriverManager.getConnection(schema.url(), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT state, COUNT(*) FROM mi_ledger GROUP BY state")) {
            Map<String, Integer> states = new LinkedHashMap<>();
            while (rs.next()) {
                states.put(rs.getString(1), rs.getInt(2));
            }
            // DELIVERED / REJECTED: moved by an instance killed before it recorded the move
            assertThat(states.keySet()).isSubsetOf("PROCESSED", "DELIVERED", "ERROR", "REJECTED");
            assertThat(states.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
        }
    }

    /**
     * The pair split 5/5; 500 messages with slow downloads; the owner of m5–m9 killed once a fifth are in: instance a
     * owns all ten within the bound, and every message ends once in its place.
     */
    private void killTheOwnerOfHalfMidImport(String service) throws Exception {
        startSplitPair();
        fake.fault(Fault.delay(Duration.ofMillis(600)).on("GET", ".*/\\$value").always());
        addMessages(0, 50);
        await().atMost(Duration.ofSeconds(120)).until(() -> target.deliveries().size() >= 100);
        int before = target.deliveries().size();
        Instant killed = Instant.now();
        cluster.kill("b");
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.owned("a").size() == MAILBOXES);
        Duration takeover = Duration.between(killed, Instant.now());
        System.out.println("cluster " + service + " failover: b (owner of m5-m9) killed with kill -9 after " + before
                + " of 500 deliveries; a owned all 10 mailboxes after " + takeover.toMillis() + " ms");
        fake.clearFaults();
        assertEachMessageOnceInItsFolder(50);
        assertThat(takeover).isLessThanOrEqualTo(TAKEOVER_BOUND);
    }

    @Test
    void theOwnerOfHalfTheMailboxesKilledMidImportIsReplacedZooKeeper() throws Exception {
        cluster(zooKeeper(), target.uri());
        killTheOwnerOfHalfMidImport("zookeeper");
    }

    @Test
    void theOwnerOfHalfTheMailboxesKilledMidImportIsReplacedFileLock() throws Exception {
        cluster(AppCluster.fileLock(tmp.resolve("cluster")), target.uri());
        killTheOwnerOfHalfMidImport("file-lock");
    }

    /**
     * Ten rounds: 50 more messages (5 a mailbox, slow downloads), a random wait (seeded: replay a failure with
     * {@code -Dmailintake.test.seed=<seed>}), then the instance that owns the most mailboxes is killed and started again
     * at once (as a supervisor does), so there is always a pair. ZooKeeper: its takeover does not wait for a stale
     * leader's file (the restarted instance joins the election behind the survivor).
     */
    @Test
    void tenKillsAtRandomMomentsLoseAndDuplicateNothing() throws Exception {
        long seed = Long.getLong("mailintake.test.seed", System.nanoTime());
        System.out.println("cluster repeated kills: seed " + seed + " (replay: -Dmailintake.test.seed=" + seed + ")");
        Random random = new Random(seed);
        cluster(zooKeeper(), target.uri());
        cluster.start("a");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.owned("a").size() == MAILBOXES);
        cluster.start("b");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.seesOwnersOfAll("b"));
        fake.fault(Fault.delay(Duration.ofMillis(800)).on("GET", ".*/\\$value").always());
        List<String> rounds = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            addMessages(round * 5, round * 5 + 5);
            long wait = random.nextInt(3000);
            await().pollDelay(Duration.ofMillis(wait)).atMost(Duration.ofMillis(wait + 1000)).until(() -> true);
            String victim = cluster.owned("a").size() >= cluster.owned("b").size() ? "a" : "b";
            String survivor = victim.equals("a") ? "b" : "a";
            int owned = cluster.owned(victim).size();
            Instant killed = Instant.now();
            cluster.kill(victim);
            AppProcess restarted = cluster.start(victim);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
                Set<String> all = new TreeSet<>(cluster.owned(survivor));
                all.addAll(cluster.owned(victim));
                return all.size() == MAILBOXES;
            });
            Duration takeover = Duration.between(killed, Instant.now());
            rounds.add(String.format("round %d: waited %d ms, killed %s (owner of %d), all owned again after %d ms"
                    + " (by %s: %d)", round, wait, victim, owned, takeover.toMillis(), survivor,
                    cluster.owned(survivor).size()));
            System.out.println("cluster repeated kills: " + rounds.get(rounds.size() - 1));
            assertThat(takeover).as(rounds.get(rounds.size() - 1)).isLessThanOrEqualTo(TAKEOVER_BOUND);
            await().atMost(Duration.ofSeconds(120)).until(() -> cluster.seesOwnersOfAll(victim));
            assertThat(restarted.alive()).isTrue();
        }
        fake.clearFaults();
        assertEachMessageOnceInItsFolder(50);
    }

    @Test
    void anOwnerFrozenPastItsZooKeeperSessionDeliversNothingOfTheMailboxItLost() throws Exception {
        Path out = tmp.resolve("out");
        cluster(zooKeeper(), "folder:" + out);
        cluster.start("a");
        cluster.start("b");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.seesOwnersOfAll("a"));
        String victim = cluster.owner("a", "m0").orElseThrow();
        String other = victim.equals("a") ? "b" : "a";
        AppProcess frozen = cluster.process(victim);

        fake.fault(Fault.delay(Duration.ofMillis(1500)).on("GET", ".*/\\$value").forMailbox("m0@contoso.test")
                .always());
        for (int n = 0; n < 12; n++) { // only m0 has work in hand when its owner freezes: downloads of 1.5 s each
            boxes.get(0).addMessage("inbox", Mimes.pdfMessage(messageId(0, n), "m0 " + n, 300), T0.plusSeconds(n));
        }
        // the first messages (one per connection in flight) are done: the next ones are in their downloads now
        await().atMost(Duration.ofSeconds(60)).until(() -> boxes.get(0).messagesIn("Inbox/Processed").size() >= 4);
        frozen.pause();
        Instant paused = Instant.now();
        // its ZooKeeper session (10 s) expires: the other instance owns m0 and, once the claims' lease ran out,
        // imports what the frozen one had in hand
        await().atMost(Duration.ofSeconds(60)).until(() -> cluster.owner(other, "m0").filter(other::equals).isPresent());
        System.out.println("cluster zookeeper failover after SIGSTOP: mailbox m0 taken over by " + other + " in "
                + Duration.between(paused, Instant.now()).toMillis() + " ms");
        fake.clearFaults();
        await().atMost(Duration.ofSeconds(90)).until(() -> boxes.get(0).messagesIn("Inbox/Processed").size() == 12);
        int linesBefore = frozen.lines().size();
        frozen.resume();
        await().atMost(Duration.ofSeconds(30)).until(() -> frozen.lines().size() > linesBefore);
        await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).until(() -> true);
        List<String> lines = frozen.lines();
        List<String> after = lines.subList(linesBefore, lines.size());
        // its imports in hand find their claims taken when it runs again: fenced, not delivered (ClaimsTest proves the
        // rule on a fixed clock); one frozen past its claim's renewal — in its delivery (the documented window, which
        // the folder target absorbs: idempotent by key) or in its move to Processed, which the fake carried out while
        // it was frozen — completes: the output is exactly once
        assertThat(after.stream().filter(l -> l.contains("mailbox 'm0': imported message")).count())
                .as("at most the imports in hand at the freeze complete").isLessThanOrEqualTo(8);
        System.out.println("cluster fencing after SIGSTOP: " + after.stream().filter(l -> l.contains("took it over"))
                .count() + " import(s) fenced, " + after.stream().filter(l -> l.contains("mailbox 'm0': imported message"))
                .count() + " completed (frozen past the claim's renewal: in the delivery or the move to Processed)");
        List<String> ids = new ArrayList<>();
        for (Path d : Delivered.messageDirs(out)) {
            ids.add(JSON.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).hasSize(12).doesNotHaveDuplicates();
        assertThat(boxes.get(0).messagesIn("inbox")).isEmpty();
        assertThat(Files.exists(out)).isTrue();
    }
}

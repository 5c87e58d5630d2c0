package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.imap.ImapMailbox;
import dev.mailintake.intake.MessageIntake;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.CapabilityFilterProxy;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.GreenMailImap;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.UidSets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batched IMAP commands through the real application against GreenMail: small messages fetched several per
 * {@code UID FETCH} and moved several per {@code UID MOVE} once the ledger holds their outcome; a kill before the batch's
 * move, and a batch move whose answer is lost, deliver nothing twice and leave every message in its folder.
 */
class ImapBatchTest {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final String K = "mailintake.mailboxes.invoices.";
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

    @TempDir
    Path tmp;
    private GraphFake fake;
    private GreenMailImap imap;
    private TestApp app;
    private final List<AppProcess> processes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        imap = TestApp.startImap(fake);
    }

    @AfterEach
    void tearDown() throws IOException {
        processes.forEach(AppProcess::close);
        Path logs = Files.createDirectories(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"),
                "imap-batch"));
        for (AppProcess p : processes) {
            Files.write(logs.resolve("instance-" + p.pid() + ".log"), p.lines());
        }
        TestApp.closeAll(app, fake);
        imap.close();
    }

    private Path out() {
        return tmp.resolve("out");
    }

    /** Seven invoices and three messages without an attachment, interleaved (the rules send those to Error). */
    private void addMixedMessages() {
        for (int i = 0; i < 10; i++) {
            byte[] mime = i % 3 == 1 ? Mimes.plain("<m" + i + "@example.com>", "no attachment " + i)
                    : Mimes.pdfMessage("<m" + i + "@example.com>", "m" + i, 2_000 + i);
            imap.append(ADDRESS, "INBOX", mime, T0.plusSeconds(i));
        }
    }

    private Map<String, String> settings(int port) {
        Map<String, String> s = TestApp.imapMailbox(tmp.resolve("data"), fake, imap, out());
        s.put(K + "imap.port", String.valueOf(port));
        s.put(K + "rules.require-attachment", "true");
        return s;
    }

    @Test
    void aBatchFetchesSeveralMessagesPerCommandAndMovesEachOutcomeToItsFolderInOneCommand() throws Exception {
        addMixedMessages();
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port());
             LogCapture log = LogCapture.of(MessageIntake.class.getName(), Level.INFO)) {
            app = TestApp.start(settings(proxy.port()));
            await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 7
                    && imap.messages(ADDRESS, "INBOX/Error").size() == 3);
            await().atMost(Duration.ofSeconds(10)).until(() -> log.count("imported message") == 7
                    && log.count("moved to Error") == 3);

            List<String> uid = proxy.uidCommandLines();
            List<String> bodyFetches = uid.stream().filter(c -> c.startsWith("UID FETCH ") && c.contains("BODY.PEEK"))
                    .toList();
            assertThat(bodyFetches).as(uid.toString()).hasSizeLessThan(10)
                    .anyMatch(c -> UidSets.count(c.split(" ")[2]) > 1);
            List<String> toProcessed = uid.stream().filter(c -> c.startsWith("UID MOVE ") && c.contains("Processed"))
                    .toList();
            List<String> toError = uid.stream().filter(c -> c.startsWith("UID MOVE ") && c.contains("Error")).toList();
            assertThat(toProcessed).as(uid.toString()).hasSize(1);
            assertThat(toError).as(uid.toString()).hasSize(1);
            assertThat(UidSets.count(toProcessed.get(0).split(" ")[2])).isEqualTo(7);
            String errorSet = toError.get(0).split(" ")[2];
            assertThat(UidSets.count(errorSet)).isEqualTo(3);
            assertThat(uid).as("the Error batch is marked first, exactly those UIDs")
                    .contains("UID STORE " + errorSet + " +FLAGS.SILENT (" + ImapMailbox.ERROR_KEYWORD + ")");
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        assertThat(imap.messageIds(ADDRESS, "INBOX/Error"))
                .containsExactlyInAnyOrder("<m1@example.com>", "<m4@example.com>", "<m7@example.com>");
        imap.messages(ADDRESS, "INBOX/Error").forEach(m -> assertThat(m.getFlags().getUserFlags())
                .contains(ImapMailbox.ERROR_KEYWORD));
        assertDeliveredOnceEach(7);
    }

    @Test
    void aKillBeforeTheBatchedMoveDeliversNothingTwiceAndEveryMessageEndsInItsFolder() throws Exception {
        addMixedMessages();
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port()).holdCommand("UID MOVE")) {
            Map<String, String> s = settings(proxy.port());
            s.put("camel.management.port", String.valueOf(AppProcess.freePort()));
            s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
            // the ledger is made durable before every move (Ledger.persist), so what is tested is the batch:
            // delivered and recorded, killed before its move
            Path config = AppProcess.configFile(tmp.resolve("application.properties"), s);

            AppProcess first = start(config);
            // every message is delivered or rejected in the ledger; the batch's UID MOVE never gets an answer
            await().atMost(Duration.ofSeconds(60)).until(() -> Delivered.messageDirs(out()).size() == 7
                    && proxy.uidCommandLines().stream().anyMatch(c -> c.startsWith("UID MOVE ")));
            first.kill();
            assertThat(imap.messages(ADDRESS, "INBOX")).as("killed before any move").hasSize(10);
            assertThat(first.count("imported message")).isZero();

            proxy.holdCommand(null);
            AppProcess second = start(config);
            await().atMost(Duration.ofSeconds(60)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 7
                    && imap.messages(ADDRESS, "INBOX/Error").size() == 3);
            await().atMost(Duration.ofSeconds(10)).until(() -> second.count("was delivered before; moved to Processed")
                    == 7 && second.count("moved to Error") == 3);
            assertThat(second.count("imported message")).as("nothing delivered again").isZero();
            assertThat(second.count("not written again")).isZero();
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        assertThat(imap.messageIds(ADDRESS, "INBOX/Error"))
                .containsExactlyInAnyOrder("<m1@example.com>", "<m4@example.com>", "<m7@example.com>");
        assertDeliveredOnceEach(7);
    }

    @Test
    void aBatchedMoveWhoseAnswerIsLostLosesAndDuplicatesNothing() throws Exception {
        for (int i = 0; i < 12; i++) {
            imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<m" + i + "@example.com>", "m" + i, 3_000 + i),
                    T0.plusSeconds(i));
        }
        // the server executes the first UID MOVE (the whole batch), its answer is lost with the connection
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port()).dropConnectionAfter("UID MOVE", 1);
             LogCapture log = LogCapture.of("dev.mailintake", Level.INFO)) {
            app = TestApp.start(settings(proxy.port()));
            await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 12);
            await().atMost(Duration.ofSeconds(10)).until(() -> log.count("left in the Inbox for the next poll") == 12);
            assertThat(proxy.uidCommandLines().stream().filter(c -> c.startsWith("UID MOVE "))
                    .mapToLong(c -> UidSets.count(c.split(" ")[2])).sum()).as("all in one command").isEqualTo(12);
            assertThat(log.count("not written again")).as("no message delivered twice").isZero();
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        assertDeliveredOnceEach(12);
    }

    private AppProcess start(Path config) {
        AppProcess p = AppProcess.start(tmp, Map.of(), "--config", config.toString());
        processes.add(p);
        return p;
    }

    /** {@code n} message folders, each holding the message its metadata names. */
    private void assertDeliveredOnceEach(int n) throws IOException {
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(n);
        ObjectMapper json = new ObjectMapper();
        Set<String> ids = new HashSet<>();
        for (Path d : dirs) {
            String id = json.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText();
            ids.add(id);
            assertThat(Files.readString(d.resolve("message.eml"), StandardCharsets.ISO_8859_1))
                    .contains("Message-ID: " + id);
        }
        assertThat(ids).hasSize(n);
    }
}

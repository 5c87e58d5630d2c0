package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.intake.FolderTarget;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.store.Ledger;
import dev.mailintake.store.LedgerState;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Graph import through the real application: routes, beans, store, against the stateful Graph fake. */
class GraphImportTest {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        box = TestApp.invoicesBox(fake);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        return TestApp.invoicesMailbox(tmp.resolve("data"), fake, out());
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @Test
    void importsManyMessagesAcrossPagesExactlyOnceAndMovesThemToProcessed() throws Exception {
        Map<String, byte[]> sent = new LinkedHashMap<>();
        for (int i = 0; i < 27; i++) {
            String id = "<msg-" + i + "@example.com>";
            byte[] mime = Mimes.pdfMessage(id, "Invoice " + i, 2_000 + i);
            sent.put(id, mime);
            box.addMessage("inbox", mime, T0.plusSeconds(i));
        }
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.page-size", "10");
        // one poll only: every message must be found by the first poll although messages are moved while it pages
        s.put("mailintake.mailboxes.invoices.poll", "1h");
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 27);
        assertThat(box.messagesIn("inbox")).isEmpty();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(27);
        Set<String> seen = new HashSet<>();
        for (Path dir : dirs) {
            JsonNode meta = json.readTree(dir.resolve("metadata.json").toFile());
            String imid = meta.path("internetMessageId").asText();
            assertThat(seen.add(imid)).as("delivered once: " + imid).isTrue();
            assertThat(Files.readAllBytes(dir.resolve("message.eml"))).isEqualTo(sent.get(imid));
            assertThat(meta.path("attachments").get(0).path("name").asText()).isEqualTo("invoice.pdf");
            assertThat(dir.resolve("attachments/invoice.pdf")).exists();
            assertThat(meta.path("from").asText()).contains("alice@example.com");
            assertThat(meta.path("graphId").asText()).isNotBlank();
        }
        // paging followed nextLink, Prefer: ImmutableId on every Graph request
        List<LoggedRequest> graph = fake.requests().stream().filter(r -> !r.tokenRequest()).toList();
        assertThat(graph).allSatisfy(r -> assertThat(r.prefer()).contains("IdType=\"ImmutableId\""));
        assertThat(graph.stream().filter(r -> r.path().endsWith("/messages") && r.query() != null
                && java.net.URLDecoder.decode(r.query(), java.nio.charset.StandardCharsets.UTF_8)
                        .contains("receivedDateTime ge"))).hasSizeGreaterThanOrEqualTo(2);
        assertThat(fake.peakConcurrency(ADDRESS)).isLessThanOrEqualTo(4);
    }

    @Test
    void messageWithoutAttachmentGoesToErrorWithCategory() {
        box.addMessage("inbox", Mimes.plain("<plain@example.com>", "no attachment"), T0);
        box.addMessage("inbox", Mimes.pdfMessage("<pdf@example.com>", "with attachment", 500), T0.plusSeconds(1));
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", "true");
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Error").size() == 1
                && box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(box.messagesIn("Inbox/Error").get(0).categories()).contains("Mail Intake: no attachment");
        assertThat(box.messagesIn("Inbox/Error").get(0).internetMessageId()).isEqualTo("<plain@example.com>");
        assertThat(Delivered.messageDirs(out())).hasSize(1);
    }

    @Test
    void ambiguousFolderNameStopsTheMailboxNamingEveryMatch() throws Exception {
        box.createFolder("archive", "Processed");
        box.addMessage("inbox", Mimes.pdfMessage("<a@example.com>", "x", 100), T0);
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.folders.processed", "Processed");
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(20)).until(() ->
                app.camel().getRouteController().getRouteStatus("import-invoices").isStopped());
        String health = TestApp.http().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(app.healthUrl())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        JsonNode mailboxCheck = null;
        for (JsonNode check : json.readTree(health).path("checks")) {
            if (check.path("name").asText().equals("mailbox-invoices")) {
                mailboxCheck = check;
            }
        }
        assertThat(mailboxCheck).isNotNull();
        assertThat(mailboxCheck.path("status").asText()).isEqualTo("DOWN");
        // parses to the plain text (Camel 4.18's own handler escaped '/' twice: "Inbox\/Processed")
        assertThat(mailboxCheck.path("message").asText()).contains("ambiguous")
                .contains("'/Inbox/Processed'").contains("'/Archive/Processed'")
                .contains("mailintake.mailboxes.invoices.folders.processed=/Inbox/Processed or"
                        + " mailintake.mailboxes.invoices.folders.processed=/Archive/Processed");
        assertThat(box.messagesIn("inbox")).hasSize(1);
        assertThat(Delivered.messageDirs(out())).isEmpty();
    }

    private MailboxStatus status(String mailbox) {
        return app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class).get(mailbox).status();
    }

    @Test
    void aBareWellKnownNameThatOtherFoldersShareIsRefusedNamingEveryMatch() {
        box.createFolder("inbox", "Projects");
        box.createFolder("Inbox/Projects", "Archive");
        box.addMessage("inbox", Mimes.pdfMessage("<wk@example.com>", "wk", 100), T0);
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.folders.processed", "Archive");
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(20)).until(() -> status("invoices").state() == MailboxStatus.State.FAILED);
        assertThat(status("invoices").reason().orElseThrow()).contains("folder name 'Archive' is ambiguous")
                .contains("'/Archive', '/Inbox/Projects/Archive'")
                .contains("give the one you mean as a path from the root:"
                        + " mailintake.mailboxes.invoices.folders.processed=/Archive or"
                        + " mailintake.mailboxes.invoices.folders.processed=/Inbox/Projects/Archive");
        assertThat(box.messagesIn("inbox")).hasSize(1);
        assertThat(box.messagesIn("archive")).isEmpty();
        assertThat(Delivered.messageDirs(out())).isEmpty();
    }

    @Test
    void aPathFromTheRootAndTheWellKnownFormNameOneFolderEach() {
        box.createFolder("inbox", "Projects");
        box.createFolder("Inbox/Projects", "Archive");
        box.addMessage("inbox", Mimes.pdfMessage("<root@example.com>", "with attachment", 100), T0);
        box.addMessage("inbox", Mimes.plain("<nested@example.com>", "no attachment"), T0.plusSeconds(1));
        FakeMailbox orders = fake.mailbox("orders@contoso.test");
        orders.createFolder("inbox", "Error");
        orders.createFolder("inbox", "Archive");
        orders.addMessage("inbox", Mimes.pdfMessage("<wk@example.com>", "well-known", 100), T0);
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.folders.processed", "/Archive");
        s.put("mailintake.mailboxes.invoices.folders.error", "/Inbox/Projects/Archive");
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", "true");
        s.put("mailintake.mailboxes.orders.connection", "contoso");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.poll", "1s");
        s.put("mailintake.mailboxes.orders.folders.processed", "well-known:archive");
        s.put("mailintake.mailboxes.orders.target", "folder:" + tmp.resolve("orders-out"));
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("inbox").isEmpty()
                && orders.messagesIn("inbox").isEmpty());
        assertThat(box.messagesIn("archive")).extracting(m -> m.internetMessageId()).containsExactly("<root@example.com>");
        assertThat(box.messagesIn("Inbox/Projects/Archive")).extracting(m -> m.internetMessageId())
                .containsExactly("<nested@example.com>");
        assertThat(orders.messagesIn("archive")).extracting(m -> m.internetMessageId()).containsExactly("<wk@example.com>");
        assertThat(orders.messagesIn("Inbox/Archive")).isEmpty();
    }

    @Test
    void crashAfterDeliveryBeforeMoveDeliversNothingTwiceAfterRestart() {
        for (int i = 0; i < 5; i++) {
            box.addMessage("inbox", Mimes.pdfMessage("<c" + i + "@example.com>", "c" + i, 300), T0.plusSeconds(i));
        }
        // no move gets through: the "crash" window between delivery and move, then the context is stopped
        fake.fault(Fault.serviceUnavailable().withoutRetryAfter().on("POST", ".*/move").always());
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> Delivered.messageDirs(out()).size() == 5);
        app.close();
        app = null;
        assertThat(box.messagesIn("inbox")).hasSize(5);

        fake.clearFaults();
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 5);
        assertThat(Delivered.messageDirs(out())).hasSize(5);
        assertThat(fake.requests().stream().filter(r -> r.path().endsWith("/$value")).count())
                .as("each message fetched once").isEqualTo(5);
    }

    /**
     * The folder target recognises a second delivery of a key itself, so the ledger records no DELIVERING before it:
     * a crash after the folder's rename and before the ledger's DELIVERED leaves the message in its folder, unknown
     * to the ledger and still in the Inbox. The next poll delivers it again, which writes nothing, and moves it.
     */
    @Test
    void crashAfterTheFolderTookAMessageBeforeTheLedgerWriteLeavesItDeliveredOnce() throws Exception {
        box.addMessage("inbox", Mimes.pdfMessage("<w@example.com>", "w", 300), T0);
        try (LogCapture log = LogCapture.of(FolderTarget.class.getName(), Level.INFO)) {
            app = TestApp.start(settings());
            await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
            List<Path> dirs = Delivered.messageDirs(out());
            assertThat(dirs).hasSize(1);
            byte[] metadata = Files.readAllBytes(dirs.get(0).resolve("metadata.json"));
            String key = box.messagesIn("Inbox/Processed").get(0).immutableId();
            Ledger ledger = app.camel().getRegistry().lookupByNameAndType("ledger", Ledger.class);

            // the state such a crash leaves behind
            ledger.forget("invoices", key);
            box.moveMessage(key, "inbox");

            await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 1
                    && ledger.find("invoices", key).map(e -> e.state() == LedgerState.PROCESSED).orElse(false));
            assertThat(log.count("not written again")).isEqualTo(1);
            assertThat(Delivered.messageDirs(out())).containsExactlyElementsOf(dirs);
            assertThat(Files.readAllBytes(dirs.get(0).resolve("metadata.json"))).as("written once").isEqualTo(metadata);
            assertThat(box.messagesIn("inbox")).isEmpty();
        }
    }

    @Test
    void throttledRequestWaitsForRetryAfter() {
        box.addMessage("inbox", Mimes.pdfMessage("<t@example.com>", "t", 300), T0);
        fake.fault(Fault.status(429).retryAfter(2).on("GET", ".*/\\$value").times(1));
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);

        List<LoggedRequest> graph = fake.requests().stream().filter(r -> !r.tokenRequest()).toList();
        LoggedRequest throttled = graph.stream().filter(r -> r.status() == 429).findFirst().orElseThrow();
        LoggedRequest next = graph.get(graph.indexOf(throttled) + 1);
        assertThat(Duration.between(throttled.completedAt(), next.at())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void connectionResetMidBodyIsRetriedAndTheFileIsIntact() throws Exception {
        byte[] mime = Mimes.pdfMessage("<r@example.com>", "r", 400_000);
        box.addMessage("inbox", mime, T0);
        fake.fault(Fault.resetMidBody().on("GET", ".*/\\$value").times(2));
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);

        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        assertThat(Files.readAllBytes(dirs.get(0).resolve("message.eml"))).isEqualTo(mime);
        assertThat(fake.requests().stream().filter(r -> r.path().endsWith("/$value")).count()).isEqualTo(3);
    }

    @Test
    void hostileAttachmentNamesStayInsideTheTarget() throws Exception {
        String[] names = {"../../etc/passwd", "CON", "x".repeat(300) + ".pdf", "evil\u0001\r\nname.pdf",
                "..\\..\\windows\\system32\\evil.dll", "/abs/path.txt"};
        int i = 0;
        for (String name : names) {
            String param = "filename=\"" + name.replace("\r\n", "") + "\"";
            if (name.contains("\r\n")) {
                param = "filename*=utf-8''" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
            }
            box.addMessage("inbox", Mimes.withAttachment("<h" + i + "@example.com>", "h" + i, param,
                    "application/octet-stream", ("payload " + i).getBytes()), T0.plusSeconds(i));
            i++;
        }
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == names.length);

        Path root = out().toRealPath();
        try (var walk = Files.walk(tmp)) {
            List<Path> files = walk.filter(Files::isRegularFile).toList();
            for (Path f : files) {
                if (f.startsWith(tmp.resolve("data"))) {
                    continue;
                }
                assertThat(f.toRealPath()).startsWith(root);
                String fileName = f.getFileName().toString();
                assertThat(fileName.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(120);
                assertThat(fileName.chars().noneMatch(Character::isISOControl)).isTrue();
                assertThat(fileName).isNotEqualToIgnoringCase("CON");
            }
        }
        assertThat(Arrays.stream(names)).hasSize(Delivered.messageDirs(out()).size());
    }

    @Test
    void expiredTokenGetsOneFreshTokenAndOneRetry() {
        box.addMessage("inbox", Mimes.pdfMessage("<e1@example.com>", "e1", 300), T0);
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        int tokensBefore = fake.tokensIssued();

        fake.expireAllTokens();
        box.addMessage("inbox", Mimes.pdfMessage("<e2@example.com>", "e2", 300), T0.plusSeconds(5));
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 2);
        assertThat(fake.tokensIssued()).isEqualTo(tokensBefore + 1);
        assertThat(fake.requests().stream().filter(r -> r.status() == 401).count()).isEqualTo(1);
    }

    @Test
    void aCamelEndpointCanReplaceTheDefaultTarget() throws Exception {
        byte[] mime = Mimes.pdfMessage("<ep@example.com>", "endpoint", 1000);
        box.addMessage("inbox", mime, T0);
        Path endpointOut = tmp.resolve("endpoint-out");
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.target", "file:" + endpointOut);
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);

        try (var files = Files.list(endpointOut)) {
            List<Path> written = files.filter(Files::isRegularFile).toList();
            assertThat(written).hasSize(1);
            assertThat(written.get(0).getFileName().toString()).endsWith(".eml");
            assertThat(Files.readAllBytes(written.get(0))).isEqualTo(mime);
        }
    }

    @Test
    void aPersistent401IsNotALoop() {
        box.addMessage("inbox", Mimes.pdfMessage("<l@example.com>", "l", 300), T0);
        fake.fault(Fault.tokenExpired().onPath(".*/users/.*").always());
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                app.camel().getRouteController().getRouteStatus("import-invoices").isStopped());
        assertThat(fake.graphRequests().stream().filter(r -> r.status() == 401).count()).isEqualTo(2);
        assertThat(fake.tokensIssued()).isEqualTo(2);
        assertThat(box.messagesIn("inbox")).hasSize(1);
    }

    @Test
    void theSameInternetMessageIdUnderANewIdIsNotDeliveredTwice() {
        byte[] mime = Mimes.pdfMessage("<twin@example.com>", "twin", 300);
        box.addMessage("inbox", mime, T0);
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        // the same message comes back as a new item (e.g. exported and re-imported): a new immutable id
        box.addMessage("inbox", mime, T0.plusSeconds(60));
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 2);
        assertThat(Delivered.messageDirs(out())).hasSize(1);
    }

    @Test
    void pollsOnAQuartzCron() {
        box.addMessage("inbox", Mimes.pdfMessage("<cron@example.com>", "cron", 300), T0);
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.poll", "0/2 * * * * ?");
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        // the scheduler consumer with Quartz as its scheduler (greedy, like the interval polls)
        assertThat(app.camel().getRoute("import-invoices").getEndpoint().getEndpointUri()).startsWith("scheduler:")
                .contains("scheduler=quartz");
    }
}

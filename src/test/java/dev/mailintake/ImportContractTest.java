package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.intake.MessageIntake;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.MailSource;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The import contract, the same for every protocol: rules, delivery with metadata, Error with the reason, exactly
 * once across a crash between delivery and move. Each test runs against Graph (the fake) and IMAP (GreenMail).
 */
class ImportContractTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path tmp;
    private MailSource source;
    private TestApp app;

    static Stream<Arguments> protocols() {
        return Stream.of(Arguments.of("graph", (Supplier<MailSource>) MailSource::graph),
                Arguments.of("imap", (Supplier<MailSource>) MailSource::imap));
    }

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        if (source != null) {
            source.close();
        }
    }

    private Map<String, String> settings() {
        return source.settings(tmp.resolve("data"), out());
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void rulesAndMalformedMimeSendMessagesToErrorWithTheirReason(String protocol, Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", "true");
        s.put("mailintake.mailboxes.invoices.rules.allowed-attachment-types", "pdf, image/*");
        s.put("mailintake.mailboxes.invoices.rules.max-size", "64KB");
        source.add(Mimes.withAttachment("<exe@example.com>", "exe", "filename=\"setup.exe\"",
                "application/octet-stream", new byte[] {1, 2, 3}), T0);
        source.add(Mimes.pdfMessage("<big@example.com>", "big", 100_000), T0.plusSeconds(1));
        source.add(new byte[] {0, 1, 2, 3, (byte) 0xff, 0, 0, 13, 10, 13, 10, 42}, T0.plusSeconds(2));
        source.add(Mimes.plain("<plain@example.com>", "no attachment"), T0.plusSeconds(3));
        source.add(Mimes.withAttachment("<png@example.com>", "png", "filename=\"scan.png\"", "image/png",
                new byte[] {1, 2}), T0.plusSeconds(4));
        app = TestApp.start(s);

        await().ignoreExceptions().atMost(Duration.ofSeconds(30))
                .until(() -> source.inError() == 4 && source.inProcessed() == 1 && ledgerReasons().size() == 4);
        assertThat(source.inInbox()).isZero();
        // Graph's listing says the garbage has no attachment (hasAttachments=false), so require-attachment sends it to
        // Error before it is downloaded, and that is its reason; IMAP finds it malformed after the download
        // (ListedRulesTest: malformed MIME over Graph when no listed rule applies)
        assertThat(ledgerReasons()).containsExactlyInAnyOrder("attachment type not allowed", "too large",
                protocol.equals("graph") ? "no attachment" : "malformed MIME", "no attachment");
        assertThat(source.errorMarks()).hasSize(4).allSatisfy(mark -> assertThat(mark)
                .isIn("$MailIntakeError", "Mail Intake: attachment type not allowed", "Mail Intake: too large",
                        "Mail Intake: malformed MIME", "Mail Intake: no attachment"));
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        assertThat(Files.exists(dirs.get(0).resolve("attachments/scan.png"))).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void deliversTheRawMessageItsAttachmentsAndMetadata(String protocol, Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        String subject = "Rechnung Nr. 7 – Müller & Söhne, 請求書";
        byte[] mime = Mimes.withAttachment("<utf8@example.com>", subject, "filename*=utf-8''R%C3%BCckgabe%20%C3%A4.pdf",
                "application/pdf", "%PDF-1.4 test".getBytes(StandardCharsets.US_ASCII));
        source.add(mime, T0);
        app = TestApp.start(settings());

        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 1);
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        JsonNode meta = json.readTree(dirs.get(0).resolve("metadata.json").toFile());
        assertThat(meta.path("protocol").asText()).isEqualTo(protocol);
        assertThat(meta.path("subject").asText()).isEqualTo(subject);
        assertThat(meta.path("internetMessageId").asText()).isEqualTo("<utf8@example.com>");
        assertThat(meta.path("attachments").get(0).path("originalName").asText()).isEqualTo("Rückgabe ä.pdf");
        assertThat(Files.readString(dirs.get(0).resolve("attachments").resolve(
                meta.path("attachments").get(0).path("name").asText()))).isEqualTo("%PDF-1.4 test");
        assertThat(Files.readString(dirs.get(0).resolve("message.eml"), StandardCharsets.ISO_8859_1))
                .contains("Message-ID: <utf8@example.com>");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void aCrashBetweenDeliveryAndMoveDeliversNothingTwice(String protocol, Supplier<MailSource> sources) {
        source = sources.get();
        try (LogCapture log = LogCapture.of(MessageIntake.class.getName(), Level.INFO)) {
            app = TestApp.start(settings());
            MailboxStatus status = app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class)
                    .get("invoices").status();
            await().atMost(Duration.ofSeconds(20)).until(() -> status.lastPoll().isPresent());
            source.failMoves();
            for (int i = 0; i < 5; i++) {
                source.add(Mimes.pdfMessage("<c" + i + "@example.com>", "c" + i, 300), T0.plusSeconds(i));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> Delivered.messageDirs(out()).size() == 5);
            app.close();
            app = null;
            assertThat(source.inInbox()).isEqualTo(5);

            source.allowMoves();
            app = TestApp.start(settings());
            await().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 5
                    && log.count("was delivered before; moved to Processed") == 5);
            assertThat(source.inInbox()).isZero();
            assertThat(Delivered.messageDirs(out())).hasSize(5);
            assertThat(log.count("imported message")).as("delivered once each").isZero();
            assertThat(log.count("was delivered before; moved to Processed")).isEqualTo(5);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void aMessageMovedBackFromErrorIsImportedWithItsEarlierReason(String protocol, Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        source.add(Mimes.pdfMessage("<back@example.com>", "back", 20_000), T0);
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.rules.max-size", "8KB");
        app = TestApp.start(s);
        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).until(() -> source.inError() == 1
                && ledgerReasons().size() == 1);
        app.close();

        // the administrator raises the limit and moves the message back
        s.put("mailintake.mailboxes.invoices.rules.max-size", "1MB");
        source.moveErrorsBackToInbox();
        app = TestApp.start(s);
        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 1);
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        assertThat(json.readTree(dirs.get(0).resolve("metadata.json").toFile()).path("previousError").asText())
                .isEqualTo("too large");
    }

    /** Three different messages with one Message-ID: two with an attachment, one without (a resent mail, a list). */
    private static final String SHARED_ID = "<same@example.com>";

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void differentMessagesSharingAMessageIdAreEachImportedOnceIntoTheirOwnFolder(String protocol,
                                                                                Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", "true");
        source.add(Mimes.pdfMessage(SHARED_ID, "first", 300), T0);
        source.add(Mimes.plain(SHARED_ID, "no attachment"), T0.plusSeconds(1));
        app = TestApp.start(s);
        await().ignoreExceptions().atMost(Duration.ofSeconds(30))
                .until(() -> source.inProcessed() == 1 && source.inError() == 1);

        // the same Message-ID again, other content, after the first one was delivered and the second rejected
        source.add(Mimes.pdfMessage(SHARED_ID, "second", 500), T0.plusSeconds(2));
        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 2);
        assertThat(source.inError()).isEqualTo(1);
        assertThat(source.inInbox()).isZero();
        assertDeliveredOnceEachWithoutPreviousError("first", "second");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void differentMessagesSharingAMessageIdSurviveACrashBetweenDeliveryAndMove(String protocol,
                                                                              Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", "true");
        app = TestApp.start(s);
        MailboxStatus status = app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class)
                .get("invoices").status();
        await().atMost(Duration.ofSeconds(20)).until(() -> status.lastPoll().isPresent()); // folders resolved
        source.failMoves();
        source.add(Mimes.pdfMessage(SHARED_ID, "first", 300), T0);
        source.add(Mimes.plain(SHARED_ID, "no attachment"), T0.plusSeconds(1));
        await().ignoreExceptions().atMost(Duration.ofSeconds(30))
                .until(() -> Delivered.messageDirs(out()).size() == 1 && ledgerReasons("'REJECTED', 'ERROR'").contains("no attachment"));
        app.close(); // "crashes" with the first delivered but not moved
        app = null;

        source.allowMoves();
        source.add(Mimes.pdfMessage(SHARED_ID, "second", 500), T0.plusSeconds(2));
        app = TestApp.start(s);
        await().ignoreExceptions().atMost(Duration.ofSeconds(30))
                .until(() -> source.inProcessed() == 2 && source.inError() == 1);
        assertThat(source.inInbox()).isZero();
        assertDeliveredOnceEachWithoutPreviousError("first", "second");
    }

    private void assertDeliveredOnceEachWithoutPreviousError(String... subjects) throws Exception {
        List<Path> dirs = Delivered.messageDirs(out());
        List<String> delivered = new ArrayList<>();
        for (Path dir : dirs) {
            JsonNode meta = json.readTree(dir.resolve("metadata.json").toFile());
            delivered.add(meta.path("subject").asText());
            assertThat(meta.has("previousError")).as("no previousError of another message in " + dir).isFalse();
            assertThat(meta.path("internetMessageId").asText()).isEqualTo(SHARED_ID);
        }
        assertThat(delivered).containsExactlyInAnyOrder(subjects);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void theStatusPagesTestButtonSignsInAndOpensEachMailboxOfTheConnection(String protocol,
                                                                           Supplier<MailSource> sources) throws Exception {
        source = sources.get();
        source.add(Mimes.pdfMessage("<t1@example.com>", "t1", 300), T0);
        source.add(Mimes.pdfMessage("<t2@example.com>", "t2", 300), T0.plusSeconds(1));
        Map<String, String> s = settings();
        String connection = s.get("mailintake.mailboxes.invoices.connection");
        s.put("mailintake.mailboxes.invoices.enabled", "false"); // nothing is imported meanwhile
        s.put("mailintake.mailboxes.ghost.connection", connection);
        s.put("mailintake.mailboxes.ghost.address", "ghost@contoso.test");
        s.put("mailintake.mailboxes.ghost.enabled", "false");
        s.entrySet().stream().filter(e -> e.getKey().startsWith("mailintake.mailboxes.invoices.imap.")).toList()
                .forEach(e -> s.put(e.getKey().replace(".invoices.", ".ghost."), e.getValue()));
        s.entrySet().stream().filter(e -> e.getKey().startsWith("mailintake.mailboxes.invoices.protocol")).toList()
                .forEach(e -> s.put("mailintake.mailboxes.ghost.protocol", e.getValue()));
        int adminPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        app = TestApp.start(s);

        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .cookieHandler(new java.net.CookieManager()).build(); // the CSRF token's cookie
        String page = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + adminPort + "/")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        java.util.regex.Matcher csrf = java.util.regex.Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page);
        assertThat(csrf.find()).isTrue();
        String result = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + adminPort + "/actions/test-connection"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("csrf=" + csrf.group(1) + "&name="
                        + connection)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(result).contains("Test of connection " + connection + ": problems found")
                .contains("Token: issued").contains("Mailbox invoices (" + TestApp.ADDRESS + "): Inbox holds 2 messages")
                .contains("Mailbox ghost (ghost@contoso.test)").doesNotContain("fake-at-");
        String ghost = result.substring(result.indexOf("Mailbox ghost"));
        assertThat(ghost.substring(0, ghost.indexOf("</li>"))).startsWith("Mailbox ghost (ghost@contoso.test): mailbox")
                .doesNotContain("Inbox holds");
        assertThat(source.inInbox()).as("nothing imported or moved").isEqualTo(2);

        String forged = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + adminPort + "/actions/test-connection"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("csrf=forged&name=" + connection)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(forged).contains("Refused");
    }

    private List<String> ledgerReasons() throws Exception {
        return ledgerReasons("'ERROR'");
    }

    /** The ledger's reasons of messages in the given states (a SQL list of quoted names). */
    private List<String> ledgerReasons(String states) throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        List<String> reasons = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT reason FROM mi_ledger WHERE state IN (" + states + ") ORDER BY message_key")) {
            while (rs.next()) {
                reasons.add(rs.getString(1));
            }
        }
        return reasons;
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.store.StoredMessage;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.intake.MessageIntake;
import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.CapabilityFilterProxy;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.GreenMailImap;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.SelfSignedCertificate;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.UidSets;
import jakarta.mail.Flags;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IMAP with SASL XOAUTH2 through the real application against GreenMail, tokens from the fake's token endpoint. */
class ImapImportTest {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final String K = "mailintake.mailboxes.invoices.";
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path tmp;
    private GraphFake fake;
    private GreenMailImap imap;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        imap = TestApp.startImap(fake);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
        imap.close();
    }

    private Map<String, String> settings() {
        return TestApp.imapMailbox(tmp.resolve("data"), fake, imap, out());
    }

    private Path out() {
        return tmp.resolve("out");
    }

    private MailboxStatus status() {
        return app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class).get("invoices").status();
    }

    @Test
    void thirtyMessagesEndInProcessedOrErrorSignedInWithXOAuth2Only() throws Exception {
        Map<Integer, String> nonAscii = Map.of(0, "Größenänderung Ä", 3, "Счёт №42", 9, "請求書 2026",
                12, "Facture reçue – été");
        for (int i = 0; i < 30; i++) {
            String id = "<m" + i + "@example.com>";
            byte[] mime;
            if (i % 5 == 1) {
                mime = Mimes.plain(id, "no attachment " + i);
            } else if (i == 29) {
                mime = new byte[] {0, 1, 2, 3, (byte) 0xff, 0, 0, 13, 10, 13, 10, 42};
            } else if (nonAscii.containsKey(i)) {
                mime = Mimes.pdfMessage(id, nonAscii.get(i), 1_000 + i);
            } else {
                mime = Mimes.pdfMessage(id, "Invoice " + i, 1_000 + i);
            }
            imap.append(ADDRESS, "INBOX", mime, T0.plusSeconds(i));
        }
        Map<String, String> s = settings();
        s.put(K + "rules.require-attachment", "true");
        try (LogCapture trace = LogCapture.of("dev.mailintake.imap.protocol", Level.DEBUG)) {
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(60)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 23
                    && imap.messages(ADDRESS, "INBOX/Error").size() == 7);
            assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();

            List<String> lines = trace.lines();
            assertThat(lines).anyMatch(l -> l.contains("AUTHENTICATE XOAUTH2"));
            assertThat(lines).anyMatch(l -> l.matches(".*AUTHENTICATE XOAUTH2 command result: \\w+ OK.*"));
            assertThat(lines).noneMatch(l -> l.matches(".*: [A-Z]\\d+ (LOGIN|AUTHENTICATE PLAIN|AUTHENTICATE LOGIN).*"));
            assertThat(lines).noneMatch(l -> l.contains("fake-at-"));
            assertThat(lines).as("never a folder-wide expunge").noneMatch(l -> l.matches(".*: [A-Z]\\d+ EXPUNGE\\b.*"));
            // CLOSE only after EXAMINE (read-only: nothing expunged); GreenMail offers no UNSELECT
            assertThat(lines.stream().filter(l -> l.matches(".*: [A-Z]\\d+ CLOSE\\b.*")).count())
                    .isLessThanOrEqualTo(lines.stream().filter(l -> l.matches(".*: [A-Z]\\d+ EXAMINE\\b.*")).count());
        }
        for (StoredMessage m : imap.messages(ADDRESS, "INBOX/Error")) {
            assertThat(m.getFlags().getUserFlags()).containsExactly("$MailIntakeError");
        }
        assertThat(imap.messages(ADDRESS, "INBOX/Processed")).as("peeked, never marked read")
                .noneMatch(m -> m.isSet(Flags.Flag.SEEN));
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(23);
        List<String> subjects = new ArrayList<>();
        for (Path d : dirs) {
            subjects.add(json.readTree(d.resolve("metadata.json").toFile()).path("subject").asText());
        }
        assertThat(subjects).containsAll(nonAscii.values());
        assertThat(json.readTree(dirs.get(0).resolve("metadata.json").toFile()).path("messageKey").asText())
                .matches("\\d+/\\d+");
    }

    @Test
    void aLargeMessageIsStreamedInPartialFetchesAndArrivesByteForByte() throws Exception {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<large@example.com>", "large", 6_000_000), T0);
        byte[] stored = GreenMailImap.bytes(imap.messages(ADDRESS, "INBOX").get(0));
        Map<String, String> s = settings();
        s.put(K + "imap.fetch-size", "64KB");
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(60)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 1);
        Path eml = Delivered.messageDirs(out()).get(0).resolve("message.eml");
        assertThat(Files.size(eml)).isEqualTo(stored.length);
        assertThat(Files.readAllBytes(eml)).isEqualTo(stored);
    }

    @Test
    void implicitTlsChecksTheCertificateAgainstTheConfiguredTrustStore() throws Exception {
        Path certs = Files.createDirectories(tmp.resolve("certs"));
        SelfSignedCertificate cert = SelfSignedCertificate.generate(certs);
        try (GreenMailImap tls = GreenMailImap.startTls(cert.keyStore(), cert.password()).acceptTokensFrom(fake)) {
            tls.mailbox(ADDRESS).grantApp(TestApp.CLIENT_ID, ADDRESS);
            tls.append(ADDRESS, "INBOX", Mimes.pdfMessage("<tls@example.com>", "tls", 500), T0);
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(tls.port()));
            s.put(K + "imap.security", "ssl");
            s.put(K + "imap.trust-store", cert.trustStore().toString());
            s.put(K + "imap.trust-store-password", cert.password());
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(30)).until(() -> tls.messages(ADDRESS, "INBOX/Processed").size() == 1);
            app.close();

            // without the trust store the server's certificate is not trusted: nothing is sent, the message waits
            s.remove(K + "imap.trust-store");
            s.remove(K + "imap.trust-store-password");
            tls.append(ADDRESS, "INBOX", Mimes.pdfMessage("<tls2@example.com>", "tls2", 500), T0);
            try (LogCapture log = LogCapture.of(MessageIntake.class.getName(), Level.WARN)) {
                app = TestApp.start(s);
                // GreenMail's connection thread dies with the refused handshake: not the application's failure
                await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(20)).until(() -> log.lines().stream()
                        .anyMatch(l -> l.contains("cannot connect") && l.contains("PKIX")));
            }
            assertThat(tls.messages(ADDRESS, "INBOX")).hasSize(1);
        }
    }

    @Test
    void severalConnectionsShareTheInboxByUidAndImportEveryMessageOnce() throws Exception {
        for (int i = 0; i < 40; i++) {
            imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<c" + i + "@example.com>", "c" + i, 20_000 + i),
                    T0.plusSeconds(i));
        }
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port()).delayCommands(Duration.ofMillis(5));
             LogCapture log = LogCapture.of(MessageIntake.class.getName(), Level.INFO)) {
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(proxy.port()));
            s.put(K + "concurrency", "4");
            s.put(K + "imap.batch-size", "1"); // one message per command: the connections work side by side
            app = TestApp.start(s);
            // GreenMail may drop a connection when two of its sessions expunge at once (its own bug); the message
            // then waits for the next poll, which is what is tested here too
            await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60))
                    .until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 40);
            assertThat(proxy.commands().stream().filter(c -> c.endsWith(" AUTHENTICATE")).count())
                    .as("more than one connection").isGreaterThan(1);
            assertThat(proxy.commands()).as("every message addressed by UID after the listing")
                    .noneMatch(c -> c.matches("\\S+ (FETCH|STORE|COPY|MOVE)"));
            await().atMost(Duration.ofSeconds(10)).until(() -> log.count("imported message") == 40);
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(40);
        for (Path d : dirs) {
            String id = json.readTree(d.resolve("metadata.json").toFile()).path("internetMessageId").asText();
            assertThat(Files.readString(d.resolve("message.eml"), StandardCharsets.ISO_8859_1))
                    .as("content and key belong together").contains("Message-ID: " + id);
        }
    }

    @Test
    void healthIsDownUntilAFirstPollAndSaysWhyPollsCannotConnect() throws Exception {
        Map<String, String> s = settings();
        // TLS from the start against GreenMail's plain port (GreenMail's thread fails on the handshake bytes: ignored)
        s.put(K + "imap.security", "ssl");
        app = TestApp.start(s);
        await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(20)).until(() -> status().failedPolls() >= 1);
        JsonNode check = app.healthCheck("mailbox-invoices");
        assertThat(check.path("status").asText()).isEqualTo("DOWN");
        assertThat(check.path("message").asText()).startsWith("no poll has completed yet; last attempt: ")
                .contains("TLS failed: check imap.security and imap.port");
        assertThat(status().state()).isEqualTo(MailboxStatus.State.STARTING);
    }

    @Test
    void aRunningMailboxWhosePollsKeepFailingTurnsDownWithTheLastError() throws Exception {
        CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port());
        Map<String, String> s = settings();
        s.put(K + "imap.port", String.valueOf(proxy.port()));
        app = TestApp.start(s);
        await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(20)).until(() -> status().lastPoll().isPresent());
        assertThat(app.healthCheck("mailbox-invoices").path("status").asText()).isEqualTo("UP");

        proxy.close(); // the server goes away: every poll fails to connect
        await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(20)).until(() -> status().failedPolls() >= 1);
        assertThat(app.healthCheck("mailbox-invoices").path("status").asText()).as("one failed poll is no outage")
                .isEqualTo("UP");
        await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(20)).until(() -> "DOWN".equals(app.healthCheck("mailbox-invoices")
                .path("status").asText()));
        assertThat(app.healthCheck("mailbox-invoices").path("message").asText())
                .startsWith("the last 3 polls failed: ").contains("cannot connect")
                .contains("check imap.host, imap.port and firewalls");
    }

    @Test
    void droppedConnectionsAndLostMoveAnswersLoseAndDuplicateNothing() throws Exception {
        for (int i = 0; i < 12; i++) {
            imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<d" + i + "@example.com>", "d" + i, 3_000 + i),
                    T0.plusSeconds(i));
        }
        // the 3rd and 7th moves are executed by the server but their answers are lost with the connection
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port())
                .dropConnectionAfter("UID MOVE", 3, 7);
             LogCapture log = LogCapture.of("dev.mailintake", Level.INFO)) {
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(proxy.port()));
            s.put(K + "imap.batch-size", "1"); // a move per message (ImapBatchTest loses a batch's answer)
            app = TestApp.start(s);
            await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60))
                    .until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 12);
            assertThat(proxy.commands().stream().filter(c -> c.endsWith(" AUTHENTICATE")).count())
                    .as("reconnected after each drop").isGreaterThanOrEqualTo(3);
            assertThat(log.count("left in the Inbox for the next poll")).isGreaterThanOrEqualTo(2);
            assertThat(log.count("not written again")).as("no message delivered twice").isZero();
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        assertThat(imap.messages(ADDRESS, "INBOX/Error")).isEmpty();
        assertThat(Delivered.messageDirs(out())).hasSize(12);
    }

    @Test
    void aMessageOverTheSizeLimitGoesToErrorWithoutBeingDownloaded() {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<huge@example.com>", "huge", 200_000), T0);
        Map<String, String> s = settings();
        s.put(K + "rules.max-size", "64KB");
        try (LogCapture trace = LogCapture.of("dev.mailintake.imap.protocol", Level.DEBUG)) {
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(20)).until(() -> imap.messages(ADDRESS, "INBOX/Error").size() == 1);
            assertThat(trace.lines()).as("decided from RFC822.SIZE in the listing").noneMatch(l -> l.contains("BODY.PEEK"));
        }
        assertThat(Delivered.messageDirs(out())).isEmpty();
    }

    @Test
    void aSharedMailboxIsOpenedWithTheSignedInUsersToken() throws Exception {
        String admin = "admin@contoso.test";
        String shared = "scans@contoso.test";
        int adminPort = freePort();
        fake.registerUser(TestApp.TENANT, admin, "Ada Admin");
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        imap.mailbox(shared).grantUser(admin, shared);
        imap.append(shared, "INBOX", Mimes.pdfMessage("<s1@example.com>", "shared", 500), T0);
        Map<String, String> s = settings();
        s.put("mailintake.connections.contoso-imap.flow", "delegated");
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put(K + "address", shared);
        app = TestApp.start(s);

        BrowserSignIn browser = new BrowserSignIn(fake, adminPort);
        String authorize = browser.authorizeUrl("contoso-imap");
        assertThat(java.net.URLDecoder.decode(authorize, StandardCharsets.UTF_8))
                .contains("https://outlook.office.com/IMAP.AccessAsUser.All");
        Map.Entry<String, Map<String, String>> form = browser.formPost(authorize);
        HttpResponse<String> done = browser.post(form.getKey(), form.getValue());
        assertThat(done.body()).contains("authorized as " + admin);

        await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(shared, "INBOX/Processed").size() == 1);
        assertThat(Delivered.messageDirs(out())).hasSize(1);
    }

    @Test
    void aGenericOAuth2ProviderWorksEndToEnd() throws Exception {
        String user = "someone@gmail.test";
        int adminPort = freePort();
        fake.registerUser(TestApp.TENANT, user, "Some One");
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        imap.mailbox(user);
        imap.append(user, "INBOX", Mimes.pdfMessage("<g1@example.com>", "gmail", 500), T0);
        Map<String, String> s = settings();
        String c = "mailintake.connections.contoso-imap.";
        s.put(c + "provider", "generic");
        s.put(c + "flow", "delegated");
        s.put(c + "authorize-url", fake.authorizeEndpoint(TestApp.TENANT));
        s.put(c + "token-url", fake.tokenEndpoint(TestApp.TENANT));
        s.put(c + "scopes", "https://mail.google.com/ offline_access");
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put(K + "address", user);
        app = TestApp.start(s);

        HttpResponse<String> done = new BrowserSignIn(fake, adminPort).signInByRedirect("contoso-imap");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(user, "INBOX/Processed").size() == 1);
        assertThat(Delivered.messageDirs(out())).hasSize(1);
    }

    @Test
    void aServerWithoutXOAuth2StopsTheMailboxBeforeAnyCredentialIsSent() {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<n@example.com>", "n", 500), T0);
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port(), "AUTH=XOAUTH2")) {
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(proxy.port()));
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(20)).until(() -> status().state() == MailboxStatus.State.FAILED);
            assertThat(status().reason().orElseThrow()).contains("does not offer SASL XOAUTH2")
                    .contains("never sends the token as a password");
            assertThat(proxy.commands()).isNotEmpty()
                    .noneMatch(cmd -> cmd.endsWith(" LOGIN") || cmd.endsWith(" AUTHENTICATE"));
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).hasSize(1);
    }

    @Test
    void withoutMoveItCopiesAndExpungesOnlyThatMessage() {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<foreign@example.com>", "someone deleted me", 500), T0,
                new Flags(Flags.Flag.DELETED));
        for (int i = 0; i < 3; i++) {
            imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<nm" + i + "@example.com>", "nm", 500), T0.plusSeconds(i + 1));
        }
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port(), "MOVE")) {
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(proxy.port()));
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 3
                    && imap.messages(ADDRESS, "INBOX").size() == 1);
            List<String> commands = proxy.commands();
            assertThat(commands).noneMatch(cmd -> cmd.endsWith(" MOVE") || cmd.endsWith(" EXPUNGE")
                    && !cmd.contains(" UID "));
            // closing without expunging: UNSELECT, or (GreenMail has no UNSELECT) EXAMINE, then CLOSE read-only
            assertThat(commands.stream().filter(cmd -> cmd.endsWith(" CLOSE")).count())
                    .isLessThanOrEqualTo(commands.stream().filter(cmd -> cmd.endsWith(" EXAMINE")).count());
            // moved in a batch: UID COPY, UID STORE \Deleted and UID EXPUNGE of exactly the same UIDs
            List<String> uid = proxy.uidCommandLines();
            List<String> copied = uid.stream().filter(c -> c.startsWith("UID COPY ")).map(c -> c.split(" ")[2]).toList();
            assertThat(copied).as(uid.toString()).isNotEmpty();
            assertThat(uid.stream().filter(c -> c.startsWith("UID EXPUNGE ")).map(c -> c.split(" ")[2]).toList())
                    .as(uid.toString()).isEqualTo(copied);
            assertThat(uid.stream().filter(c -> c.startsWith("UID STORE ") && c.contains("\\Deleted"))
                    .map(c -> c.split(" ")[2]).toList()).as(uid.toString()).isEqualTo(copied);
            assertThat(copied.stream().mapToLong(set -> UidSets.count(set)).sum()).isEqualTo(3);
        }
        assertThat(imap.messageIds(ADDRESS, "INBOX")).as("the message someone else flagged is left alone")
                .containsExactly("<foreign@example.com>");
        assertThat(Delivered.messageDirs(out())).hasSize(3);
    }

    @Test
    void tokensAreRenewedWhenTheyExpireBetweenPollsAndWhenTheServerRefusesOne() {
        // tokens live 5 min + 2 s: with the 5-minute margin the application must get a new one 2 s later
        fake.tokenLifetime(Duration.ofMinutes(5).plusSeconds(2));
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<e1@example.com>", "e1", 500), T0);
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(20)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 1);
        int issued = fake.tokensIssued();
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> true);
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<e2@example.com>", "e2", 500), T0.plusSeconds(1));
        await().atMost(Duration.ofSeconds(20)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 2);
        assertThat(fake.tokensIssued()).as("a new token at the next connect").isGreaterThan(issued);

        // the server stops accepting the token it was given (revoked): one renewal, then on
        fake.tokenLifetime(Duration.ofHours(1));
        imap.refuseCurrentTokens();
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<e3@example.com>", "e3", 500), T0.plusSeconds(2));
        await().atMost(Duration.ofSeconds(20)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 3);
        assertThat(status().state()).isEqualTo(MailboxStatus.State.RUNNING);
    }

    @Test
    void aTokenThatDoesNotOpenTheMailboxStopsItWithTheFix() {
        imap.mailbox("other@contoso.test");
        Map<String, String> s = settings();
        s.put(K + "address", "other@contoso.test"); // the app was given no access to it
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> status().state() == MailboxStatus.State.FAILED);
        assertThat(status().reason().orElseThrow()).contains("refused a freshly issued token for other@contoso.test")
                .contains("Add-MailboxPermission").doesNotContain("fake-at-");
    }

    @Test
    void exchangesAuthenticatedButNotConnectedStopsTheMailboxWithTheFix() {
        try (CapabilityFilterProxy proxy = CapabilityFilterProxy.hiding(imap.port())
                .answerSelectWith("BAD User is authenticated but not connected.")) {
            Map<String, String> s = settings();
            s.put(K + "imap.port", String.valueOf(proxy.port()));
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(20)).until(() -> status().state() == MailboxStatus.State.FAILED);
            assertThat(status().reason().orElseThrow()).contains("accepted the token for " + ADDRESS)
                    .contains("Add-MailboxPermission");
        }
    }

    @Test
    void aUidValidityChangeDoesNotImportDeliveredMessagesAgain() throws Exception {
        imap.createFolder(ADDRESS, "INBOX/Scans");
        List<byte[]> mimes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            mimes.add(Mimes.pdfMessage("<u" + i + "@example.com>", "u" + i, 400));
        }
        Map<String, String> s = settings();
        s.put(K + "folders.inbox", "Scans");
        try (LogCapture log = LogCapture.of(MessageIntake.class.getName(), Level.INFO)) {
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(20)).until(() -> status().lastPoll().isPresent());
            imap.deleteFolder(ADDRESS, "INBOX/Processed"); // delivered, but the moves fail
            mimes.forEach(m -> imap.append(ADDRESS, "INBOX/Scans", m, T0));
            await().atMost(Duration.ofSeconds(30)).until(() -> Delivered.messageDirs(out()).size() == 3);
            app.close();
            app = null;

            // the folder is recreated with the same messages: a new UIDVALIDITY, new UIDs
            imap.deleteFolder(ADDRESS, "INBOX/Scans");
            imap.createFolder(ADDRESS, "INBOX/Scans");
            imap.createFolder(ADDRESS, "INBOX/Processed");
            mimes.forEach(m -> imap.append(ADDRESS, "INBOX/Scans", m, T0));
            imap.append(ADDRESS, "INBOX/Scans", Mimes.pdfMessage("<u-new@example.com>", "new", 400), T0);
            app = TestApp.start(s);
            await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 4
                    && log.count("was imported before under another id") == 3 && log.count("imported message") == 1);
            assertThat(Delivered.messageDirs(out())).hasSize(4);
            assertThat(log.count("imported message")).as("only the new one is fetched and delivered").isEqualTo(1);
        }
    }

    @Test
    void nonAsciiFolderNamesAreCreatedAndUsedInModifiedUtf7() {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<u7@example.com>", "u7", 500), T0);
        Map<String, String> s = settings();
        s.put(K + "folders.processed", "Inbox/Geprüft – 2026");
        s.put(K + "create-folders", "true");
        app = TestApp.start(s);
        // RFC 3501 5.1.3: the name travels as modified UTF-7 (CREATE and UID MOVE alike); GreenMail decodes it
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> imap.messages(ADDRESS, "INBOX/Geprüft – 2026").size() == 1);
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
    }

    @Test
    void anAmbiguousFolderNameStopsTheMailboxListingEveryMatchAsAPathFromTheRoot() {
        // a top-level Done is one match among the others, not a silent winner
        imap.createFolder(ADDRESS, "Done").createFolder(ADDRESS, "Archive").createFolder(ADDRESS, "Archive/Done")
                .createFolder(ADDRESS, "Old").createFolder(ADDRESS, "Old/Done");
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<amb@example.com>", "amb", 500), T0);
        Map<String, String> s = settings();
        s.put(K + "folders.processed", "Done");
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> status().state() == MailboxStatus.State.FAILED);
        assertThat(status().reason().orElseThrow())
                .contains("= Done is ambiguous: 3 folders have this name (/Archive/Done, /Done, /Old/Done)")
                .contains("give the one you mean as a path from the root: " + K + "folders.processed=/Archive/Done or "
                        + K + "folders.processed=/Done or " + K + "folders.processed=/Old/Done");
        assertThat(imap.messages(ADDRESS, "INBOX")).hasSize(1);
        assertThat(imap.messages(ADDRESS, "Done")).isEmpty();
    }

    @Test
    void aPathFromTheRootNamesOneFolderOfAnAmbiguousName() {
        imap.createFolder(ADDRESS, "Done").createFolder(ADDRESS, "Archive").createFolder(ADDRESS, "Archive/Done");
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<top@example.com>", "top", 500), T0);
        Map<String, String> s = settings();
        s.put(K + "folders.inbox", "well-known:inbox");
        s.put(K + "folders.processed", "/Done");
        s.put(K + "folders.error", "/Archive/Done");
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> imap.messages(ADDRESS, "Done").size() == 1);
        assertThat(imap.messages(ADDRESS, "INBOX")).isEmpty();
        assertThat(imap.messages(ADDRESS, "Archive/Done")).isEmpty();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

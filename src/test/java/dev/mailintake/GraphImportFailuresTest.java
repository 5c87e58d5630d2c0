package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Permanent and transient failures, mailbox-level failures and folder creation, through the real application. */
class GraphImportFailuresTest {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        box = fake.mailbox(ADDRESS);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "create-folders", "true");
        return s;
    }

    private boolean stopped(String routeId) {
        ServiceStatus status = app.camel().getRouteController().getRouteStatus(routeId);
        return status != null && status.isStopped();
    }

    /** A target endpoint that refuses messages whose subject contains "poison", or all while {@code down}. */
    private static final class FlakyTarget extends RouteBuilder {
        final AtomicBoolean down = new AtomicBoolean();
        final List<String> received = new CopyOnWriteArrayList<>();

        @Override
        public void configure() {
            from("direct:flaky-target").routeId("flaky-target").process(e -> {
                String subject = e.getIn().getHeader("MailIntakeSubject", String.class);
                if (down.get() || subject.contains("poison")) {
                    throw new IOException("target refused " + subject);
                }
                byte[] body = e.getIn().getBody(byte[].class);
                received.add(subject + ":" + body.length);
            });
        }
    }

    @Test
    void createsMissingProcessedAndErrorFolders() {
        box.addMessage("inbox", Mimes.pdfMessage("<f@example.com>", "f", 100), T0);
        app = TestApp.start(settings());
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(box.folder("Inbox/Error")).isNotNull();
    }

    @Test
    void aListingThatKeepsFailingWithA4xxTurnsTheMailboxDownAfterThreePolls() throws Exception {
        box.createFolder("inbox", "Processed");
        box.createFolder("inbox", "Error");
        app = TestApp.start(settings());
        dev.mailintake.intake.MailboxStatus status = app.camel().getRegistry()
                .lookupByNameAndType("mailboxes", dev.mailintake.intake.Mailboxes.class).get("invoices").status();
        await().atMost(Duration.ofSeconds(20)).until(() -> status.lastPoll().isPresent());
        assertThat(app.healthCheck("mailbox-invoices").path("status").asText()).isEqualTo("UP");

        fake.fault(Fault.error(400, "ErrorInvalidRequest", "The request is invalid.")
                .on("GET", ".*/mailFolders/[^/]+/messages").always());
        box.addMessage("inbox", Mimes.pdfMessage("<l@example.com>", "l", 100), T0);
        await().atMost(Duration.ofSeconds(30)).until(() -> "DOWN".equals(app.healthCheck("mailbox-invoices")
                .path("status").asText()));
        assertThat(app.healthCheck("mailbox-invoices").path("message").asText())
                .startsWith("the last 3 polls failed: ").contains("Graph 400 ErrorInvalidRequest");

        fake.clearFaults(); // fixed: the next poll succeeds and the check is UP again
        await().atMost(Duration.ofSeconds(20)).until(() -> "UP".equals(app.healthCheck("mailbox-invoices")
                .path("status").asText()));
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
    }

    @Test
    void poisonMessageGoesToErrorWhileOthersGetThrough() {
        FlakyTarget target = new FlakyTarget();
        box.addMessage("inbox", Mimes.pdfMessage("<p@example.com>", "poison", 100), T0);
        for (int i = 0; i < 3; i++) {
            box.addMessage("inbox", Mimes.pdfMessage("<ok" + i + "@example.com>", "ok " + i, 100), T0.plusSeconds(1 + i));
        }
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.target", "direct:flaky-target");
        s.put("mailintake.mailboxes.invoices.max-delivery-attempts", "2");
        app = TestApp.start(s, target);

        await().ignoreExceptions().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Error").size() == 1);
        assertThat(box.messagesIn("Inbox/Error").get(0).categories()).contains("Mail Intake: delivery keeps failing");
        assertThat(box.messagesIn("Inbox/Processed")).hasSize(3);
        assertThat(target.received).hasSize(3).allSatisfy(r -> assertThat(r).startsWith("ok "));
    }

    @Test
    void targetDownForEveryoneLeavesMessagesInTheInboxUntilItIsBack() {
        FlakyTarget target = new FlakyTarget();
        target.down.set(true);
        for (int i = 0; i < 2; i++) {
            box.addMessage("inbox", Mimes.pdfMessage("<d" + i + "@example.com>", "d " + i, 100), T0.plusSeconds(i));
        }
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.target", "direct:flaky-target");
        s.put("mailintake.mailboxes.invoices.max-delivery-attempts", "1");
        app = TestApp.start(s, target);

        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> fake.graphRequests().stream()
                .filter(r -> r.path().endsWith("/$value")).count() >= 6);
        assertThat(box.messagesIn("inbox")).hasSize(2);
        assertThat(box.messagesIn("Inbox/Error")).isEmpty();

        target.down.set(false);
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 2);
        assertThat(target.received).hasSize(2);
    }

    @Test
    void moveWhoseAnswerIsLostIsRetriedAndTheMessageIsImportedOnce() {
        box.addMessage("inbox", Mimes.pdfMessage("<lost@example.com>", "lost", 100), T0);
        fake.fault(Fault.resetMidBody().on("POST", ".*/move").times(1));
        app = TestApp.start(settings());
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(box.allMessages()).hasSize(1);
        assertThat(Delivered.messageDirs(tmp.resolve("out"))).hasSize(1);
    }

    @Test
    void wrongClientSecretStopsTheMailboxWithAClearMessage() throws Exception {
        box.addMessage("inbox", Mimes.pdfMessage("<w@example.com>", "w", 100), T0);
        Map<String, String> s = settings();
        s.put("mailintake.connections.contoso.client-secret", "not-the-secret-value-123");
        app = TestApp.start(s);
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> stopped("import-invoices"));
        String log = Files.readString(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "test-run.log"));
        assertThat(log).contains("the client secret is invalid (invalid_client AADSTS7000215)");
        assertThat(log).doesNotContain("not-the-secret-value-123");
        assertThat(box.messagesIn("inbox")).hasSize(1);
    }

    @Test
    void oneMailboxWithoutAccessDoesNotStopTheOthers() throws Exception {
        FakeMailbox other = fake.mailbox("orders@contoso.test");
        other.addMessage("inbox", Mimes.pdfMessage("<o@example.com>", "o", 100), T0);
        box.addMessage("inbox", Mimes.pdfMessage("<i@example.com>", "i", 100), T0);
        fake.fault(Fault.error(403, "ErrorAccessDenied", "Access to OData is disabled.").forMailbox(ADDRESS).always());
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.orders.connection", "contoso");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.poll", "1s");
        s.put("mailintake.mailboxes.orders.create-folders", "true");
        s.put("mailintake.mailboxes.orders.target", "folder:" + tmp.resolve("orders"));
        app = TestApp.start(s);

        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> other.messagesIn("Inbox/Processed").size() == 1
                && stopped("import-invoices"));
        assertThat(stopped("import-orders")).isFalse();
        assertThat(box.messagesIn("inbox")).hasSize(1);
        String metrics = TestApp.http().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(app.healthUrl().replace("/observe/health", "/observe/metrics"))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("mailintake_messages_imported_total{mailbox=\"orders\"} 1.0")
                .contains("mailintake_mailbox_up{mailbox=\"invoices\"} 0.0")
                .contains("mailintake_mailbox_up{mailbox=\"orders\"} 1.0");
    }

    @Test
    void configurationProblemsAreAllReportedAndNothingStarts() {
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.folders.inbox", "Inbox/");
        s.put("mailintake.mailboxes.invoices.rules.max-size", "huge");
        s.put("mailintake.connections.contoso.tenant-id", "");
        s.put("mailintake.mailboxes.orders.connection", "contoso");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.target", "sftp://capture@scanhost/inbox");
        Throwable thrown = null;
        try {
            app = TestApp.start(s);
        } catch (RuntimeException e) {
            thrown = e;
        }
        assertThat(thrown).isNotNull();
        assertThat(thrown).rootCause().hasMessageContainingAll("4 configuration problems",
                "mailintake.mailboxes.orders.target: no Camel component 'sftp'",
                "mailintake.mailboxes.invoices.folders.inbox", "mailintake.mailboxes.invoices.rules.max-size",
                "mailintake.connections.contoso.tenant-id: missing");
        assertThat(fake.graphRequests()).isEmpty();
        assertThat(fake.tokenRequests()).isEmpty();
    }

    @Test
    void withoutMailboxesItStartsServesHealthAndSaysHowToConfigure() throws Exception {
        app = TestApp.start(TestApp.baseSettings(tmp.resolve("data")));
        String health = TestApp.http().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(app.healthUrl())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(health).contains("\"status\":\"UP\"");
        String log = Files.readString(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "test-run.log"),
                StandardCharsets.UTF_8);
        assertThat(log).contains("No mailbox configured yet").contains("mailintake.mailboxes.invoices.address");
    }
}

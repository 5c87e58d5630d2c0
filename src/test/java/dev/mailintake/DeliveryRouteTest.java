package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.StreamCache;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A mailbox's target is a user's YAML route: the contract of docs/routes.md, through the real application. */
class DeliveryRouteTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final String DELIVER_YAML = """
            - route:
                id: deliver
                from:
                  uri: direct:deliver
                  steps:
                    - choice:
                        when:
                          - simple: "${header.MailIntakeSubject} contains 'reject-header'"
                            steps:
                              - setHeader:
                                  name: MailIntakeReject
                                  constant: "not for us"
                          - simple: "${header.MailIntakeSubject} contains 'reject-exception'"
                            steps:
                              - throwException:
                                  exceptionType: dev.mailintake.intake.RejectMessage
                                  message: "thrown out"
                        otherwise:
                          steps:
                            - to: direct:probe
            """;

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

    private Map<String, String> settings() throws IOException {
        Files.createDirectories(tmp.resolve("routes"));
        Files.writeString(tmp.resolve("routes/deliver.yaml"), DELIVER_YAML);
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.put("mailintake.mailboxes.invoices.target", "direct:deliver");
        return s;
    }

    /** The end of the user's route: what it was given; fails the first deliveries of subject "flaky". */
    private static final class Probe extends RouteBuilder {
        final List<String> bodyTypes = new CopyOnWriteArrayList<>();
        final Map<String, byte[]> received = new ConcurrentHashMap<>();
        final List<Map<String, Object>> headers = new CopyOnWriteArrayList<>();
        final AtomicInteger flakyFailures = new AtomicInteger();

        @Override
        public void configure() {
            from("direct:probe").routeId("probe").process(e -> {
                Object body = e.getIn().getBody();
                String subject = e.getIn().getHeader("MailIntakeSubject", String.class);
                if (subject.equals("flaky") && flakyFailures.getAndIncrement() < 3) {
                    throw new IOException("DMS down");
                }
                bodyTypes.add(body.getClass().getName() + (body instanceof StreamCache ? " StreamCache" : "")
                        + (body instanceof InputStream ? " InputStream" : ""));
                byte[] bytes = ((InputStream) body).readAllBytes();
                if (received.putIfAbsent(subject, bytes) != null) {
                    throw new AssertionError("delivered twice: " + subject);
                }
                headers.add(Map.copyOf(e.getIn().getHeaders()));
            });
        }
    }

    @Test
    void completingDeliversThrowingLeavesInTheInboxRejectingSendsToErrorWithTheReason() throws Exception {
        byte[] ok = Mimes.pdfMessage("<ok@example.com>", "ok", 3_000);
        box.addMessage("inbox", ok, T0);
        box.addMessage("inbox", Mimes.pdfMessage("<h@example.com>", "reject-header", 100), T0.plusSeconds(1));
        box.addMessage("inbox", Mimes.pdfMessage("<x@example.com>", "reject-exception", 100), T0.plusSeconds(2));
        box.addMessage("inbox", Mimes.pdfMessage("<f@example.com>", "flaky", 100), T0.plusSeconds(3));
        Probe probe = new Probe();
        List<NotifyBuilder> polls = new ArrayList<>();
        app = TestApp.start(settings(), probe, camel -> {
            polls.add(TestApp.polls(camel, "invoices").whenDone(1).create());
            polls.add(TestApp.polls(camel, "invoices").whenDone(2).create());
        });

        // the first poll: ok delivered, both rejections in Error; flaky: 1 try + 2 redeliveries fail, it stays in the
        // Inbox ...
        assertThat(polls.get(0).matches(30, TimeUnit.SECONDS)).as("the first poll is done").isTrue();
        assertThat(probe.flakyFailures).hasValue(3);
        assertThat(box.messagesIn("inbox").stream().map(m -> m.internetMessageId())).containsExactly("<f@example.com>");
        assertThat(box.messagesIn("Inbox/Processed")).hasSize(1);
        assertThat(box.messagesIn("Inbox/Error")).hasSize(2);
        // ... and the next poll delivers it once
        assertThat(polls.get(1).matches(30, TimeUnit.SECONDS)).as("the second poll is done").isTrue();
        assertThat(box.messagesIn("Inbox/Processed")).hasSize(2);
        assertThat(box.messagesIn("Inbox/Error")).hasSize(2);
        assertThat(box.messagesIn("inbox")).isEmpty();
        assertThat(probe.received.keySet()).containsExactlyInAnyOrder("ok", "flaky");
        assertThat(probe.received.get("ok")).isEqualTo(ok);
        // the raw MIME as a file-backed stream, never a byte[]
        assertThat(probe.bodyTypes).allSatisfy(t -> assertThat(t).contains("StreamCache", "InputStream")
                .doesNotContain("[B"));
        Map<String, Object> h = probe.headers.stream().filter(m -> "ok".equals(m.get("MailIntakeSubject")))
                .findFirst().orElseThrow();
        assertThat(h).containsEntry("MailIntakeMailbox", "invoices")
                .containsEntry("MailIntakeInternetMessageId", "<ok@example.com>")
                .containsEntry("MailIntakeAttachmentCount", 1)
                .containsEntry("MailIntakeSize", (long) ok.length)
                .containsKeys("MailIntakeMessageKey", "MailIntakeFrom", "MailIntakeTo", "MailIntakeReceivedAt",
                        "MailIntakeSha256", "MailIntakeMetadata");
        assertThat((String) h.get("MailIntakeFrom")).contains("alice@example.com");
        assertThat(box.messagesIn("Inbox/Error")).extracting(m -> String.join(",", m.categories()))
                .containsExactlyInAnyOrder("Mail Intake: not for us", "Mail Intake: thrown out");
    }

    @Test
    void aDirectTargetWithoutItsRouteIsAConfigurationProblem() throws Exception {
        Map<String, String> s = settings();
        s.put("mailintake.mailboxes.invoices.target", "direct:dms");
        Throwable thrown = catchThrowable(() -> app = TestApp.start(s));
        assertThat(MailIntakeApplication.describe(thrown))
                .contains("mailintake.mailboxes.invoices.target: no route consumes direct:dms");
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user route as a mailbox's target, in the real application (a JVM of its own) killed with {@code kill -9} while the
 * route is at work: after a restart every message has reached the route, none twice without the flag
 * {@code MailIntakePossibleDuplicate} (a message handed over just before the kill may have arrived: its second
 * delivery says so). Each delivery writes a file of its own, so a second delivery would show.
 */
class UserRouteCrashTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private final List<AppProcess> apps = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException {
        apps.forEach(AppProcess::close);
        Path logs = Files.createDirectories(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"),
                "user-route-crash"));
        for (AppProcess app : apps) {
            Files.write(logs.resolve("instance-" + app.pid() + ".log"), app.lines());
        }
        if (fake != null) {
            fake.close();
        }
    }

    private AppProcess start(Path config) {
        AppProcess app = AppProcess.start(tmp, Map.of(), "--config", config.toString());
        apps.add(app);
        return app;
    }

    @Test
    void aKill9WhileTheUserRouteWorksDeliversNothingTwice() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        for (int i = 0; i < 12; i++) {
            box.addMessage("inbox", Mimes.pdfMessage("<u" + i + "@example.com>", "u" + i, 300),
                    Instant.parse("2026-11-20T08:00:00Z").plusSeconds(i));
        }
        Path out = Files.createDirectories(tmp.resolve("capture"));
        Path delivered = Files.createDirectories(out.resolve("delivered"));
        Path flagged = Files.createDirectories(out.resolve("possible-duplicates"));
        Files.createDirectories(tmp.resolve("routes"));
        // every delivery is a file of its own (named by the exchange), written after a while of work
        Files.writeString(tmp.resolve("routes").resolve("capture.yaml"), """
                - route:
                    id: capture
                    from:
                      uri: direct:capture
                      steps:
                        - delay:
                            constant: "1200"
                        - choice:
                            when:
                              - simple: "${header.MailIntakePossibleDuplicate}"
                                steps:
                                  - to: "file:%s?fileName=${exchangeId}.eml"
                            otherwise:
                              steps:
                                - to: "file:%s?fileName=${exchangeId}.eml"
                """.formatted(flagged, delivered), StandardCharsets.UTF_8);
        Path config = captureConfig();

        AppProcess first = start(config);
        await().atMost(Duration.ofSeconds(60)).until(() -> deliveries(delivered).size() >= 3);
        first.kill(); // other messages are inside the route's delay now
        assertThat(box.messagesIn("inbox")).as("killed in the middle").isNotEmpty();

        start(config);
        await().atMost(Duration.ofSeconds(90)).until(() -> box.messagesIn("Inbox/Processed").size() == 12);
        List<String> unflagged = deliveries(delivered);
        List<String> all = new ArrayList<>(unflagged);
        all.addAll(deliveries(flagged));
        assertThat(unflagged).as("never twice without the flag").doesNotHaveDuplicates();
        assertThat(new java.util.TreeSet<>(all)).as("every message reached the route").hasSize(12);
        assertThat(all.size() - 12).as("second deliveries: only messages in hand at the kill").isLessThanOrEqualTo(8);
    }

    /**
     * One message, killed while the route holds it, with H2's background writer held off: only {@code DELIVERING},
     * made durable before the hand-over, tells the restarted instance that the route may have it already. Its second
     * delivery must carry the flag; an unflagged one would wait in the route's delay and the test would time out.
     */
    @Test
    void theDeliveringRecordIsInTheFileBeforeTheHandOver() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.pdfMessage("<one@example.com>", "one", 300), Instant.parse("2026-11-20T08:00:00Z"));
        Path received = Files.createDirectories(tmp.resolve("received"));
        Path flagged = Files.createDirectories(tmp.resolve("flagged"));
        Files.createDirectories(tmp.resolve("routes"));
        Files.writeString(tmp.resolve("routes").resolve("capture.yaml"), """
                - route:
                    id: capture
                    from:
                      uri: direct:capture
                      steps:
                        - choice:
                            when:
                              - simple: "${header.MailIntakePossibleDuplicate}"
                                steps:
                                  - to: "file:%s?fileName=${exchangeId}.eml"
                            otherwise:
                              steps:
                                - to: "file:%s?fileName=${exchangeId}.eml"
                                - delay:
                                    constant: "120000"
                """.formatted(flagged, received), StandardCharsets.UTF_8);
        Path config = captureConfig();

        AppProcess first = start(config);
        await().atMost(Duration.ofSeconds(60)).until(() -> deliveries(received).size() == 1);
        first.kill();

        start(config);
        await().atMost(Duration.ofSeconds(60)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(deliveries(received)).as("unflagged once").containsExactly("<one@example.com>");
        assertThat(deliveries(flagged)).as("the second delivery is flagged").containsExactly("<one@example.com>");
    }

    /**
     * The mailbox delivering to the route {@code direct:capture}, with H2's background writer held off: only what the
     * application makes durable itself ({@code Ledger.persist}) is in the store's file at a kill.
     */
    private Path captureConfig() {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("unused"));
        s.put("mailintake.mailboxes.invoices.target", "direct:capture");
        s.put("mailintake.store.url", s.get("mailintake.store.url") + ";WRITE_DELAY=60000");
        s.put("camel.management.port", String.valueOf(AppProcess.freePort()));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        return AppProcess.configFile(tmp.resolve("application.properties"), s);
    }

    /** The Message-ID of every file the route wrote. */
    private static List<String> deliveries(Path out) throws IOException {
        Pattern id = Pattern.compile("(?im)^Message-ID: (\\S+)");
        List<String> ids = new ArrayList<>();
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".eml")).toList()) {
                Matcher m = id.matcher(Files.readString(f, StandardCharsets.ISO_8859_1));
                if (m.find()) {
                    ids.add(m.group(1));
                }
            }
        }
        return ids;
    }
}

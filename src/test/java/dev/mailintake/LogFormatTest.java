package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped logback.xml, as the application runs it (a JVM of its own with the main class path only, so the
 * tests' logback-test.xml does not apply): text by default, one JSON object per line with {@code MAILINTAKE_LOG_FORMAT=json},
 * and the mailbox a line belongs to in the MDC.
 */
class LogFormatTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private AppProcess app;

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void jsonLinesNameTheMailboxOfEveryLineOfItsWork() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.pdfMessage("<j@example.com>", "j", 200), Instant.parse("2026-11-20T08:00:00Z"));
        start(Map.of("MAILINTAKE_LOG_FORMAT", "json"));

        await().atMost(Duration.ofSeconds(60)).until(() -> app.lines().stream().anyMatch(l -> l.contains("imported message")));
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : app.lines()) {
            assertThat(line).as("every line is one JSON object").startsWith("{").endsWith("}");
            parsed.add(json.readTree(line));
        }
        JsonNode imported = parsed.stream().filter(n -> n.path("message").asText().contains("imported message"))
                .findFirst().orElseThrow();
        assertThat(imported.path("level").asText()).isEqualTo("INFO");
        assertThat(imported.path("loggerName").asText()).isEqualTo("dev.mailintake.intake.MessageIntake");
        assertThat(imported.path("mdc").path("mailbox").asText()).isEqualTo("invoices");
        JsonNode resolved = parsed.stream().filter(n -> n.path("message").asText().contains("folders resolved"))
                .findFirst().orElseThrow();
        assertThat(resolved.path("mdc").path("mailbox").asText()).as("the poll's own lines too").isEqualTo("invoices");
    }

    @Test
    void textIsTheDefaultAndCarriesTheMailbox() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.pdfMessage("<t@example.com>", "t", 200), Instant.parse("2026-11-20T08:00:00Z"));
        start(Map.of());

        await().atMost(Duration.ofSeconds(60)).until(() -> app.lines().stream().anyMatch(l -> l.contains("imported message")));
        String imported = app.lines().stream().filter(l -> l.contains("imported message")).findFirst().orElseThrow();
        assertThat(imported).matches("\\d{4}-\\d\\d-\\d\\dT\\S+ INFO  \\[.*\\] dev\\.mailintake\\.intake\\.MessageIntake - \\[invoices\\]"
                + " mailbox 'invoices': imported message .*");
        assertThat(app.lines()).noneMatch(l -> l.startsWith("{"));
    }

    /** The real application in a JVM of its own, on the project's application.properties plus the test's settings. */
    private void start(Map<String, String> env) {
        Map<String, String> settings = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        settings.put("camel.management.port", String.valueOf(AppProcess.freePort()));
        settings.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        Path config = AppProcess.configFile(tmp.resolve("application.properties"), settings);
        app = AppProcess.start(tmp, env, "--config", config.toString());
    }
}

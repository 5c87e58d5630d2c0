package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.mailintake.config.ConfigSources;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration layers through the real application: jar defaults < the user's file < environment < command line,
 * and an environment variable for a key the file does not have. The environment is injected (ConfigSources).
 */
class ConfigLayersTest {
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

    /** A user's file with only their own keys: no camel.* line, and mailbox invoices without its address. */
    private Path userFile() throws Exception {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.mailboxes.invoices.connection", "contoso");
        s.put("mailintake.mailboxes.invoices.poll", "1s");
        s.put("mailintake.mailboxes.invoices.target", "folder:" + tmp.resolve("out"));
        s.put("mailintake.delivery.redeliveries", "5");
        s.put("mailintake.delivery.redelivery-delay", "100");
        s.put("camel.main.name", "from-the-file");
        s.put("dms.url", "http://file.example");
        s.remove("camel.main.shutdownTimeout");
        String text = s.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue().replace("\\", "\\\\"))
                .collect(Collectors.joining("\n"));
        return Files.writeString(tmp.resolve("application.properties"), text + "\n");
    }

    private String resolve(String key) {
        return app.camel().getPropertiesComponent().resolveProperty(key).orElse(null);
    }

    @Test
    void jarDefaultsUnderTheFileUnderTheEnvironmentUnderTheCommandLine() throws Exception {
        box.addMessage("inbox", Mimes.pdfMessage("<env@example.com>", "env", 100), Instant.parse("2026-11-20T08:00:00Z"));
        Map<String, String> env = Map.of(
                "MAILINTAKE_MAILBOXES_INVOICES_ADDRESS", TestApp.ADDRESS, // not in the file
                "MAILINTAKE_DELIVERY_REDELIVERIES", "6",
                "MAILINTAKE_DELIVERY_REDELIVERY_DELAY", "200",
                "DMS_URL", "http://env.example", // a user's key that is in the file
                "MAILINTAKE_CONFIG", "/not/a/key");
        Map<String, String> commandLine = Map.of("mailintake.delivery.redelivery-delay", "300");
        app = TestApp.start(new ConfigSources(Optional.of(userFile()), env, commandLine), null);

        // jar defaults: the camel.* keys the user's file does not have (management server, health)
        assertThat(resolve("camel.management.enabled")).isEqualTo("true");
        assertThat(resolve("camel.main.shutdownTimeout")).isEqualTo("30");
        // the user's file over the jar's defaults
        assertThat(app.camel().getName()).isEqualTo("from-the-file");
        // the environment over the file
        assertThat(resolve("mailintake.delivery.redeliveries")).isEqualTo("6");
        assertThat(resolve("dms.url")).isEqualTo("http://env.example");
        // the command line over the environment
        assertThat(resolve("mailintake.delivery.redelivery-delay")).isEqualTo("300");
        // a key only the environment has takes effect: the mailbox's address
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
    }

    @Test
    void anEnvironmentVariableThatNamesNoKeyIsAProblem() throws Exception {
        Map<String, String> env = Map.of("MAILINTAKE_MAILBOXES_INVOICES_ADRESS", TestApp.ADDRESS);
        Throwable thrown = catchThrowable(() -> app = TestApp.start(
                new ConfigSources(Optional.of(userFile()), env, Map.of()), null));
        assertThat(MailIntakeApplication.describe(thrown)).contains(
                "environment variable MAILINTAKE_MAILBOXES_INVOICES_ADRESS: names no mailintake.* key");
        assertThat(fake.tokenRequests()).isEmpty();
    }
}

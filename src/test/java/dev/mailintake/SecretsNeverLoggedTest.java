package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs last (junit-platform.properties orders classes by @Order): reads the log of the whole test run — every test
 * class logs to the same file, at DEBUG for our code, msal4j and camel-http — and checks that no client secret and
 * no access token ever reached it. It also runs its own import (with a token renewal after a 401) first, so it
 * proves something even when run alone.
 */
@Order(Integer.MAX_VALUE)
class SecretsNeverLoggedTest {
    @TempDir
    Path tmp;

    @Test
    void noSecretOrTokenInTheLogOfTheWholeRun() throws Exception {
        try (GraphFake fake = TestApp.startFake()) {
            FakeMailbox box = fake.mailbox(TestApp.ADDRESS);
            box.addMessage("inbox", Mimes.pdfMessage("<s1@example.com>", "s1", 200), Instant.parse("2026-11-20T08:00:00Z"));
            Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
            s.put("mailintake.mailboxes.invoices.create-folders", "true");
            try (TestApp app = TestApp.start(s)) {
                await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                        .until(() -> box.messagesIn("Inbox/Processed").size() == 1);
                fake.expireAllTokens();
                box.addMessage("inbox", Mimes.pdfMessage("<s2@example.com>", "s2", 200), Instant.parse("2026-11-20T08:01:00Z"));
                await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 2);
            }
        }
        Path log = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "test-run.log");
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(text).as("the run's log was captured").contains("imported message").contains("getting a fresh token");
        assertThat(text).doesNotContain(TestSecrets.CLIENT_SECRET);
        assertThat(text).doesNotContain(TestSecrets.TOKEN_PREFIX).doesNotContain("fake-rt-");
        assertThat(text).doesNotContainIgnoringCase("Bearer ey").doesNotContain("client_secret=");
    }
}

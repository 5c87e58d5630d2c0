package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts through the real application to a webhook (an in-test HTTP server): once per state change, once on
 * recovery, sent again when the webhook refused it; and the credential's expiry in health and metrics.
 */
class AlertsTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;
    private HttpServer webhook;
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger refuseFirst = new AtomicInteger(1);
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void setUp() throws IOException {
        fake = TestApp.startFake();
        box = TestApp.invoicesBox(fake);
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            boolean refuse = refuseFirst.getAndDecrement() > 0;
            if (!refuse) {
                received.add(json.readTree(body));
            }
            exchange.sendResponseHeaders(refuse ? 500 : 204, -1);
            exchange.close();
        });
        webhook.start();
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
        webhook.stop(0);
    }

    @Test
    void aStalledMailboxAndANearlyExpiredSecretAreNotifiedOnceAndTheRecoveryOnce() throws Exception {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        LocalDate expires = LocalDate.now(ZoneOffset.UTC).plusDays(10);
        s.put("mailintake.connections.contoso.client-secret-expires", expires.toString());
        s.put("mailintake.alerts.endpoint", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook");
        s.put("mailintake.alerts.check-interval", "1s");
        s.put("mailintake.alerts.stall-polls", "2");
        app = TestApp.start(s);

        // the secret's expiry: the first delivery was refused by the webhook, so it comes again
        await().atMost(Duration.ofSeconds(20)).until(() -> count("FIRING", "credential") == 1);
        JsonNode secret = only("FIRING", "credential");
        assertThat(secret.path("name").asText()).isEqualTo("contoso");
        assertThat(secret.path("condition").asText()).isEqualTo("expires-within-30-days");
        assertThat(secret.path("reason").asText()).contains("the client secret expires in 10 days")
                .contains("create a new client secret");
        assertThat(secret.path("fix").asText()).startsWith("http://localhost:");
        JsonNode check = app.healthCheck("connection-contoso");
        assertThat(check.path("status").asText()).isEqualTo("UP");
        assertThat(check.path("message").asText()).contains("expires in 10 days");
        assertThat(TestApp.http().send(HttpRequest.newBuilder(URI.create(app.healthUrl()
                        .replace("/observe/health", "/observe/metrics"))).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body()).containsPattern("mailintake_credential_expiry_seconds\\{connection=\"contoso\",credential="
                        + "\"client secret\"} (8[6-9]|9[0-4])[0-9]{4}\\.0");

        dev.mailintake.intake.MailboxStatus status = app.camel().getRegistry()
                .lookupByNameAndType("mailboxes", dev.mailintake.intake.Mailboxes.class).get("invoices").status();
        await().atMost(Duration.ofSeconds(20)).until(() -> status.lastPoll().isPresent());
        assertThat(count("FIRING", "mailbox")).as("a mailbox that polls is no alert").isZero();

        // the listing hangs: no poll completes for more than 2 (+1) intervals
        fake.fault(Fault.delay(Duration.ofSeconds(8)).on("GET", ".*/mailFolders/[^/]+/messages").times(1));
        await().atMost(Duration.ofSeconds(20)).until(() -> count("FIRING", "mailbox") == 1);
        assertThat(only("FIRING", "mailbox").path("condition").asText()).isEqualTo("stalled");
        await().atMost(Duration.ofSeconds(20)).until(() -> count("RESOLVED", "mailbox") == 1);

        // several more checks: nothing is sent twice
        int now = received.size();
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(received).hasSize(now);
        assertThat(count("FIRING", "credential")).isEqualTo(1);
    }

    private long count(String state, String subject) {
        return received.stream().filter(a -> a.path("state").asText().equals(state)
                && a.path("subject").asText().equals(subject)).count();
    }

    private JsonNode only(String state, String subject) {
        return received.stream().filter(a -> a.path("state").asText().equals(state)
                && a.path("subject").asText().equals(subject)).findFirst().orElseThrow();
    }

}

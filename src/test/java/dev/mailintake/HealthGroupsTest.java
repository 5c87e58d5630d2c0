package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probes' groups: liveness holds only the process (Camel's context), so a mailbox that cannot poll never restarts
 * the pod; readiness holds the store and the mailboxes, DOWN until each has completed a first poll. The status page
 * shows a credential's expiry.
 */
class HealthGroupsTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;
    private final HttpClient http = TestApp.http();

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> names(String json) throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode c : new ObjectMapper().readTree(json).path("checks")) {
            names.add(c.path("name").asText());
        }
        return names;
    }

    @Test
    void livenessIsTheProcessAndReadinessWaitsForTheStoreAndEveryMailboxsFirstPoll() throws Exception {
        fake = TestApp.startFake();
        TestApp.invoicesBox(fake);
        // the listing hangs at first: the mailbox has not completed a poll
        fake.fault(Fault.delay(Duration.ofSeconds(4)).on("GET", ".*/mailFolders/[^/]+/messages").times(1));
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.put("mailintake.connections.contoso.client-secret-expires",
                LocalDate.now(ZoneOffset.UTC).plusDays(5).toString());
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        app = TestApp.start(s);

        HttpResponse<String> live = get(app.healthUrl() + "/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(names(live.body())).doesNotContain("mailbox-invoices", "store", "connection-contoso");
        HttpResponse<String> ready = get(app.healthUrl() + "/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(names(ready.body())).contains("store", "mailbox-invoices", "connection-contoso");
        assertThat(app.healthCheck("store").path("status").asText()).isEqualTo("UP");

        await().atMost(Duration.ofSeconds(30)).until(() -> get(app.healthUrl() + "/ready").statusCode() == 200);
        assertThat(get(app.healthUrl() + "/live").statusCode()).isEqualTo(200);

        String page = get("http://localhost:" + s.get("mailintake.admin.port") + "/").body();
        assertThat(page).contains("the client secret expires in 5 days").contains("create a new client secret");
    }
}

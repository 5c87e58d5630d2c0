package dev.mailintake.graph;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.TokenService;
import dev.mailintake.config.RequestBudget;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.ManualClock;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.component.http.HttpEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GraphClient's retries against the Graph fake over real camel-http: what a backoff holds while it waits. */
class GraphClientTest {
    private static final String ADDRESS = TestApp.ADDRESS;

    /** What was held while the client was backing off. */
    private record Held(int freeSlots, int leasedConnections) {
    }

    private GraphFake fake;
    private FakeMailbox box;
    private CamelContext camel;
    private HttpEndpoint http;
    private RequestGate gate;
    private final List<Held> duringBackoff = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        box = fake.mailbox(ADDRESS);
        camel = new DefaultCamelContext();
        camel.start();
        camel.getComponent("http", HttpComponent.class).setAutomaticRetriesDisabled(true);
        http = camel.getEndpoint(fake.graphBaseUrl() + "?throwExceptionOnFailure=false&disableStreamCache=true",
                HttpEndpoint.class);
    }

    @AfterEach
    void tearDown() throws Exception {
        camel.close();
        fake.close();
    }

    /** One slot, and a sleeper that notes what is held and moves the clock on instead of waiting. */
    private GraphClient client() {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
        String token = fake.mintAccessToken();
        TokenService tokens = new TokenService(Map.of("contoso",
                skipCache -> new AccessToken(token, Instant.now().plus(Duration.ofHours(1)))),
                Clock.systemUTC(), Duration.ofMinutes(5));
        RequestGate.Sleeper sleeper = d -> {
            duringBackoff.add(new Held(gate.freeSlots(), ((PoolingHttpClientConnectionManager)
                    http.getClientConnectionManager()).getTotalStats().getLeased()));
            clock.advance(d);
        };
        gate = new RequestGate("invoices", 1, new RequestBudget(100, Duration.ofMinutes(10)), clock, sleeper);
        return new GraphClient("invoices", http, new MailboxTokens("invoices", "contoso", tokens), gate,
                new GraphClient.RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(20)), new ObjectMapper(),
                clock, sleeper);
    }

    private String valueUrl(String id) {
        return fake.graphBaseUrl() + "/users/" + ADDRESS + "/messages/" + id + "/$value";
    }

    @Test
    void aFailureMidBodyGivesBackTheSlotAndTheResponseBeforeTheBackoff() {
        byte[] mime = Mimes.pdfMessage("<mid@example.com>", "mid", 200_000);
        String id = box.addMessage("inbox", mime);
        GraphClient client = client();
        AtomicInteger reads = new AtomicInteger();

        byte[] got = client.download(valueUrl(id), body -> {
            if (reads.incrementAndGet() == 1) {
                body.readNBytes(1000);
                throw new IOException("spool disk full");
            }
            return body.readAllBytes();
        });

        assertThat(got).isEqualTo(mime);
        assertThat(duringBackoff).containsExactly(new Held(1, 0));
    }

    @Test
    void aThrottledRequestGivesBackTheSlotBeforeWaitingForRetryAfter() {
        String id = box.addMessage("inbox", Mimes.pdfMessage("<t@example.com>", "t", 100));
        fake.fault(Fault.status(429).retryAfter(1).on("GET", ".*/\\$value").times(1));
        GraphClient client = client();

        client.download(valueUrl(id), body -> body.readAllBytes());

        assertThat(duringBackoff).containsExactly(new Held(1, 0));
    }
}

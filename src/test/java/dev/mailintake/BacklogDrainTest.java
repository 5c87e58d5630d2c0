package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backlog drains at full speed on a long interval: a poll that took max-messages-per-poll messages (and moved some
 * of them) is followed at once by the next one; only a poll that found fewer waits the interval. Through the real
 * application against the Graph fake. The poll interval is 60 s, so "waits the interval" is told apart from "polls
 * again at once" by minutes, not by milliseconds.
 */
class BacklogDrainTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

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

    private Map<String, String> settings(String poll) {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.put("mailintake.mailboxes.invoices.poll", poll);
        s.put("mailintake.mailboxes.invoices.max-messages-per-poll", "5");
        return s;
    }

    private void addMessages(int n) {
        for (int i = 0; i < n; i++) {
            box.addMessage("inbox", Mimes.pdfMessage("<backlog-" + i + "@example.com>", "Invoice " + i, 500),
                    T0.plusSeconds(i));
        }
    }

    /** Listing requests of the Inbox: one per poll here (a page holds max-messages-per-poll). */
    private long inboxListings() {
        return fake.graphRequests().stream().filter(BacklogDrainTest::isInboxListing).count();
    }

    private static boolean isInboxListing(LoggedRequest r) {
        return "GET".equals(r.method()) && r.path().contains("/mailFolders/") && r.path().endsWith("/messages");
    }

    @Test
    void drainsTwentyThreeMessagesInFivePollsAtOnceThenWaitsTheInterval() {
        addMessages(23);
        app = TestApp.start(settings("60s"));

        // 5 + 5 + 5 + 5 + 3: without greedy polls this would take four intervals (4 minutes)
        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 23);
        assertThat(box.messagesIn("inbox")).isEmpty();
        assertThat(Delivered.messageDirs(tmp.resolve("out"))).hasSize(23);
        // the fifth poll took 3 (< 5): the Inbox was drained, so the mailbox now waits its 60 s
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> inboxListings() == 5);
    }

    @Test
    void aPollThatFindsNothingMoreWaitsTheInterval() {
        addMessages(10);
        app = TestApp.start(settings("60s"));

        await().atMost(Duration.ofSeconds(30)).until(() -> box.messagesIn("Inbox/Processed").size() == 10);
        // 5 + 5 (both full, so more might be waiting) + an empty poll, after which the mailbox waits
        await().atMost(Duration.ofSeconds(10)).until(() -> inboxListings() == 3);
        box.addMessage("inbox", Mimes.pdfMessage("<late@example.com>", "late", 500), T0.plusSeconds(100));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> inboxListings() == 3);
        assertThat(box.messagesIn("inbox")).hasSize(1);
    }

    @Test
    void aFullPollWhoseMessagesAllStayDoesNotPollAgainAtOnce() {
        addMessages(5);
        // every move fails (not retried by the Graph client): the messages are delivered but stay in the Inbox
        fake.fault(Fault.error(400, "ErrorInvalidRequest", "no moves today").on("POST", ".*/move").always());
        app = TestApp.start(settings("60s"));

        await().atMost(Duration.ofSeconds(30)).until(() -> Delivered.messageDirs(tmp.resolve("out")).size() == 5
                && fake.graphRequests().stream().filter(r -> r.path().endsWith("/move") && r.completed()).count() == 5);
        // the poll was full but made no progress: polling again at once would list the same 5 messages forever
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> inboxListings() == 1);
        assertThat(box.messagesIn("inbox")).hasSize(5);
    }

    @Test
    void aCronPollDrainsTheBacklogToo() {
        addMessages(12);
        // fires once a minute, at a second a few seconds from now: all 12 (5 + 5 + 2) come in the same firing
        int second = (Instant.now().atZone(ZoneId.systemDefault()).getSecond() + 8) % 60;
        app = TestApp.start(settings(second + " * * * * ?"));

        assertThat(app.camel().getRoute("import-invoices").getEndpoint().getEndpointUri())
                .startsWith("scheduler:").contains("scheduler=quartz").contains("greedy=true");
        // one firing is at most ~70 s away; without draining, 3 firings would take more than two minutes
        await().atMost(Duration.ofSeconds(100)).until(() -> box.messagesIn("Inbox/Processed").size() == 12);
        assertThat(inboxListings()).isEqualTo(3);
    }
}

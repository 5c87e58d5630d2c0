package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.intake.Mailboxes;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, target 6: idle mailboxes hold no thread of their own. The real application with 5 and then 50 idle Graph
 * mailboxes (default 60 s polls), each after every mailbox's first poll: the threads the application started must not
 * grow with the number of mailboxes (before: a scheduler thread per mailbox). The polls share one pool of at most
 * {@link MailIntakeBootstrap#pollThreads()} threads; a mailbox's import workers start with its first message.
 */
class MailboxThreadsTest {
    @TempDir
    Path tmp;
    private GraphFake fake;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
    }

    @AfterEach
    void tearDown() {
        fake.close();
    }

    @Test
    void threadsDoNotGrowWithTheNumberOfMailboxes() {
        Map<String, Long> five = threadsOfAnIdleApp(5);
        Map<String, Long> fifty = threadsOfAnIdleApp(50);
        long few = five.values().stream().mapToLong(Long::longValue).sum();
        long many = fifty.values().stream().mapToLong(Long::longValue).sum();
        assertThat(many - few)
                .as("threads with 50 mailboxes %s against 5 mailboxes %s", fifty, five)
                .isLessThanOrEqualTo(MailIntakeBootstrap.pollThreads());
        assertThat(fifty.keySet()).as("no thread named after a mailbox").noneMatch(n -> n.matches(".*box\\d+.*"));
    }

    /** The application's threads (by name, numbers stripped) once every one of {@code n} idle mailboxes has polled. */
    private Map<String, Long> threadsOfAnIdleApp(int n) {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (TestApp app = TestApp.start(settings(n))) {
            Mailboxes mailboxes = app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class);
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> mailboxes.all().stream().allMatch(mb -> mb.status().lastPoll().isPresent()));
            List<Thread> started = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive() && !t.getName().startsWith("graph-fake-"))
                    .toList();
            return started.stream().collect(Collectors.groupingBy(t -> t.getName().replaceAll("#?\\d+", "N"),
                    TreeMap::new, Collectors.counting()));
        }
    }

    /** {@code n} Graph mailboxes on the fake (one connection), empty Inboxes, the default 60 s poll. */
    private Map<String, String> settings(int n) {
        Path dir = tmp.resolve("app-" + n);
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(dir.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        for (int i = 0; i < n; i++) {
            String address = "box" + i + "-of-" + n + "@contoso.test";
            var box = fake.mailbox(address);
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            String k = "mailintake.mailboxes.box" + i + "of" + n + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", address);
            s.put(k + "target", "folder:" + dir.resolve("out-" + i));
        }
        return s;
    }
}

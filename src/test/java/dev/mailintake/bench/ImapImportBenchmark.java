package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.CapabilityFilterProxy;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throughput of an IMAP import through the real application (routes, beans, H2 store, folder target, XOAUTH2 with
 * tokens from the Graph fake's token endpoint) against GreenMail in a JVM of its own ({@link ImapServerProcess}),
 * plain IMAP on loopback, or with {@code -Dbench.imap.server=dovecot} against Dovecot over IMAPS ({@link DovecotServer};
 * the proxy options below read the plain protocol and need GreenMail), no added latency: 1,000 messages of ~50 KB in one poll, default concurrency (4), page size
 * (100) and fetch size (1MB). Prints figures; asserts correctness only, never timing.
 *
 * <p>Runs with {@code mvn -B -Pbench test}, not with {@code mvn verify}. See docs/benchmarks.md.
 */
class ImapImportBenchmark {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final int MESSAGES = 1_000;
    private static final int PDF_BYTES = 36_000;

    @TempDir
    Path tmp;
    private GraphFake fake;
    private BenchImapServer server;
    private TestApp app;
    private AppProcess jarApp;
    private CapabilityFilterProxy proxy;
    /** -Dbench.imap.latency-ms=20: delay per IMAP command (a proxy between the application and GreenMail). */
    private static final Duration LATENCY = Duration.ofMillis(Integer.getInteger("bench.imap.latency-ms", 0));
    private static final int CONCURRENCY = Integer.getInteger("bench.imap.concurrency", 4);
    /**
     * -Dbench.imap.defaults=true: the mailbox's shipped defaults for {@code poll} (60s) and
     * {@code max-messages-per-poll} (500) instead of the tuned 1s / 1,000 (everything in one poll).
     */
    private static final boolean DEFAULTS = Boolean.getBoolean("bench.imap.defaults");
    /**
     * -Dbench.imap.count-commands=true: the proxy between the application and GreenMail even without latency, to count
     * the IMAP commands per message (the proxy's copying costs CPU: for counting, not for timing).
     */
    private static final boolean COUNT_COMMANDS = Boolean.getBoolean("bench.imap.count-commands");
    /**
     * -Dbench.imap.warmup=10000: a running instance instead of a fresh one. It imports this many messages first,
     * then the 1,000 measured ones are delivered, and the figure runs from the start of the poll that finds them.
     */
    private static final int WARMUP = Integer.getInteger("bench.imap.warmup", 0);
    /** -Dbench.app=jar: the shipped jar in a JVM of its own ({@link ShippedJar}); a fresh instance only. */
    private static final boolean JAR = ShippedJar.requested();
    /** Messages in Processed within this time of the first one came with the first move (one UID MOVE of a batch). */
    private static final long FIRST_MOVE_MS = 50;

    private long append(Path mails, String prefix, int count, Instant first) throws java.io.IOException {
        long bytes = 0;
        for (int i = 0; i < count; i++) {
            byte[] mime = Mimes.pdfMessage("<" + prefix + "-" + i + "@example.com>", "Invoice " + i, PDF_BYTES);
            bytes += mime.length;
            Path eml = Files.write(mails.resolve(prefix + "-" + i + ".eml"), mime);
            server.append(ADDRESS, "INBOX", eml, first.plusSeconds(i));
        }
        return bytes;
    }

    private static MailboxStatus status(TestApp app) {
        return app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class).get("invoices").status();
    }

    @BeforeEach
    void setUp() {
        Bench.quietConsole();
        fake = TestApp.startFake();
        server = BenchImapServer.start().mailboxOpenedByTokensFrom(fake, ADDRESS);
    }

    @AfterEach
    void tearDown() {
        if (jarApp != null) {
            jarApp.close();
        }
        TestApp.closeAll(app, fake);
        if (proxy != null) {
            proxy.close();
        }
        server.close();
    }

    private Map<String, String> settings() {
        Map<String, String> s = server.imapMailbox(tmp.resolve("data"), fake, out());
        if (DEFAULTS) {
            s.remove("mailintake.mailboxes.invoices.poll");
            s.remove("mailintake.mailboxes.invoices.max-messages-per-poll");
        } else {
            s.put("mailintake.mailboxes.invoices.max-messages-per-poll", String.valueOf(MESSAGES));
        }
        s.put("mailintake.mailboxes.invoices.concurrency", String.valueOf(CONCURRENCY));
        if (!LATENCY.isZero() || COUNT_COMMANDS) {
            if (server instanceof DovecotServer) {
                throw new IllegalArgumentException("the command proxy reads plain IMAP: use it with GreenMail");
            }
            // a network round trip per IMAP command, between the application and the server
            proxy = CapabilityFilterProxy.hiding(server.port()).delayCommands(LATENCY);
            s.put("mailintake.mailboxes.invoices.imap.port", String.valueOf(proxy.port()));
        }
        return s;
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @Test
    void importsThousandMessagesOfFiftyKilobytes() throws Exception {
        if (JAR && WARMUP > 0) {
            throw new IllegalArgumentException("-Dbench.app=jar measures a fresh instance: no warm-up");
        }
        Path mails = Files.createDirectories(tmp.resolve("mails"));
        Instant started = Instant.now();
        Instant appStarted = null;
        if (WARMUP > 0) {
            // a running instance: it has imported WARMUP messages before (the JIT has compiled the import path)
            append(mails, "warm-up", WARMUP, T0.minusSeconds(WARMUP));
            app = TestApp.start(settings());
            appStarted = Instant.now();
            await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofMillis(250))
                    .until(() -> server.count(ADDRESS, "INBOX/Processed") == WARMUP);
            // deliver between two polls, not while the warm-up's last (greedy) poll or an empty one runs: the poll
            // that finds the measured messages must find all of them
            MailboxStatus warm = status(app);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100)).until(() -> warm.lastPoll()
                    .filter(done -> !done.isBefore(warm.pollStartedAt()))
                    .filter(done -> done.isBefore(Instant.now().minusSeconds(1))).isPresent());
        }
        Instant appended = Instant.now();
        long totalBytes = append(mails, "bench", MESSAGES, T0);
        double avgKb = totalBytes / (double) MESSAGES / 1024.0;

        long heapBefore = Bench.heapUsedAfterGc();
        Bench.resetPeaks();
        ShippedJar shipped = ShippedJar.fromProperties();
        if (JAR) {
            started = Instant.now();
            jarApp = shipped.start(tmp, settings());
            appStarted = Instant.now();
        } else if (app == null) {
            started = Instant.now();
            app = TestApp.start(settings());
            appStarted = Instant.now();
        }
        ProcessHandle appProcess = JAR ? ProcessHandle.of(jarApp.pid()).orElseThrow() : ProcessHandle.current();
        long appPid = appProcess.pid();
        Bench.CpuSampler cpu = JAR ? Bench.CpuSampler.start(appProcess, "application JVM") : Bench.CpuSampler.start();
        MailboxStatus status = JAR ? null : status(app);
        AtomicReference<Instant> firstPoll = new AtomicReference<>();

        if (WARMUP > 0) {
            // the first poll after the delivery (60 s on the defaults); greedy polls follow it after a second or more
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(10)).until(() -> {
                Instant poll = status.pollStartedAt();
                return poll.isAfter(appended) && firstPoll.compareAndSet(null, poll);
            });
        }
        // CPU from here: cold, the application has started; warm, the poll that finds the messages has begun
        long serverCpuBefore = server.cpuNanos();
        long appCpuBefore = Bench.cpuNanos(appProcess);
        Map<String, Long> byKindBefore = CpuPerMessageBenchmark.cpuByKind(appPid);
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> server.count(ADDRESS, "INBOX/Processed") == WARMUP + MESSAGES);
        long peakHeap = Bench.peakHeapUsed();
        cpu.stop();
        long serverCpu = server.cpuNanos() - serverCpuBefore;
        long appCpu = Bench.cpuNanos(appProcess) - appCpuBefore;
        Map<String, Long> byKindAfter = CpuPerMessageBenchmark.cpuByKind(appPid);
        long heapAfter = Bench.heapUsedAfterGc();
        long postponed = JAR ? 0 : status.postponedCount();

        // ---- figures: arrival times in Processed are taken by the server, when it stores each moved message
        List<Instant> all = server.arrivals(ADDRESS, "INBOX/Processed").stream().sorted().toList();
        List<Instant> moved = all.subList(all.size() - MESSAGES, all.size());
        Instant firstToken = server.firstImapToken();
        // cold: from the first IMAP token (the first poll is about to connect); warm: from the start of the first poll
        // after the messages were delivered
        Instant windowStart = WARMUP > 0 ? firstPoll.get() : firstToken;
        Instant lastMove = moved.get(moved.size() - 1);
        double seconds = secondsBetween(windowStart, lastMove);
        double secondHalf = (moved.size() - moved.size() / 2) / secondsBetween(moved.get(moved.size() / 2 - 1), lastMove);
        // the measure, "from the first change": the messages that reached Processed after the first move, over
        // the time from that move to the last (the first UID MOVE's own messages, processed before it, not counted)
        Instant firstMove = moved.get(0);
        long afterFirstMove = moved.stream().filter(t -> t.isAfter(firstMove.plusMillis(FIRST_MOVE_MS))).count();
        double fromFirstChange = afterFirstMove / secondsBetween(firstMove, lastMove);

        StringBuilder b = new StringBuilder();
        b.append("\n==== ImapImportBenchmark ====\n");
        b.append(line("machine", Bench.machine()));
        b.append(line("messages", String.format(Locale.ROOT, "%,d, average MIME size %.1f KB (%,d bytes in all)",
                MESSAGES, avgKb, totalBytes)));
        b.append(line("IMAP server", server.describe()));
        b.append(line("mailbox", "concurrency " + CONCURRENCY + " (IMAP connections), page-size 100, fetch-size 1MB, "
                + (DEFAULTS ? "defaults: poll 60s, max-messages-per-poll 500" : "tuned: poll 1s, max-messages-per-poll "
                + MESSAGES)));
        b.append(line("latency", LATENCY.isZero() ? "none added" : LATENCY.toMillis() + " ms per IMAP command (proxy)"));
        b.append(line("application", JAR ? shipped.describe() : "in this JVM (TestApp), next to the"
                + " fake's token endpoint"));
        b.append(line("app start", String.format(Locale.ROOT, "%.2f s (%s), first IMAP token %.2f s after the start",
                secondsBetween(started, appStarted), JAR ? "process start -> /observe/health 200" : "TestApp.start",
                secondsBetween(started, firstToken))));
        b.append(line("instance", WARMUP > 0 ? String.format(Locale.ROOT, "warm: it imported %,d messages first (the"
                + " same path, %.1f s after its start); the measured ones were delivered after that", WARMUP,
                secondsBetween(appStarted, appended)) : "cold: the measured messages are the first it imports"));
        b.append(line("elapsed", String.format(Locale.ROOT, "%.2f s (%s -> last message in Processed); first message"
                + " in Processed after %.2f s", seconds, WARMUP > 0 ? "start of the first poll after the delivery"
                : "first IMAP token", secondsBetween(windowStart, moved.get(0)))));
        b.append(line("throughput", String.format(Locale.ROOT, "%.1f messages/s, %.1f MB/s (second half of the"
                + " moves alone: %.1f messages/s)", MESSAGES / seconds, Bench.mb(totalBytes) / seconds, secondHalf)));
        b.append(line("from first change", String.format(Locale.ROOT, "%.1f messages/s (the issue's measure: %d"
                + " messages in Processed after the first move, %.2f s to the last) goal >= 400 %s", fromFirstChange,
                afterFirstMove, secondsBetween(firstMove, lastMove), fromFirstChange >= 400 ? "PASS" : "MISS")));
        if (postponed > 0) {
            // GreenMail under several connections sometimes answers a UID FETCH with "NO ... No such message"; the
            // message is postponed to the next poll, which comes after the interval (1 s tuned, 60 s on the defaults)
            Instant beforeRetries = moved.get((int) Math.max(0, moved.size() - postponed - 1));
            b.append(line("postponed", String.format(Locale.ROOT, "%d message(s) left in the Inbox for the next poll"
                    + " (server errors, see the log); the first %d were in Processed after %.2f s (%.1f messages/s)",
                    postponed, MESSAGES - postponed, secondsBetween(windowStart, beforeRetries),
                    (MESSAGES - postponed) / secondsBetween(windowStart, beforeRetries))));
        }
        if (proxy != null) {
            // every command the application sent (each one a round trip), by kind, per imported message
            Map<String, Long> byKind = new java.util.TreeMap<>();
            List<String> sent = proxy.commands();
            sent.forEach(c -> byKind.merge(c.substring(c.indexOf(' ') + 1), 1L, Long::sum));
            b.append(line("IMAP commands", String.format(Locale.ROOT, "%,d = %.3f per message: %s", sent.size(),
                    sent.size() / (double) MESSAGES, byKind.entrySet().stream().map(e -> e.getKey() + " "
                            + String.format(Locale.ROOT, "%.3f", e.getValue() / (double) MESSAGES))
                            .collect(java.util.stream.Collectors.joining(", ")))));
        }
        b.append(line("CPU", cpu.describe(windowStart, lastMove)));
        b.append(line("IMAP server CPU", String.format(Locale.ROOT, "%.2f cores (%.2f s; part of \"other"
                + " processes\" above)", serverCpu / 1e9 / seconds, serverCpu / 1e9)));
        String jvm = JAR ? "application JVM" : "this JVM";
        b.append(line("CPU per message", String.format(Locale.ROOT, "%s %.1f ms (after the app has started), IMAP"
                + " server %.1f ms", jvm, appCpu / 1e6 / MESSAGES, serverCpu / 1e6 / MESSAGES)));
        java.util.function.ToDoubleFunction<String> perMessage = kind -> (byKindAfter.getOrDefault(kind, 0L)
                - byKindBefore.getOrDefault(kind, 0L)) / 1e6 / MESSAGES;
        b.append(line(jvm + " by kind", String.format(Locale.ROOT, "JIT compiler threads %.1f ms, GC threads %.1f ms,"
                + " other threads (application, %sVM) %.1f ms per message", perMessage.applyAsDouble("JIT"),
                perMessage.applyAsDouble("GC"), JAR ? "" : "fake, ", perMessage.applyAsDouble("other"))));
        b.append(line("token requests", String.valueOf(fake.tokenRequests().size())));
        if (!JAR) { // the heap of this JVM: the application's when it runs here
            b.append(line("peak heap", String.format(Locale.ROOT, "%.1f MB (sum of heap pool peaks since start; the"
                    + " messages are in the server JVM); heap after GC before start %.1f MB, after the import %.1f MB",
                    Bench.mb(peakHeap), Bench.mb(heapBefore), Bench.mb(heapAfter))));
            b.append(line("max heap", String.format(Locale.ROOT, "%.1f MB (Runtime.maxMemory)",
                    Bench.mb(Runtime.getRuntime().maxMemory()))));
        }
        b.append("=============================\n");
        System.out.println(b);

        // ---- correctness only
        assertThat(server.count(ADDRESS, "INBOX")).isZero();
        assertThat(server.count(ADDRESS, "INBOX/Error")).isZero();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(new HashSet<>(dirs)).hasSize(WARMUP + MESSAGES);
        ObjectMapper json = new ObjectMapper();
        Set<String> ids = new HashSet<>();
        for (Path dir : dirs) {
            ids.add(json.readTree(dir.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).as("distinct Internet message ids delivered").hasSize(WARMUP + MESSAGES);
    }

    static double secondsBetween(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 1e9;
    }

    static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

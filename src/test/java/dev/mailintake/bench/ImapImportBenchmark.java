package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.intake.Mailboxes;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throughput of an IMAP import through the real application (routes, beans, H2 store, folder target, XOAUTH2 with
 * tokens from the Graph fake's token endpoint) against GreenMail in a JVM of its own ({@link ImapServerProcess}),
 * plain IMAP on loopback, no added latency: 1,000 messages of ~50 KB in one poll, default concurrency (4), page size
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
    private ImapServerHandle server;
    private TestApp app;
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

    @BeforeEach
    void setUp() {
        Bench.quietConsole();
        fake = TestApp.startFake();
        server = ImapServerHandle.start().mailboxOpenedByTokensFrom(fake, ADDRESS);
    }

    @AfterEach
    void tearDown() {
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
        Path mails = Files.createDirectories(tmp.resolve("mails"));
        long totalBytes = 0;
        for (int i = 0; i < MESSAGES; i++) {
            byte[] mime = Mimes.pdfMessage("<bench-" + i + "@example.com>", "Invoice " + i, PDF_BYTES);
            totalBytes += mime.length;
            Path eml = Files.write(mails.resolve(i + ".eml"), mime);
            server.append(ADDRESS, "INBOX", eml, T0.plusSeconds(i));
        }
        double avgKb = totalBytes / (double) MESSAGES / 1024.0;

        long heapBefore = Bench.heapUsedAfterGc();
        Bench.resetPeaks();
        Bench.CpuSampler cpu = Bench.CpuSampler.start();
        Instant started = Instant.now();
        app = TestApp.start(settings());
        Instant appStarted = Instant.now();
        long serverCpuBefore = server.cpuNanos();
        long appCpuBefore = processCpuNanos();

        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> server.count(ADDRESS, "INBOX/Processed") == MESSAGES);
        long peakHeap = Bench.peakHeapUsed();
        cpu.stop();
        long serverCpu = server.cpuNanos() - serverCpuBefore;
        long appCpu = processCpuNanos() - appCpuBefore;
        long heapAfter = Bench.heapUsedAfterGc();
        long postponed = app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class).get("invoices")
                .status().postponedCount();

        // ---- figures: arrival times in Processed are taken by the server, when it stores each moved message
        List<Instant> moved = server.arrivals(ADDRESS, "INBOX/Processed").stream().sorted().toList();
        Instant firstToken = server.firstImapToken();
        Instant lastMove = moved.get(moved.size() - 1);
        double seconds = secondsBetween(firstToken, lastMove);
        double secondHalf = (moved.size() - moved.size() / 2) / secondsBetween(moved.get(moved.size() / 2 - 1), lastMove);

        StringBuilder b = new StringBuilder();
        b.append("\n==== ImapImportBenchmark ====\n");
        b.append(line("machine", Bench.machine()));
        b.append(line("messages", String.format(Locale.ROOT, "%,d, average MIME size %.1f KB (%,d bytes in all)",
                MESSAGES, avgKb, totalBytes)));
        b.append(line("IMAP server", ImapServerHandle.describe()));
        b.append(line("mailbox", "concurrency " + CONCURRENCY + " (IMAP connections), page-size 100, fetch-size 1MB, "
                + (DEFAULTS ? "defaults: poll 60s, max-messages-per-poll 500" : "tuned: poll 1s, max-messages-per-poll "
                + MESSAGES)));
        b.append(line("latency", LATENCY.isZero() ? "none added" : LATENCY.toMillis() + " ms per IMAP command (proxy)"));
        b.append(line("app start", String.format(Locale.ROOT, "%.2f s (TestApp.start), first IMAP token %.2f s after"
                + " the start", secondsBetween(started, appStarted), secondsBetween(started, firstToken))));
        b.append(line("elapsed", String.format(Locale.ROOT, "%.2f s (first IMAP token -> last message in"
                + " Processed); first message in Processed after %.2f s", seconds, secondsBetween(firstToken,
                moved.get(0)))));
        b.append(line("throughput", String.format(Locale.ROOT, "%.1f messages/s, %.1f MB/s (second half of the"
                + " moves alone: %.1f messages/s)", MESSAGES / seconds, Bench.mb(totalBytes) / seconds, secondHalf)));
        if (postponed > 0) {
            // GreenMail under several connections sometimes answers a UID FETCH with "NO ... No such message"; the
            // message is postponed to the next poll, which comes after the interval (1 s tuned, 60 s on the defaults)
            Instant beforeRetries = moved.get((int) Math.max(0, moved.size() - postponed - 1));
            b.append(line("postponed", String.format(Locale.ROOT, "%d message(s) left in the Inbox for the next poll"
                    + " (server errors, see the log); the first %d were in Processed after %.2f s (%.1f messages/s)",
                    postponed, MESSAGES - postponed, secondsBetween(firstToken, beforeRetries),
                    (MESSAGES - postponed) / secondsBetween(firstToken, beforeRetries))));
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
        b.append(line("CPU", cpu.describe(firstToken, lastMove)));
        b.append(line("IMAP server CPU", String.format(Locale.ROOT, "%.2f cores (%.2f s; part of \"other"
                + " processes\" above)", serverCpu / 1e9 / seconds, serverCpu / 1e9)));
        b.append(line("CPU per message", String.format(Locale.ROOT, "this JVM %.1f ms (after the app has started), IMAP"
                + " server %.1f ms", appCpu / 1e6 / MESSAGES, serverCpu / 1e6 / MESSAGES)));
        b.append(line("token requests", String.valueOf(fake.tokenRequests().size())));
        b.append(line("peak heap", String.format(Locale.ROOT, "%.1f MB (sum of heap pool peaks since start; the"
                + " messages are in the server JVM); heap after GC before start %.1f MB, after the import %.1f MB",
                Bench.mb(peakHeap), Bench.mb(heapBefore), Bench.mb(heapAfter))));
        b.append(line("max heap", String.format(Locale.ROOT, "%.1f MB (Runtime.maxMemory)",
                Bench.mb(Runtime.getRuntime().maxMemory()))));
        b.append("=============================\n");
        System.out.println(b);

        // ---- correctness only
        assertThat(server.count(ADDRESS, "INBOX")).isZero();
        assertThat(server.count(ADDRESS, "INBOX/Error")).isZero();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(new HashSet<>(dirs)).hasSize(MESSAGES);
        ObjectMapper json = new ObjectMapper();
        Set<String> ids = new HashSet<>();
        for (Path dir : dirs) {
            ids.add(json.readTree(dir.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).as("distinct Internet message ids delivered").hasSize(MESSAGES);
    }

    static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    static double secondsBetween(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 1e9;
    }

    static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

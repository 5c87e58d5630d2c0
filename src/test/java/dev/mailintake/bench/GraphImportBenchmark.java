package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.graph.GraphMailbox;
import dev.mailintake.graph.RequestGate;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Throughput of a Graph import through the real application (routes, beans, H2 store, folder target) against the
 * Graph fake answering every request after 20 ms: 1,000 messages of ~50 KB in one poll, default concurrency (4) and
 * page size (100). Prints figures; asserts correctness only, never timing.
 *
 * <p>Not a test by name (no {@code *Test}): it runs with {@code mvn -B -Pbench test}, not with {@code mvn verify}.
 * See docs/benchmarks.md.
 */
class GraphImportBenchmark {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final int MESSAGES = 1_000;
    private static final int PDF_BYTES = 36_000;
    private static final Duration LATENCY = Duration.ofMillis(20);
    private static final int CONCURRENCY = 4;
    /**
     * -Dbench.graph.rejected=100: messages without an attachment (an HTML body with an inline image of the same size),
     * interleaved with the {@value #MESSAGES} invoices; {@code rules.require-attachment=true} sends them to Error.
     * {@code 0} gives the workload of the runs before issue 11.
     */
    private static final int REJECTED = Integer.getInteger("bench.graph.rejected", 100);
    private static final int HANDLED = MESSAGES + REJECTED;
    private static final double REQUESTS_GOAL = 2.05;
    private static final double TARGET_GOAL = 0.90;
    /**
     * -Dbench.graph.warmup=10000: a running instance instead of a fresh one. It imports this many invoices first; then
     * the measured messages are put into the Inbox and every figure counts from there (requests, gate, CPU).
     */
    private static final int WARMUP = Integer.getInteger("bench.graph.warmup", 0);
    /** -Dbench.app=jar: the shipped jar in a JVM of its own ({@link ShippedJar}) instead of in this JVM. */
    private static final boolean JAR = ShippedJar.requested();


    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;
    private AppProcess jarApp;
    private final ShippedJar shipped = ShippedJar.fromProperties();

    @BeforeEach
    void setUp() {
        Bench.quietConsole();
        fake = TestApp.startFake();
        fake.latency(LATENCY);
        box = TestApp.invoicesBox(fake);
    }

    @AfterEach
    void tearDown() {
        if (jarApp != null) {
            jarApp.close();
        }
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, out());
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "max-messages-per-poll", String.valueOf(HANDLED));
        s.put(k + "rules.require-attachment", "true");
        if (WARMUP > 0) {
            // ~2 requests per message: the default budget (9000/10m, Graph's throttling limit) would pause the warm-up
            s.put(k + "request-budget", "1000000/10m");
        }
        return s;
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000 + t.getNano() / 1_000;
    }

    /** Starts the application (here, or the jar); returns its request gate when it runs in this JVM, else null. */
    private RequestGate.Occupancy startApp() {
        if (JAR) {
            jarApp = shipped.start(tmp, settings());
            return null;
        }
        app = TestApp.start(settings());
        return gate(app);
    }

    private static RequestGate.Occupancy gate(TestApp app) {
        return ((GraphMailbox) app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class)
                .get("invoices").gateway()).requestGate().occupancy();
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @Test
    void importsThousandMessagesOfFiftyKilobytes() throws Exception {
        RequestGate.Occupancy gate = null;
        if (WARMUP > 0) {
            for (int i = 0; i < WARMUP; i++) {
                box.addMessage("inbox", Mimes.pdfMessage("<warm-up-" + i + "@example.com>", "Invoice " + i, PDF_BYTES),
                        T0.minusSeconds(WARMUP - i));
            }
            gate = startApp();
            await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofMillis(250))
                    .until(() -> box.messagesIn("Inbox/Processed").size() == WARMUP);
            await().atMost(Duration.ofSeconds(30)).until(() -> fake.graphRequests().stream()
                    .filter(r -> r.path().endsWith("/move") && r.status() == 201).count() == WARMUP);
        }
        long totalBytes = 0;
        long rejectedBytes = 0;
        int every = REJECTED == 0 ? Integer.MAX_VALUE : Math.max(2, HANDLED / REJECTED);
        for (int i = 0, accepted = 0, rejected = 0; accepted + rejected < HANDLED; i++) {
            boolean reject = rejected < REJECTED && (i % every == every - 1 || accepted == MESSAGES);
            byte[] mime = reject
                    ? Mimes.inlineImageMessage("<bench-rejected-" + rejected++ + "@example.com>", "Newsletter", PDF_BYTES)
                    : Mimes.pdfMessage("<bench-" + accepted++ + "@example.com>", "Invoice " + i, PDF_BYTES);
            if (reject) {
                rejectedBytes += mime.length;
            } else {
                totalBytes += mime.length;
            }
            box.addMessage("inbox", mime, T0.plusSeconds(i));
        }
        double avgKb = totalBytes / (double) MESSAGES / 1024.0;

        long heapBefore = WARMUP > 0 ? 0 : Bench.heapUsedAfterGc();
        Instant measuredFrom = Instant.now();
        if (gate != null) {
            gate.reset();
        }
        fake.clearRequests();
        fake.resetPeakConcurrency();
        Bench.resetPeaks();
        Bench.CpuSampler here = Bench.CpuSampler.start(ProcessHandle.current(),
                JAR ? "this JVM (the fake)" : "this JVM (app + fake)");
        if (app == null && jarApp == null) {
            gate = startApp();
        }
        Bench.CpuSampler cpu = JAR ? Bench.CpuSampler.start(ProcessHandle.of(jarApp.pid()).orElseThrow(),
                "application JVM") : here;

        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> box.messagesIn("Inbox/Processed").size() == WARMUP + MESSAGES
                        && box.messagesIn("Inbox/Error").size() == REJECTED);
        // the fake logs a request as completed only after its handler returned, just after the client got the answer
        await().atMost(Duration.ofSeconds(30)).until(() -> fake.graphRequests().stream()
                .filter(r -> r.path().endsWith("/move") && r.status() == 201).count() == HANDLED);
        long[] gateAt = gate == null ? null : gate.nanosAt();
        long gateFreeWaiter = gate == null ? 0 : gate.freeWithWaiterNanos();
        long gateFreeIdle = gate == null ? 0 : gate.freeIdleNanos();
        Instant gateRead = Instant.now();
        long peakHeap = Bench.peakHeapUsed();
        cpu.stop();
        here.stop();
        long heapAfter = Bench.heapUsedAfterGc();

        // ---- figures, all from the fake's request log
        List<LoggedRequest> graph = fake.graphRequests();
        String dump = System.getProperty("bench.graph.dump");
        if (dump != null) {
            // -Dbench.graph.dump=requests.tsv: every request (arrival, completion in epoch micros, method, path)
            Files.write(Path.of(dump), graph.stream().map(r -> micros(r.at()) + "\t" + (r.completed()
                    ? micros(r.completedAt()) : -1) + "\t" + r.method() + "\t" + r.path()).toList());
        }
        LoggedRequest firstRequest = graph.stream().min(Comparator.comparing(LoggedRequest::at)).orElseThrow();
        List<LoggedRequest> moves = graph.stream()
                .filter(r -> r.method().equals("POST") && r.path().endsWith("/move") && r.status() == 201).toList();
        Instant lastMove = moves.stream().map(LoggedRequest::completedAt).max(Comparator.naturalOrder()).orElseThrow();
        List<LoggedRequest> during = graph.stream().filter(r -> !r.at().isAfter(lastMove)).toList();
        double seconds = Duration.between(firstRequest.at(), lastMove).toNanos() / 1e9;
        double perSecond = HANDLED / seconds;
        double requestsPerMessage = during.size() / (double) HANDLED;
        double target = CONCURRENCY / (requestsPerMessage * LATENCY.toNanos() / 1e9);
        int peakConcurrency = fake.peakConcurrency(ADDRESS);
        // Little's law: mean number of Graph requests in flight over the import
        double busySeconds = during.stream().filter(LoggedRequest::completed)
                .mapToLong(r -> r.duration().toNanos()).sum() / 1e9;
        double meanInFlight = busySeconds / seconds;
        Map<String, Long> byKind = new TreeMap<>();
        for (LoggedRequest r : during) {
            byKind.merge(kind(r), 1L, Long::sum);
        }
        long notOk = during.stream().filter(r -> r.status() < 200 || r.status() >= 300).count();
        double meanRequestMs = busySeconds * 1000 / during.size();
        List<Instant> moveTimes = moves.stream().map(LoggedRequest::completedAt).sorted().toList();
        Instant half = moveTimes.get(moveTimes.size() / 2 - 1);
        double secondHalf = (moveTimes.size() - moveTimes.size() / 2) / (Duration.between(half, lastMove).toNanos() / 1e9);
        Overlap over = Overlap.of(during, CONCURRENCY);
        Instant firstValue = during.stream().filter(LoggedRequest::isMimeDownload).map(LoggedRequest::at)
                .min(Comparator.naturalOrder()).orElse(lastMove);
        double listingSeconds = Duration.between(firstRequest.at(), firstValue).toNanos() / 1e9;
        // per message: $value response complete -> its move request arrives (parse, write, ledger, gate wait)
        Map<String, Instant> valueDone = new HashMap<>();
        for (LoggedRequest r : during) {
            if (r.isMimeDownload() && r.completed()) {
                valueDone.put(r.path().substring(0, r.path().length() - "/$value".length()), r.completedAt());
            }
        }
        List<Long> localMs = moves.stream()
                .filter(m -> valueDone.containsKey(m.path().substring(0, m.path().length() - "/move".length())))
                .map(m -> Duration.between(valueDone.get(m.path().substring(0, m.path().length() - "/move".length())),
                        m.at()).toMillis())
                .sorted().toList();

        StringBuilder b = new StringBuilder();
        b.append("\n==== GraphImportBenchmark ====\n");
        b.append(line("machine", Bench.machine()));
        b.append(line("messages", String.format(Locale.ROOT, "%,d, average MIME size %.1f KB (%,d bytes in all)",
                MESSAGES, avgKb, totalBytes)));
        b.append(line("rejected messages", String.format(Locale.ROOT, "%,d without an attachment (inline image only,"
                + " %,d bytes in all), interleaved; rules.require-attachment=true sends them to Error", REJECTED,
                rejectedBytes)));
        b.append(line("Graph latency (fake)", LATENCY.toMillis() + " ms per response; concurrency " + CONCURRENCY
                + ", page-size 100"));
        b.append(line("application", JAR ? shipped.describe() : "in this JVM (TestApp), next to the fake"));
        b.append(line("instance", WARMUP > 0 ? String.format(Locale.ROOT, "warm: it imported %,d invoices first;"
                + " the measured messages were added after that", WARMUP)
                : "cold: the measured messages are the first it imports"));
        b.append(line("elapsed", String.format(Locale.ROOT, "%.2f s (first Graph request -> last move)", seconds)));
        b.append(line("throughput", String.format(Locale.ROOT, "%.1f messages/s (second half of the moves alone:"
                + " %.1f messages/s)", perSecond, secondHalf)));
        b.append(line("Graph requests", String.format(Locale.ROOT, "%,d during the import = %.3f per handled message"
                + " %s", during.size(), requestsPerMessage, byKind)));
        b.append(perOutcome(during, box));
        b.append(line("requests / handled", String.format(Locale.ROOT, "%.3f (goal <= %.2f) %s", requestsPerMessage,
                REQUESTS_GOAL, requestsPerMessage <= REQUESTS_GOAL ? "PASS" : "MISS")));
        b.append(line("listing phase", String.format(Locale.ROOT, "%.2f s (folders + list pages, one at a time,"
                + " before the first $value)", listingSeconds)));
        b.append(line("non-2xx responses", String.valueOf(notOk)));
        b.append(line("token requests", String.valueOf(fake.tokenRequests().size())));
        b.append(line("peak concurrency", peakConcurrency + " (fake, per mailbox)"));
        b.append(line("mean in flight", String.format(Locale.ROOT, "%.2f Graph requests (sum of durations / elapsed);"
                + " mean request %.1f ms", meanInFlight, meanRequestMs)));
        b.append(line("in flight > " + CONCURRENCY, String.format(Locale.ROOT, "%.1f ms in all, %d time(s), longest"
                + " %.3f ms (fake's view: handler entry -> handler exit)", over.totalMs, over.count, over.longestMs)));
        b.append(line("time at n in flight", over.shares()));
        // the gate counted on after the last move until it was read (idle, bar the next poll's listing): not the import
        // and, warm, from its reset to the first request of the measured import (the poll interval)
        long tail = Duration.between(lastMove, gateRead).toNanos() + Duration.between(measuredFrom,
                firstRequest.at()).toNanos();
        if (gateAt != null) {
            gateAt[0] = Math.max(0, gateAt[0] - tail);
            b.append(line("gate (client)", gateShares(gateAt, gateFreeWaiter,
                    Math.max(0, gateFreeIdle - tail * CONCURRENCY))));
        }
        b.append(line("$value -> move", String.format(Locale.ROOT, "median %d ms, p90 %d ms, max %d ms (local work"
                + " + gate wait between a message's two requests)", pct(localMs, 50), pct(localMs, 90),
                pct(localMs, 100))));
        b.append(line("CPU", cpu.describe(firstRequest.at(), lastMove)));
        if (JAR) {
            b.append(line("CPU of the fake", here.describe(firstRequest.at(), lastMove)));
        }
        b.append(line("target", String.format(Locale.ROOT, "%.1f messages/s = %d / (%.3f x %.3f s)", target,
                CONCURRENCY, requestsPerMessage, LATENCY.toNanos() / 1e9)));
        b.append(line("achieved / target", String.format(Locale.ROOT, "%.1f %% (goal >= %.0f %%) %s",
                100 * perSecond / target, 100 * TARGET_GOAL, perSecond / target >= TARGET_GOAL ? "PASS" : "MISS")));
        b.append(line("peak heap", String.format(Locale.ROOT, "%.1f MB (sum of heap pool peaks since start%s);"
                + " heap after GC before start %.1f MB (includes the fake's ~%.0f MB mailbox), after the import %.1f MB",
                Bench.mb(peakHeap), JAR ? ", the fake's JVM" : "", Bench.mb(heapBefore), Bench.mb(totalBytes),
                Bench.mb(heapAfter))));
        b.append(line("max heap", String.format(Locale.ROOT, "%.1f MB (Runtime.maxMemory)",
                Bench.mb(Runtime.getRuntime().maxMemory()))));
        b.append("==============================\n");
        System.out.println(b);

        // ---- correctness only
        assertThat(box.messagesIn("inbox")).isEmpty();
        assertThat(box.messagesIn("Inbox/Error")).hasSize(REJECTED);
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(new HashSet<>(dirs)).hasSize(WARMUP + MESSAGES);
        ObjectMapper json = new ObjectMapper();
        Set<String> ids = new HashSet<>();
        for (Path dir : dirs) {
            ids.add(json.readTree(dir.resolve("metadata.json").toFile()).path("internetMessageId").asText());
        }
        assertThat(ids).as("distinct Internet message ids delivered").hasSize(WARMUP + MESSAGES);
    }

    /**
     * Requests per handled message by outcome: each message's own requests ({@code /messages/<id>...}: $value, PATCH,
     * move) by where it ended, plus an equal share of the shared ones (folders, listing pages) for every message.
     */
    private static String perOutcome(List<LoggedRequest> during, FakeMailbox box) {
        Set<String> rejectedIds = new HashSet<>();
        for (var m : box.messagesIn("Inbox/Error")) {
            rejectedIds.add(m.immutableId());
            rejectedIds.add(m.restId());
        }
        Map<String, Map<String, Long>> kinds = new TreeMap<>();
        long shared = 0;
        for (LoggedRequest r : during) {
            int at = r.path().indexOf("/messages/");
            if (at < 0) {
                shared++;
                continue;
            }
            String rest = r.path().substring(at + "/messages/".length());
            String id = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
            String outcome = rejectedIds.contains(id) ? "rejected" : "accepted";
            String kind = r.method().equals("PATCH") ? "PATCH" : kind(r);
            kinds.computeIfAbsent(outcome, o -> new TreeMap<>()).merge(kind, 1L, Long::sum);
        }
        double sharedPer = shared / (double) HANDLED;
        StringBuilder b = new StringBuilder();
        for (String outcome : List.of("accepted", "rejected")) {
            int n = outcome.equals("accepted") ? MESSAGES : REJECTED;
            if (n == 0) {
                continue;
            }
            Map<String, Long> k = kinds.getOrDefault(outcome, Map.of());
            long own = k.values().stream().mapToLong(Long::longValue).sum();
            double per = own / (double) n + sharedPer;
            b.append(line("requests / " + outcome, String.format(Locale.ROOT, "%.3f = %.3f own %s + %.3f shared"
                    + " (folders, listing) (goal <= %.2f) %s", per, own / (double) n, perKind(k, n), sharedPer,
                    REQUESTS_GOAL, per <= REQUESTS_GOAL ? "PASS" : "MISS")));
        }
        return b.toString();
    }

    /**
     * The client's view of the 4 slots (the mailbox's {@code RequestGate}, from its first request to the last move): the share of the time at n admitted requests, and the free slot time split into "a worker was waiting
     * for it" (hand-over not yet taken up) and "no worker wanted one" (all busy with local work or the listing).
     */
    private static String gateShares(long[] at, long freeWithWaiter, long freeIdle) {
        long span = java.util.Arrays.stream(at).sum();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < at.length; i++) {
            b.append(i == 0 ? "" : ", ").append(i).append(String.format(Locale.ROOT, ": %.1f %%", 100.0 * at[i] / span));
        }
        double slotTime = (double) span * (at.length - 1);
        return b.append(String.format(Locale.ROOT, " admitted; free slot time %.1f %% with a worker waiting, %.1f %%"
                + " with none", 100 * freeWithWaiter / slotTime, 100 * freeIdle / slotTime)).toString();
    }

    private static String perKind(Map<String, Long> kinds, int n) {
        StringBuilder b = new StringBuilder("{");
        kinds.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(k).append(' ')
                .append(String.format(Locale.ROOT, "%.3f", v / (double) n)));
        return b.append('}').toString();
    }

    private static long pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return -1;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    /**
     * By the fake's log: how long more than {@code limit} Graph requests were in flight, and the share of the time
     * (first arrival to last completion) spent at each number in flight.
     */
    private record Overlap(double totalMs, int count, double longestMs, double[] share) {
        static Overlap of(List<LoggedRequest> requests, int limit) {
            List<long[]> events = new ArrayList<>();
            for (LoggedRequest r : requests) {
                if (r.completed()) {
                    events.add(new long[]{nanos(r.at()), 1});
                    events.add(new long[]{nanos(r.completedAt()), -1});
                }
            }
            // at equal instants, exits first
            events.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
            long[] at = new long[limit + 2];
            int current = 0;
            long since = 0;
            long total = 0;
            long longest = 0;
            int count = 0;
            long last = events.isEmpty() ? 0 : events.get(0)[0];
            for (long[] e : events) {
                at[Math.min(current, limit + 1)] += e[0] - last;
                last = e[0];
                int before = current;
                current += (int) e[1];
                if (before <= limit && current > limit) {
                    since = e[0];
                    count++;
                } else if (before > limit && current <= limit) {
                    total += e[0] - since;
                    longest = Math.max(longest, e[0] - since);
                }
            }
            long span = events.isEmpty() ? 1 : Math.max(1, events.get(events.size() - 1)[0] - events.get(0)[0]);
            double[] share = new double[at.length];
            for (int i = 0; i < at.length; i++) {
                share[i] = 100.0 * at[i] / span;
            }
            return new Overlap(total / 1e6, count, longest / 1e6, share);
        }

        String shares() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < share.length; i++) {
                b.append(i == 0 ? "" : ", ").append(i == share.length - 1 ? ">" + (i - 1) : String.valueOf(i))
                        .append(String.format(Locale.ROOT, ": %.1f %%", share[i]));
            }
            return b.toString();
        }

        private static long nanos(Instant i) {
            return i.getEpochSecond() * 1_000_000_000L + i.getNano();
        }
    }

    private static String kind(LoggedRequest r) {
        String p = r.path();
        if (p.endsWith("/$value")) {
            return "$value";
        }
        if (p.endsWith("/move")) {
            return "move";
        }
        if (p.endsWith("/messages")) {
            return "list";
        }
        if (p.contains("/mailFolders") || p.contains("/childFolders")) {
            return "folders";
        }
        return r.method() + " other";
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }

    /** Helpers shared by the benchmarks. */
    static final class Bench {
        private Bench() {
        }

        /**
         * The figures go to stdout; the application's log goes to target/test-logs/.../test-run.log but not to the
         * console, where it would bury them. Log levels are those of the shipped logback.xml (INFO; HttpClient and
         * msal4j WARN), not the tests' DEBUG: the benchmark measures the application as it runs in production.
         */
        static void quietConsole() {
            org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            if (root instanceof ch.qos.logback.classic.Logger logback) {
                logback.detachAppender("CONSOLE");
                ch.qos.logback.classic.LoggerContext ctx = logback.getLoggerContext();
                for (String name : new String[] {"dev.mailintake", "org.apache.camel.component.http", "org.apache.camel.main"}) {
                    ctx.getLogger(name).setLevel(ch.qos.logback.classic.Level.INFO);
                }
                ctx.getLogger("com.microsoft.aad.msal4j").setLevel(ch.qos.logback.classic.Level.WARN);
                ctx.getLogger("org.apache.hc").setLevel(ch.qos.logback.classic.Level.WARN);
            }
        }

        static void resetPeaks() {
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                pool.resetPeakUsage();
            }
        }

        /** Sum of the heap pools' peaks (an upper bound of the heap's peak: pools peak at different times). */
        static long peakHeapUsed() {
            long sum = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                    sum += pool.getPeakUsage().getUsed();
                }
            }
            return sum;
        }

        static long heapUsedAfterGc() {
            System.gc();
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        static double mb(long bytes) {
            return bytes / (1024.0 * 1024.0);
        }

        /**
         * Samples this JVM's CPU time and the whole machine's busy CPU time (Linux /proc/stat) every 100 ms, so the
         * figures can say how much CPU the import used and how much other processes took meanwhile.
         */
        static final class CpuSampler {
            private record Sample(Instant at, long processNanos, long machineBusyNanos) {
            }

            private final List<Sample> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
            private final java.util.concurrent.ScheduledExecutorService timer =
                    java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                        Thread t = new Thread(r, "bench-cpu-sampler");
                        t.setDaemon(true);
                        return t;
                    });

            /** The process sampled (this JVM by default) and its name in {@link #describe}. */
            private final ProcessHandle process;
            private final String label;

            private CpuSampler(ProcessHandle process, String label) {
                this.process = process;
                this.label = label;
            }

            static CpuSampler start() {
                return start(ProcessHandle.current(), "this JVM (app + fake)");
            }

            /** Samples another process, e.g. the application in a JVM of its own. */
            static CpuSampler start(ProcessHandle process, String label) {
                CpuSampler s = new CpuSampler(process, label);
                s.timer.scheduleAtFixedRate(s::sample, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
                return s;
            }

            void stop() {
                timer.shutdownNow();
                sample();
            }

            private void sample() {
                samples.add(new Sample(Instant.now(), cpuNanos(process), machineBusyNanos()));
            }

            /** CPU used between two instants (nearest samples), in cores. */
            String describe(Instant from, Instant to) {
                Sample a = nearest(from);
                Sample b = nearest(to);
                if (a == null || b == null || a == b || a.processNanos < 0) {
                    return "n/a";
                }
                double wall = Duration.between(a.at, b.at).toNanos();
                double ours = (b.processNanos - a.processNanos) / wall;
                String result = String.format(Locale.ROOT, "%s %.2f cores", label, ours);
                if (a.machineBusyNanos >= 0 && b.machineBusyNanos >= 0) {
                    double machine = (b.machineBusyNanos - a.machineBusyNanos) / wall;
                    result += String.format(Locale.ROOT, ", whole machine %.2f of %d cores busy (other processes"
                            + " %.2f)", machine, Runtime.getRuntime().availableProcessors(), Math.max(0, machine - ours));
                }
                return result + String.format(Locale.ROOT, "; load average now %.2f",
                        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            }

            private Sample nearest(Instant t) {
                Sample best = null;
                for (Sample s : samples) {
                    if (best == null || Duration.between(s.at, t).abs().compareTo(Duration.between(best.at, t).abs()) < 0) {
                        best = s;
                    }
                }
                return best;
            }

            /** Busy (non-idle, non-iowait) CPU time of all cores, from /proc/stat; -1 where unavailable. */
            private static long machineBusyNanos() {
                try {
                    String cpu = java.nio.file.Files.readAllLines(Path.of("/proc/stat")).get(0);
                    String[] f = cpu.trim().split("\\s+");
                    long busy = 0;
                    for (int i = 1; i < f.length && i <= 8; i++) {
                        if (i != 4 && i != 5) {           // idle, iowait
                            busy += Long.parseLong(f[i]);
                        }
                    }
                    return busy * (1_000_000_000L / 100);   // USER_HZ = 100
                } catch (Exception e) {
                    return -1;
                }
            }
        }

        /** User + system CPU time of a process (this JVM or the application's own), -1 where unknown. */
        static long cpuNanos(ProcessHandle process) {
            return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
        }

        static String machine() {
            return Runtime.getRuntime().availableProcessors() + " CPUs, Java " + System.getProperty("java.version")
                    + " (" + System.getProperty("java.vm.name") + "), GC "
                    + ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .map(java.lang.management.GarbageCollectorMXBean::getName).toList();
        }
    }
}

package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, target 3: CPU per imported message in steady state, Graph and IMAP, through the full pipeline (spool,
 * parse, rules, folder delivery, ledger, move, metrics). The application runs in a JVM of its own
 * ({@link AppProcess}: the main class path, the shipped logback.xml at INFO, the default JIT), so its process CPU time
 * is the application's alone: the Graph fake stays in this JVM, the IMAP server in a process of its own
 * ({@link BenchImapServer}: GreenMail, or Dovecot with {@code -Dbench.imap.server=dovecot}).
 *
 * <p>Warm-up + measured messages of ~50 KB ({@link #GRAPH}, {@link #IMAP}) are put into the Inbox before the start, the mailbox
 * polls every second with the default max-messages-per-poll (500, greedy). The child's CPU time and the number of
 * messages in Processed are sampled every 250 ms; the figure is the CPU between the first sample at or past
 * the warm-up's messages and the last message, divided by the messages imported in between. The warm-up batch
 * (start-up, class loading, the JIT compiling the hot paths) is excluded. Goal: ≤ 3 ms. Prints figures; asserts only
 * that every message arrived.
 *
 * <p>{@code -Dbench.cpu.protocols=graph,imap} (default both), {@code -Dbench.cpu.jvm-args=-XX:+X,-XX:Y=z} adds options
 * to the application's JVM (commas: Maven's argLine splits at spaces), e.g. a JFR recording
 * {@code -XX:StartFlightRecording=filename=/tmp/app.jfr,settings=profile} (the commas of JFR's own options: use
 * {@code ;} there, they become commas).
 */
class CpuPerMessageBenchmark {
    /**
     * Graph: C2 is still compiling after 16,000 messages and done after 30,000, so that is the warm-up (the fake holds
     * all 40,000 messages: the execution's heap is 5g). IMAP: GreenMail's cost per command grows with the folder, and
     * a longer run does not finish; its figure still holds JIT time.
     */
    private static final Size GRAPH = Size.of(30_000, 10_000);
    private static final Size IMAP = Size.of(2_000, 4_000);

    /** Messages imported before the measured ones, and measured; -Dbench.cpu.warmup / -Dbench.cpu.messages win. */
    private record Size(int warmup, int measured) {
        static Size of(int warmup, int measured) {
            return new Size(Integer.getInteger("bench.cpu.warmup", warmup), Integer.getInteger("bench.cpu.messages",
                    measured));
        }

        int total() {
            return warmup + measured;
        }
    }
    private static final int PDF_BYTES = 36_000;
    private static final double GOAL_MS = 3.0;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

    @TempDir
    Path tmp;

    @Test
    void graph() throws Exception {
        if (!protocol("graph")) {
            return;
        }
        try (GraphFake fake = TestApp.startFake()) {
            FakeMailbox box = TestApp.invoicesBox(fake);
            long bytes = 0;
            for (int i = 0; i < GRAPH.total(); i++) {
                byte[] mime = Mimes.pdfMessage("<cpu-" + i + "@example.com>", "Invoice " + i, PDF_BYTES);
                bytes += mime.length;
                box.addMessage("inbox", mime, T0.plusSeconds(i));
            }
            Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
            // ~2 requests per message: the default budget (9000/10m, Graph's throttling limit) would pause the run
            s.put("mailintake.mailboxes.invoices.request-budget", "1000000/10m");
            Result r = run(GRAPH, s, () -> box.messagesIn("Inbox/Processed").size());
            System.out.println(r.report("Graph (fake in the benchmark's JVM, no latency)", bytes));
            assertThat(box.messagesIn("inbox")).isEmpty();
        }
    }

    @Test
    void imap() throws Exception {
        if (!protocol("imap")) {
            return;
        }
        try (GraphFake fake = TestApp.startFake()) {
            BenchImapServer server = BenchImapServer.start().mailboxOpenedByTokensFrom(fake, TestApp.ADDRESS);
            try {
                Path mails = Files.createDirectories(tmp.resolve("mails"));
                long bytes = 0;
                for (int i = 0; i < IMAP.total(); i++) {
                    byte[] mime = Mimes.pdfMessage("<cpu-" + i + "@example.com>", "Invoice " + i, PDF_BYTES);
                    bytes += mime.length;
                    Path eml = Files.write(mails.resolve(i + ".eml"), mime);
                    server.append(TestApp.ADDRESS, "INBOX", eml, T0.plusSeconds(i));
                }
                Map<String, String> s = server.imapMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
                Result r = run(IMAP, s, () -> server.count(TestApp.ADDRESS, "INBOX/Processed"));
                System.out.println(r.report("IMAP (" + server.describe() + ")", bytes));
                assertThat(server.count(TestApp.ADDRESS, "INBOX")).isZero();
            } finally {
                server.close();
            }
        }
    }

    private static boolean protocol(String name) {
        return Arrays.asList(System.getProperty("bench.cpu.protocols", "graph,imap").split(",")).contains(name);
    }

    private record Sample(Instant at, int processed, long cpuNanos, Map<String, Long> byKind) {
        long kind(String k) {
            return byKind.getOrDefault(k, 0L);
        }
    }

    /**
     * The child's CPU time by kind of thread, from /proc/&lt;pid&gt;/task/*&#47;stat (10 ms ticks): the JIT's compiler
     * threads, the GC's threads, and the rest (the application's threads and the JVM's other ones). A thread that
     * ended takes its time with it, so the parts may add up to a little less than the process's figure.
     */
    static Map<String, Long> cpuByKind(long pid) {
        Map<String, Long> m = new LinkedHashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) {
            return m;
        }
        for (java.io.File t : tasks) {
            try {
                String stat = Files.readString(t.toPath().resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
                String kind = name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "JIT"
                        : name.startsWith("GC Thread") || name.startsWith("G1 ") ? "GC" : "other";
                m.merge(kind, ticks * 10_000_000L, Long::sum);
            } catch (java.io.IOException | RuntimeException e) {
                // the thread ended meanwhile
            }
        }
        return m;
    }

    private record Result(Size size, List<Sample> samples, Instant started, List<String> jvmOptions, long warnings, long storeBytes) {
        String report(String source, long bytes) {
            Sample first = samples.stream().filter(x -> x.processed() > 0).findFirst().orElseThrow();
            Sample from = samples.stream().filter(x -> x.processed() >= size.warmup()).findFirst().orElseThrow();
            Sample to = samples.get(samples.size() - 1);
            int n = to.processed() - from.processed();
            double ms = (to.cpuNanos() - from.cpuNanos()) / 1e6 / n;
            double seconds = Duration.between(from.at(), to.at()).toNanos() / 1e9;
            double warmMs = (from.cpuNanos() - first.cpuNanos()) / 1e6 / Math.max(1, from.processed() - first.processed());
            StringBuilder b = new StringBuilder("\n==== CpuPerMessageBenchmark ====\n");
            b.append(line("machine", Bench.machine() + String.format(Locale.ROOT, "; load average now %.2f",
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())));
            b.append(line("source", source));
            b.append(line("messages", String.format(Locale.ROOT, "%,d warm-up + %,d measured, average MIME size %.1f KB",
                    size.warmup(), size.measured(), bytes / (double) size.total() / 1024)));
            b.append(line("application JVM", "own process (AppProcess), options " + String.join(" ", jvmOptions)
                    + "; poll 1s, max-messages-per-poll 500 (greedy), concurrency 4, folder target, INFO log"));
            b.append(line("start-up + first msg", String.format(Locale.ROOT, "%.2f CPU-s until the first message was"
                    + " in Processed", first.cpuNanos() / 1e9)));
            b.append(line("warm-up batch", String.format(Locale.ROOT, "%.2f ms CPU per message (messages %d..%d,"
                    + " JIT warm-up included)", warmMs, first.processed(), from.processed())));
            b.append(line("steady state", String.format(Locale.ROOT, "%.2f ms CPU per message (messages %d..%d,"
                    + " %.2f s, %.1f messages/s, %.2f cores) goal <= %.1f ms %s", ms, from.processed(), to.processed(),
                    seconds, n / seconds, (to.cpuNanos() - from.cpuNanos()) / 1e9 / seconds, GOAL_MS,
                    ms <= GOAL_MS ? "PASS" : "MISS")));
            b.append(line("steady state by kind", String.format(Locale.ROOT, "JIT compiler threads %.2f ms, GC threads"
                    + " %.2f ms, other threads (application, VM) %.2f ms per message", (to.kind("JIT") - from.kind("JIT"))
                    / 1e6 / n, (to.kind("GC") - from.kind("GC")) / 1e6 / n, (to.kind("other") - from.kind("other"))
                    / 1e6 / n)));
            b.append(line("store file", String.format(Locale.ROOT, "%.1f MB (the H2 file after %,d messages)",
                    storeBytes / 1e6, to.processed())));
            b.append(line("WARN/ERROR lines", String.valueOf(warnings)));
            b.append("================================\n");
            return b.toString();
        }
    }

    private Result run(Size size, Map<String, String> settings, IntSupplier processed) throws Exception {
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.put("camel.management.port", String.valueOf(AppProcess.freePort()));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        Path config = AppProcess.configFile(tmp.resolve("app.properties"), s);
        List<String> options = new ArrayList<>(List.of("-Xmx512m"));
        for (String o : System.getProperty("bench.cpu.jvm-args", "").split(",")) {
            if (!o.isBlank()) {
                options.add(o.trim().replace(';', ','));
            }
        }
        List<Sample> samples = new ArrayList<>();
        Instant started = Instant.now();
        try (AppProcess app = AppProcess.start(tmp, Map.of(), options, "--config", config.toString())) {
            ProcessHandle handle = ProcessHandle.of(app.pid()).orElseThrow();
            await().atMost(Duration.ofMinutes(15)).pollInterval(Duration.ofMillis(250)).until(() -> {
                assertThat(app.alive()).as("the application ended: %s", app.lines()).isTrue();
                int n = processed.getAsInt();
                long cpu = handle.info().totalCpuDuration().map(Duration::toNanos).orElseThrow();
                samples.add(new Sample(Instant.now(), n, cpu, cpuByKind(app.pid())));
                return n >= size.total();
            });
            long warnings = app.lines().stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).count();
            Path storeFile = tmp.resolve("data").resolve("store.mv.db");
            return new Result(size, samples, started, options, warnings, Files.exists(storeFile) ? Files.size(storeFile) : 0);
        }
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, target 6: {@value #DEFAULT_MAILBOXES} idle Graph mailboxes (empty Inboxes, the default 60 s polls) on one
 * instance: ≤ 5 % of one core and ≤ 512 MB RSS. The application runs in a JVM of its own ({@link AppProcess}, the
 * shipped logback.xml, no heap option unless {@code -Dbench.idle.jvm-args=...} gives some); the Graph fake stays in
 * this JVM. After /observe/health answers 200 (every mailbox has polled once) and a settling time, the child's CPU
 * time, RSS ({@code VmRSS}) and thread count ({@code Threads}, /proc/&lt;pid&gt;/status) are sampled every 5 s over the
 * measuring window. RSS is judged on the window's second half (the idle state: G1's first periodic collection, a
 * minute after the last one, has given the start-up's heap back); the whole window's peak is printed next to it.
 * Prints figures with PASS/MISS; asserts only that the application ran.
 *
 * <p>{@code -Dbench.idle.mailboxes=500}, {@code -Dbench.idle.settle-seconds=30}, {@code -Dbench.idle.seconds=120}.
 */
class IdleMailboxesBenchmark {
    private static final int DEFAULT_MAILBOXES = 500;
    private static final int MAILBOXES = Integer.getInteger("bench.idle.mailboxes", DEFAULT_MAILBOXES);
    private static final int SETTLE = Integer.getInteger("bench.idle.settle-seconds", 30);
    private static final int WINDOW = Integer.getInteger("bench.idle.seconds", 120);
    private static final double CPU_GOAL = 0.05;
    private static final double RSS_GOAL_MB = 512;

    @TempDir
    Path tmp;

    private record Sample(Instant at, long cpuNanos, long rssKb, int threads) {
    }

    @Test
    void idleMailboxes() throws Exception {
        try (GraphFake fake = TestApp.startFake()) {
            int port = AppProcess.freePort();
            Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                    TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
            s.put("mailintake.data-dir", tmp.resolve("data").toString());
            s.put("camel.management.port", String.valueOf(port));
            s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
            for (int i = 0; i < MAILBOXES; i++) {
                String address = "box" + i + "@contoso.test";
                var box = fake.mailbox(address);
                box.createFolder("inbox", "Processed");
                box.createFolder("inbox", "Error");
                String k = "mailintake.mailboxes.box" + i + ".";
                s.put(k + "connection", "contoso");
                s.put(k + "address", address);
                s.put(k + "target", "folder:" + tmp.resolve("out").resolve("box" + i));
            }
            Path config = AppProcess.configFile(tmp.resolve("app.properties"), s);
            List<String> options = new ArrayList<>();
            for (String o : System.getProperty("bench.idle.jvm-args", "").split(",")) {
                if (!o.isBlank()) {
                    options.add(o.trim());
                }
            }
            Instant started = Instant.now();
            try (AppProcess app = AppProcess.start(tmp, Map.of(), options, "--config", config.toString())) {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
                HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/health"))
                        .timeout(Duration.ofSeconds(5)).build();
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    assertThat(app.alive()).as("the application ended: %s", app.lines()).isTrue();
                    try {
                        return http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
                double healthy = Duration.between(started, Instant.now()).toNanos() / 1e9;
                long requestsAtHealthy = fake.graphRequests().size();
                List<Sample> samples = new ArrayList<>();
                // the settling time and the window, sampled every 5 s (the samples show the figures over time)
                Instant settled = Instant.now().plusSeconds(SETTLE);
                Instant end = settled.plusSeconds(WINDOW);
                await().atMost(Duration.ofSeconds(SETTLE + WINDOW + 60)).pollInterval(Duration.ofSeconds(5))
                        .until(() -> {
                            assertThat(app.alive()).isTrue();
                            if (!Instant.now().isBefore(settled)) {
                                samples.add(sample(app.pid()));
                            }
                            return !Instant.now().isBefore(end);
                        });
                Sample a = samples.get(0);
                Sample b = samples.get(samples.size() - 1);
                double seconds = Duration.between(a.at(), b.at()).toNanos() / 1e9;
                double cores = (b.cpuNanos() - a.cpuNanos()) / 1e9 / seconds;
                long peakRss = samples.stream().mapToLong(Sample::rssKb).max().orElseThrow();
                // the idle state: the window's second half. Before G1's first periodic collection (a minute without a
                // collection, ops/IdleHeap) the heap the start-up and the 500 first polls grew is still committed
                long idleRss = samples.subList(samples.size() / 2, samples.size()).stream().mapToLong(Sample::rssKb)
                        .max().orElseThrow();
                int peakThreads = samples.stream().mapToInt(Sample::threads).max().orElseThrow();
                long polls = fake.graphRequests().stream().filter(r -> r.at().isAfter(a.at())
                        && !r.at().isAfter(b.at()) && r.path().endsWith("/messages")).count();
                StringBuilder out = new StringBuilder("\n==== IdleMailboxesBenchmark ====\n");
                out.append(line("machine", Bench.machine() + String.format(Locale.ROOT, "; load average now %.2f",
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())));
                out.append(line("mailboxes", MAILBOXES + " idle Graph mailboxes (empty Inbox), one connection,"
                        + " default poll 60s; application JVM options: " + (options.isEmpty() ? "none" : options)));
                out.append(line("health 200 after", String.format(Locale.ROOT, "%.1f s (every mailbox polled once;"
                        + " %,d Graph requests so far)", healthy, requestsAtHealthy)));
                out.append(line("window", String.format(Locale.ROOT, "%.0f s after %d s of settling; %,d listing"
                        + " requests in it (%.1f per mailbox per minute)", seconds, SETTLE, polls,
                        polls / (double) MAILBOXES / (seconds / 60))));
                out.append(line("CPU", String.format(Locale.ROOT, "%.1f %% of one core (goal <= %.0f %%) %s",
                        100 * cores, 100 * CPU_GOAL, cores <= CPU_GOAL ? "PASS" : "MISS")));
                out.append(line("RSS", String.format(Locale.ROOT, "idle (highest sample of the window's second half)"
                        + " %.0f MB (goal <= %.0f MB) %s; peak of the whole window %.0f MB (%s), last %.0f MB",
                        idleRss / 1024.0, RSS_GOAL_MB, idleRss / 1024.0 <= RSS_GOAL_MB ? "PASS" : "MISS",
                        peakRss / 1024.0, peakRss / 1024.0 <= RSS_GOAL_MB ? "also within the goal"
                        : "the start-up's heap, before the first periodic collection", b.rssKb() / 1024.0)));
                out.append(line("threads", String.format(Locale.ROOT, "peak %d, last %d (all JVM threads)",
                        peakThreads, b.threads())));
                out.append(line("samples (s, CPU-s, MB, threads)", samples.stream().map(x -> String.format(Locale.ROOT,
                        "%.0f/%.2f/%.0f/%d", Duration.between(a.at(), x.at()).toMillis() / 1000.0, x.cpuNanos() / 1e9,
                        x.rssKb() / 1024.0, x.threads())).reduce((p, q) -> p + " " + q).orElse("")));
                out.append("================================\n");
                System.out.println(out);
            }
        }
    }

    private static Sample sample(long pid) throws IOException {
        long cpu = ProcessHandle.of(pid).orElseThrow().info().totalCpuDuration().map(Duration::toNanos).orElseThrow();
        long rss = 0;
        int threads = 0;
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                rss = Long.parseLong(l.replaceAll("[^0-9]", ""));
            } else if (l.startsWith("Threads:")) {
                threads = Integer.parseInt(l.replaceAll("[^0-9]", ""));
            }
        }
        return new Sample(Instant.now(), cpu, rss, threads);
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

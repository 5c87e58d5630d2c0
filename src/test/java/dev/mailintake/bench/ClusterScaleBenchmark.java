package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's benchmark: {@value #DEFAULT_MAILBOXES} idle Graph mailboxes (empty Inboxes, the default 60 s polls) on
 * two instances (separate JVMs, the tests' JVM options) sharing one PostgreSQL store, on a real ZooKeeper server
 * (curator-test, in this JVM with the Graph fake). Prints: the time from launching both until every mailbox is owned
 * and until the ownership is even (the rebalancer), the CPU per idle mailbox per poll over a window, and the
 * failover time when the owner of half the mailboxes is killed with {@code kill -9}. Asserts only that it ran.
 *
 * <p>{@code -Dbench.cluster.mailboxes=500}, {@code -Dbench.cluster.seconds=120}.
 */
class ClusterScaleBenchmark {
    private static final int DEFAULT_MAILBOXES = 500;
    private static final int MAILBOXES = Integer.getInteger("bench.cluster.mailboxes", DEFAULT_MAILBOXES);
    private static final int WINDOW = Integer.getInteger("bench.cluster.seconds", 120);

    @TempDir
    Path tmp;

    @Test
    void fiveHundredMailboxesOnTwoInstances() throws Exception {
        try (GraphFake fake = TestApp.startFake(); TestingServer zookeeper = new TestingServer(true);
             PgSchema schema = PgSchema.create("mi_bench_cluster")) {
            for (int i = 0; i < MAILBOXES; i++) {
                var box = fake.mailbox("box" + i + "@contoso.test");
                box.createFolder("inbox", "Processed");
                box.createFolder("inbox", "Error");
            }
            Map<String, Integer> ports = new LinkedHashMap<>();
            Map<String, AppProcess> apps = new LinkedHashMap<>();
            Instant launched = Instant.now();
            for (String id : List.of("a", "b")) {
                Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                        TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
                s.put("mailintake.data-dir", tmp.resolve(id).toString());
                s.put("mailintake.store.url", schema.url());
                s.put("mailintake.store.user", "postgres");
                s.put("mailintake.cluster.service", "zookeeper");
                s.put("mailintake.cluster.zookeeper.nodes", zookeeper.getConnectString());
                s.put("mailintake.cluster.instance-id", id);
                int port = AppProcess.freePort();
                ports.put(id, port);
                s.put("camel.management.port", String.valueOf(port));
                s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
                for (int i = 0; i < MAILBOXES; i++) {
                    String k = "mailintake.mailboxes.box" + i + ".";
                    s.put(k + "connection", "contoso");
                    s.put(k + "address", "box" + i + "@contoso.test");
                    s.put(k + "target", "folder:" + tmp.resolve("out"));
                }
                apps.put(id, AppProcess.start(tmp, Map.of(), List.of("-Xmx512m"), "--config",
                        AppProcess.configFile(tmp.resolve(id + ".properties"), s).toString()));
            }
            try {
                HttpClient http = TestApp.http();
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> owned(http, ports.get("a")) + owned(http, ports.get("b")) == MAILBOXES);
                double allOwned = seconds(launched);
                String splitAtFirst = owned(http, ports.get("a")) + "/" + owned(http, ports.get("b"));
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    int a = owned(http, ports.get("a"));
                    int b = owned(http, ports.get("b"));
                    return a + b == MAILBOXES && Math.abs(a - b) <= 1;
                });
                double balanced = seconds(launched);

                // idle: both instances' CPU over the window, per listing request (one per mailbox per poll)
                long polls0 = listings(fake);
                long cpu0 = cpu(apps.get("a")) + cpu(apps.get("b"));
                Instant w0 = Instant.now();
                Thread.sleep(WINDOW * 1000L);
                long polls = listings(fake) - polls0;
                double cpuSeconds = (cpu(apps.get("a")) + cpu(apps.get("b")) - cpu0) / 1e9;
                double window = seconds(w0);

                // failover: the owner of half the mailboxes dies
                int ofB = owned(http, ports.get("b"));
                Instant killed = Instant.now();
                apps.get("b").kill();
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
                        .until(() -> owned(http, ports.get("a")) == MAILBOXES);
                double failover = seconds(killed);

                StringBuilder out = new StringBuilder("\n==== ClusterScaleBenchmark ====\n");
                out.append(line("machine", Bench.machine() + String.format(Locale.ROOT, "; load average now %.2f",
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())));
                out.append(line("set-up", MAILBOXES + " idle Graph mailboxes, 2 instances (JVMs, -Xmx512m), ZooKeeper"
                        + " (curator-test), PostgreSQL, default 60 s polls"));
                out.append(line("all owned", String.format(Locale.ROOT, "%.1f s after launching both (split %s)",
                        allOwned, splitAtFirst)));
                out.append(line("balanced", String.format(Locale.ROOT, "%.1f s after launching both", balanced)));
                out.append(line("idle CPU", String.format(Locale.ROOT, "%.1f CPU-s in %.0f s for %,d polls: %.2f ms"
                        + " per mailbox per poll; %.1f %% of one core for both instances", cpuSeconds, window, polls,
                        polls == 0 ? 0 : cpuSeconds * 1000 / polls, 100 * cpuSeconds / window)));
                out.append(line("failover", String.format(Locale.ROOT, "%d mailboxes moved %.1f s after kill -9 of"
                        + " their owner", ofB, failover)));
                out.append("================================\n");
                System.out.println(out);
                assertThat(polls).isPositive();
            } finally {
                apps.values().forEach(AppProcess::close);
            }
        }
    }

    private static long listings(GraphFake fake) {
        return fake.graphRequests().stream().filter(r -> r.path().endsWith("/messages")).count();
    }

    private static long cpu(AppProcess app) {
        return ProcessHandle.of(app.pid()).flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos)
                .orElse(0L);
    }

    private static double seconds(Instant since) {
        return Duration.between(since, Instant.now()).toMillis() / 1000.0;
    }

    /** How many mailboxes the instance on this management port owns (its {@code mailintake_mailbox_owned}). */
    private static int owned(HttpClient http, int port) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/observe/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers
                    .ofString()).body();
            return (int) body.lines().filter(l -> l.startsWith("mailintake_mailbox_owned{") && l.endsWith(" 1.0"))
                    .count();
        } catch (Exception e) {
            return 0;
        }
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

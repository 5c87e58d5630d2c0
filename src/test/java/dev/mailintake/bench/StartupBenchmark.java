package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up of the shipped fat jar as a user starts it: {@code java [options] -jar target/mail-intake.jar} in a child
 * JVM, in a temp working directory with its own {@code application.properties}, until
 * {@code GET /observe/health} answers 200. Reports the median wall time (process start → 200) and the child's CPU time
 * at that moment ({@link ProcessHandle.Info#totalCpuDuration()}) over {@value #RUNS} runs per launch variant, and
 * PASS/MISS against the targets (no mailbox ≤ 3.0 s and ≤ 4 CPU-s; 10 mailboxes ≤ 3.5 s). Needs the jar: {@code mvn
 * -B -o package -DskipTests} first. Prints figures; asserts only that every start reached 200.
 *
 * <p>Variants: {@code plain}; {@code cds} when {@code target/mail-intake.jsa} exists (the AppCDS archive the build
 * creates); extra ones from {@code -Dbench.startup.variants=name1:opt1,opt2;name2:opt3} (commas: Maven's argLine
 * splits {@code bench.args} at spaces).
 *
 * <p>Side by side with an earlier build: {@code -Dbench.baseline.jar=/path/to/mail-intake.jar} adds the variant
 * {@code baseline}, that jar started the same way (with {@code -XX:SharedArchiveFile} when a {@code .jsa} of the same
 * name lies next to it) on the {@code application.properties} next to it when there is one (that build's own keys).
 * {@code -Dbench.startup.logs=/some/dir} keeps each start's output there. Every start has a new store (the first start
 * of an installation) unless {@code -Dbench.startup.store=kept} (restarts on one store).
 */
class StartupBenchmark {
    private static final int RUNS = Integer.getInteger("bench.startup.runs", 5);
    private static final int MAILBOXES = 10;
    private static final boolean KEPT_STORE = "kept".equals(System.getProperty("bench.startup.store"));
    private static final Path JAR = Path.of("target/mail-intake.jar").toAbsolutePath();
    private static final Path ARCHIVE = Path.of("target/mail-intake.jsa").toAbsolutePath();

    @TempDir
    Path tmp;

    record Variant(String name, Path jar, List<String> options) {
        Variant(String name, List<String> options) {
            this(name, JAR, options);
        }
    }

    record Run(double seconds, double cpuSeconds) {
    }

    private static List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        v.add(new Variant("plain", List.of()));
        if (Files.exists(ARCHIVE)) {
            v.add(new Variant("cds", List.of("-XX:SharedArchiveFile=" + ARCHIVE)));
        }
        String baseline = System.getProperty("bench.baseline.jar", "");
        if (!baseline.isBlank()) {
            Path jar = Path.of(baseline).toAbsolutePath();
            v.add(new Variant("baseline", jar, ShippedJar.archiveOption(jar)));
        }
        String extra = System.getProperty("bench.startup.variants", "");
        for (String spec : extra.split(";")) {
            if (spec.isBlank()) {
                continue;
            }
            int colon = spec.indexOf(':');
            v.add(new Variant(spec.substring(0, colon).trim(),
                    Arrays.stream(spec.substring(colon + 1).trim().split(",")).filter(s -> !s.isBlank()).toList()));
        }
        return v;
    }

    @Test
    void startsToHealthy() throws Exception {
        assertThat(JAR).as("build the jar first: mvn -B -o package -DskipTests").exists();
        StringBuilder b = new StringBuilder("\n==== StartupBenchmark ====\n");
        b.append(line("machine", GraphImportBenchmark.Bench.machine() + "; load average now "
                + String.format(Locale.ROOT, "%.2f", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage())));
        b.append(line("jar", JAR + String.format(Locale.ROOT, " (%.1f MB)", Files.size(JAR) / 1024.0 / 1024.0)));
        b.append(line("runs", RUNS + " per variant; wall = process start -> /observe/health 200; CPU = the child's"
                + " user+system time at that moment"));
        b.append(line("store", KEPT_STORE ? "kept: one uncounted start created it, the measured ones are restarts"
                : "new for every start (the schema is created; -Dbench.startup.store=kept for restarts)"));
        for (Variant v : variants()) {
            b.append(report(v, "no mailbox", runs(v, Map.of(), "none"), 3.0, 4.0));
        }
        try (GraphFake fake = TestApp.startFake()) {
            Map<String, String> mailboxes = mailboxes(fake);
            for (Variant v : variants()) {
                b.append(report(v, MAILBOXES + " mailboxes", runs(v, mailboxes, "ten"), 3.5, Double.NaN));
            }
        }
        b.append("==========================\n");
        System.out.println(b);
    }

    /**
     * {@link #RUNS} starts of one variant; each on a new store (the first start of an installation: the schema is
     * created), or with {@code -Dbench.startup.store=kept} all on one store that an uncounted start created first
     * (a restart).
     */
    private List<Run> runs(Variant v, Map<String, String> settings, String what) throws Exception {
        List<Run> runs = new ArrayList<>();
        if (KEPT_STORE) {
            start(v, settings, what + "-kept");
        }
        for (int i = 0; i < RUNS; i++) {
            runs.add(start(v, settings, KEPT_STORE ? what + "-kept" : what + "-" + i));
        }
        return runs;
    }

    /** 10 Graph mailboxes on the fake (one connection), each with an empty Inbox, Processed and Error. */
    private Map<String, String> mailboxes(GraphFake fake) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, dev.mailintake.testsupport.TestSecrets.CLIENT_SECRET));
        for (int i = 0; i < MAILBOXES; i++) {
            String address = "box" + i + "@contoso.test";
            var box = fake.mailbox(address);
            box.createFolder("inbox", "Processed");
            box.createFolder("inbox", "Error");
            String k = "mailintake.mailboxes.box" + i + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", address);
            s.put(k + "target", "folder:" + tmp.resolve("out-" + i));
        }
        return s;
    }

    private Run start(Variant v, Map<String, String> settings, String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(v.name() + "-" + name));
        int port = freePort();
        Map<String, String> props = new LinkedHashMap<>();
        // the shipped file's settings, then this run's ports, data directory and mailboxes
        for (String l : Files.readAllLines(ShippedJar.properties(v.jar()))) {
            String t = l.trim();
            if (!t.isEmpty() && !t.startsWith("#") && t.contains("=")) {
                props.put(t.substring(0, t.indexOf('=')).trim(), t.substring(t.indexOf('=') + 1).trim());
            }
        }
        props.put("camel.management.port", String.valueOf(port));
        props.put("mailintake.admin.port", String.valueOf(freePort()));
        props.put("mailintake.data-dir", dir.resolve("data").toString());
        props.putAll(settings);
        Files.writeString(dir.resolve("application.properties"), props.entrySet().stream()
                .map(e -> e.getKey() + " = " + e.getValue().replace("\\", "\\\\")).collect(Collectors.joining("\n")));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(v.options());
        cmd.add("-jar");
        cmd.add(v.jar().toString());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/health"))
                .timeout(Duration.ofSeconds(2)).build();
        long started = System.nanoTime();
        Process p = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout.log").toFile()).redirectError(dir.resolve("stderr.log").toFile())
                .start();
        try {
            Instant deadline = Instant.now().plusSeconds(60);
            while (Instant.now().isBefore(deadline)) {
                assertThat(p.isAlive()).as("the application ended; see " + dir.resolve("stdout.log")).isTrue();
                try {
                    if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        double seconds = (System.nanoTime() - started) / 1e9;
                        double cpu = p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
                        return new Run(seconds, cpu);
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                // a short pause between probes (no busy loop taking CPU from the child)
                p.waitFor(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            throw new AssertionError("no health 200 within 60 s; see " + dir);
        } finally {
            p.destroy();
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            String keep = System.getProperty("bench.startup.logs");
            if (keep != null) {
                // -Dbench.startup.logs=/some/dir: each start's output, to see where its time went
                Path logs = Files.createDirectories(Path.of(keep));
                Files.copy(dir.resolve("stdout.log"), logs.resolve(v.name() + "-" + name + ".log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static String report(Variant v, String what, List<Run> runs, double wallGoal, double cpuGoal) {
        double wall = median(runs.stream().map(Run::seconds).toList());
        double cpu = median(runs.stream().map(Run::cpuSeconds).toList());
        String all = runs.stream().map(r -> String.format(Locale.ROOT, "%.2f/%.2f", r.seconds(), r.cpuSeconds()))
                .collect(Collectors.joining(" "));
        String verdict = String.format(Locale.ROOT, "wall goal <= %.1f s %s", wallGoal, wall <= wallGoal ? "PASS" : "MISS")
                + (Double.isNaN(cpuGoal) ? "" : String.format(Locale.ROOT, ", CPU goal <= %.1f s %s", cpuGoal,
                cpu <= cpuGoal ? "PASS" : "MISS"));
        return line(v.name() + ", " + what, String.format(Locale.ROOT, "median %.2f s wall, %.2f CPU-s (%s) [%s]%s%s",
                wall, cpu, verdict, all, v.options().isEmpty() ? "" : " options " + String.join(" ", v.options()),
                v.jar().equals(JAR) ? "" : " jar " + v.jar()));
    }

    private static double median(List<Double> values) {
        List<Double> s = values.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-30s %s%n", name + ":", value);
    }
}

package dev.mailintake.bench;

import static dev.mailintake.bench.ImapImportBenchmark.line;
import static dev.mailintake.bench.ImapImportBenchmark.secondsBetween;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One ~150 MB message (the message of {@link LargeMessageBenchmark}) through the real application over IMAP, from
 * GreenMail in a JVM of its own ({@link ImapServerProcess}), streamed in partial FETCHes of {@code imap.fetch-size}
 * bytes: it must pass with a small heap ({@code -Xmx128m} in the bench profile). Prints figures; asserts correctness
 * only. The fetch size comes from the system property {@code bench.imap.fetch-size} (default 1MB, the
 * application's default).
 *
 * <p>Runs with {@code mvn -B -Pbench test}; see docs/benchmarks.md.
 */
class ImapLargeMessageBenchmark {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

    @TempDir
    Path tmp;
    private GraphFake fake;
    private ImapServerHandle server;
    private TestApp app;

    @BeforeEach
    void setUp() {
        Bench.quietConsole();
        fake = TestApp.startFake();
        server = ImapServerHandle.start().mailboxOpenedByTokensFrom(fake, ADDRESS);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
        server.close();
    }

    private static String fetchSize() {
        String s = System.getProperty("bench.imap.fetch-size", "");
        return s.isBlank() ? "1MB" : s.trim();
    }

    private Map<String, String> settings() {
        Map<String, String> s = server.imapMailbox(tmp.resolve("data"), fake, out());
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "rules.max-size", "200MB");
        s.put(k + "imap.fetch-size", fetchSize());
        return s;
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @Test
    void importsOneHundredFiftyMegabyteMessageWithSmallHeap() throws Exception {
        Path source = tmp.resolve("large.eml");
        String attachmentSha = LargeMessageBenchmark.writeLargeMessage(source);
        long size = Files.size(source);
        String sourceSha = LargeMessageBenchmark.sha256(source);
        server.append(ADDRESS, "INBOX", source, T0);
        ImapServerHandle.Digest served = server.digest(ADDRESS, "INBOX", 0);
        boolean asWritten = served.size() == size && served.sha256().equals(sourceSha);

        long heapBefore = Bench.heapUsedAfterGc();
        Bench.resetPeaks();
        Bench.CpuSampler cpu = Bench.CpuSampler.start();
        long serverCpuBefore = server.cpuNanos();
        Instant started = Instant.now();
        app = TestApp.start(settings());

        await().atMost(Duration.ofMinutes(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> server.count(ADDRESS, "INBOX/Processed") == 1);
        long peakHeap = Bench.peakHeapUsed();
        cpu.stop();
        long serverCpu = server.cpuNanos() - serverCpuBefore;
        long heapAfter = Bench.heapUsedAfterGc();

        Instant firstToken = server.firstImapToken();
        Instant moved = server.arrivals(ADDRESS, "INBOX/Processed").get(0);
        double seconds = secondsBetween(firstToken, moved);
        double mb = Bench.mb(size);
        long fetchBytes = bytes(fetchSize());
        long fetches = (served.size() + fetchBytes - 1) / fetchBytes;

        StringBuilder b = new StringBuilder();
        b.append("\n==== ImapLargeMessageBenchmark ====\n");
        b.append(line("machine", Bench.machine()));
        b.append(line("message", String.format(Locale.ROOT, "%,d bytes (%.1f MB), attachment %,d bytes decoded;"
                + " GreenMail serves %s", size, mb, LargeMessageBenchmark.ATTACHMENT_BYTES,
                asWritten ? "it byte for byte as written" : String.format(Locale.ROOT, "%,d bytes, SHA-256 %s (differs"
                        + " from the file)", served.size(), served.sha256()))));
        b.append(line("IMAP server", server.describe()));
        b.append(line("fetch-size", String.format(Locale.ROOT, "%s = %,d bytes: %,d partial FETCHes", fetchSize(),
                fetchBytes, fetches)));
        b.append(line("elapsed", String.format(Locale.ROOT, "%.2f s (first IMAP token -> message in Processed),"
                + " %.1f MB/s; app start -> first token %.2f s", seconds, mb / seconds,
                secondsBetween(started, firstToken))));
        b.append(line("CPU", cpu.describe(firstToken, moved)));
        b.append(line("IMAP server CPU", String.format(Locale.ROOT, "%.2f cores (%.2f s, %.0f ms per partial FETCH with the MOVE counted in;"
                + " part of \"other processes\" above)", serverCpu / 1e9 / seconds, serverCpu / 1e9,
                serverCpu / 1e6 / fetches)));
        b.append(line("peak heap", String.format(Locale.ROOT, "%.1f MB (sum of heap pool peaks since start);"
                + " heap after GC before start %.1f MB, after the import %.1f MB", Bench.mb(peakHeap),
                Bench.mb(heapBefore), Bench.mb(heapAfter))));
        b.append(line("max heap", String.format(Locale.ROOT, "%.1f MB (Runtime.maxMemory)",
                Bench.mb(Runtime.getRuntime().maxMemory()))));
        b.append("===================================\n");
        System.out.println(b);

        // ---- correctness only: message.eml is what the server serves (and, if GreenMail kept it, the file)
        assertThat(server.count(ADDRESS, "INBOX")).isZero();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        Path eml = dirs.get(0).resolve("message.eml");
        assertThat(Files.size(eml)).isEqualTo(served.size());
        assertThat(LargeMessageBenchmark.sha256(eml)).isEqualTo(served.sha256());
        Path attachment = dirs.get(0).resolve("attachments").resolve(LargeMessageBenchmark.ATTACHMENT_NAME);
        assertThat(Files.size(attachment)).isEqualTo(LargeMessageBenchmark.ATTACHMENT_BYTES);
        assertThat(LargeMessageBenchmark.sha256(attachment)).isEqualTo(attachmentSha);
        JsonNode meta = new ObjectMapper().readTree(dirs.get(0).resolve("metadata.json").toFile());
        assertThat(meta.path("attachments").get(0).path("size").asLong())
                .isEqualTo(LargeMessageBenchmark.ATTACHMENT_BYTES);
    }

    /** "64KB", "1MB", "4MB" or a plain number of bytes. */
    private static long bytes(String size) {
        String s = size.toUpperCase(Locale.ROOT);
        long unit = s.endsWith("KB") ? 1024 : s.endsWith("MB") ? 1024 * 1024 : 1;
        return Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 2).trim()) * unit;
    }
}

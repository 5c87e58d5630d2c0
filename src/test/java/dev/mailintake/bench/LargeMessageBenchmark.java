package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.bench.GraphImportBenchmark.Bench;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One ~150 MB message (a 110 MiB base64 attachment of pseudo-random bytes) through the real application, with no
 * Graph latency: the whole path is streamed (fake → socket → spool file → mime4j → attachment file → target), so it
 * must pass with a small heap ({@code -Xmx128m} in the bench profile). Prints figures; asserts correctness only.
 *
 * <p>Runs with {@code mvn -B -Pbench test}; see docs/benchmarks.md.
 */
class LargeMessageBenchmark {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    static final long ATTACHMENT_BYTES = 110L * 1024 * 1024;
    /** 57 raw bytes = one 76-character base64 line; a chunk is a whole number of lines. */
    private static final int CHUNK = 57 * 1024;
    static final String ATTACHMENT_NAME = "scan.bin";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;

    @BeforeEach
    void setUp() {
        Bench.quietConsole();
        fake = TestApp.startFake();
        fake.latency(Duration.ZERO);
        box = TestApp.invoicesBox(fake);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, out());
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "rules.max-size", "200MB");
        return s;
    }

    private Path out() {
        return tmp.resolve("out");
    }

    @Test
    void importsOneHundredFiftyMegabyteMessageWithSmallHeap() throws Exception {
        Path source = tmp.resolve("large.eml");
        String attachmentSha = writeLargeMessage(source);
        long size = Files.size(source);
        String sourceSha = sha256(source);
        box.addMessage("inbox", source, T0);

        fake.clearRequests();
        long heapBefore = Bench.heapUsedAfterGc();
        Bench.resetPeaks();
        Bench.CpuSampler cpu = Bench.CpuSampler.start();
        app = TestApp.start(settings());

        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        // the fake logs a request as completed only after its handler returned, just after the client got the answer
        await().atMost(Duration.ofSeconds(30)).until(() -> fake.graphRequests().stream()
                .anyMatch(r -> r.path().endsWith("/move") && r.status() == 201));
        long peakHeap = Bench.peakHeapUsed();
        cpu.stop();
        long heapAfter = Bench.heapUsedAfterGc();

        List<LoggedRequest> graph = fake.graphRequests();
        LoggedRequest first = graph.stream().min(Comparator.comparing(LoggedRequest::at)).orElseThrow();
        LoggedRequest move = graph.stream().filter(r -> r.path().endsWith("/move") && r.status() == 201)
                .findFirst().orElseThrow();
        LoggedRequest download = graph.stream().filter(r -> r.isMimeDownload() && r.status() == 200)
                .reduce((a, b) -> b).orElseThrow();
        double seconds = Duration.between(first.at(), move.completedAt()).toNanos() / 1e9;
        double downloadSeconds = download.duration().toNanos() / 1e9;
        double mb = Bench.mb(size);
        long downloads = graph.stream().filter(LoggedRequest::isMimeDownload).count();

        StringBuilder b = new StringBuilder();
        b.append("\n==== LargeMessageBenchmark ====\n");
        b.append(line("machine", Bench.machine()));
        b.append(line("message", String.format(Locale.ROOT, "%,d bytes (%.1f MB), attachment %,d bytes decoded",
                size, mb, ATTACHMENT_BYTES)));
        b.append(line("elapsed", String.format(Locale.ROOT, "%.2f s (first Graph request -> move), %.1f MB/s",
                seconds, mb / seconds)));
        b.append(line("$value download", String.format(Locale.ROOT, "%.2f s (%.1f MB/s), %d download(s)",
                downloadSeconds, mb / downloadSeconds, downloads)));
        b.append(line("Graph requests", String.valueOf(graph.stream().filter(r -> !r.at().isAfter(move.completedAt()))
                .count())));
        b.append(line("CPU", cpu.describe(first.at(), move.completedAt())));
        b.append(line("peak heap", String.format(Locale.ROOT, "%.1f MB (sum of heap pool peaks since start);"
                + " heap after GC before start %.1f MB, after the import %.1f MB", Bench.mb(peakHeap), Bench.mb(heapBefore),
                Bench.mb(heapAfter))));
        b.append(line("max heap", String.format(Locale.ROOT, "%.1f MB (Runtime.maxMemory)",
                Bench.mb(Runtime.getRuntime().maxMemory()))));
        b.append("===============================\n");
        System.out.println(b);

        // ---- correctness only
        assertThat(box.messagesIn("inbox")).isEmpty();
        List<Path> dirs = Delivered.messageDirs(out());
        assertThat(dirs).hasSize(1);
        Path eml = dirs.get(0).resolve("message.eml");
        assertThat(Files.size(eml)).isEqualTo(size);
        assertThat(sha256(eml)).isEqualTo(sourceSha);
        Path attachment = dirs.get(0).resolve("attachments").resolve(ATTACHMENT_NAME);
        assertThat(Files.size(attachment)).isEqualTo(ATTACHMENT_BYTES);
        assertThat(sha256(attachment)).isEqualTo(attachmentSha);
        JsonNode meta = new ObjectMapper().readTree(dirs.get(0).resolve("metadata.json").toFile());
        assertThat(meta.path("attachments").get(0).path("size").asLong()).isEqualTo(ATTACHMENT_BYTES);
    }

    /**
     * Writes a multipart/mixed message with a base64 attachment of {@link #ATTACHMENT_BYTES} pseudo-random bytes,
     * chunk by chunk (never the whole message in memory). Returns the SHA-256 of the decoded attachment.
     */
    static String writeLargeMessage(Path file) throws IOException {
        MessageDigest attachmentSha = LargeMessageBenchmark.sha();
        Base64.Encoder base64 = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII));
        SplittableRandom random = new SplittableRandom(20261120L);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 256 * 1024)) {
            out.write(("From: Alice Sender <alice@example.com>\r\n"
                    + "To: " + ADDRESS + "\r\n"
                    + "Subject: Large scan\r\n"
                    + "Message-ID: <large-scan@example.com>\r\n"
                    + "Date: Fri, 20 Nov 2026 08:00:00 +0000\r\n"
                    + "MIME-Version: 1.0\r\n"
                    + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                    + "\r\n"
                    + "--b1\r\n"
                    + "Content-Type: text/plain; charset=utf-8\r\n"
                    + "\r\n"
                    + "The scan is attached.\r\n"
                    + "--b1\r\n"
                    + "Content-Type: application/octet-stream\r\n"
                    + "Content-Disposition: attachment; filename=\"" + ATTACHMENT_NAME + "\"\r\n"
                    + "Content-Transfer-Encoding: base64\r\n"
                    + "\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[CHUNK];
            long left = ATTACHMENT_BYTES;
            while (left > 0) {
                int n = (int) Math.min(CHUNK, left);
                for (int i = 0; i < n; i += 8) {
                    long r = random.nextLong();
                    for (int j = 0; j < 8 && i + j < n; j++) {
                        chunk[i + j] = (byte) (r >>> (8 * j));
                    }
                }
                byte[] piece = n == CHUNK ? chunk : java.util.Arrays.copyOf(chunk, n);
                attachmentSha.update(piece);
                out.write(base64.encode(piece));
                out.write('\r');
                out.write('\n');
                left -= n;
            }
            out.write("--b1--\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return HexFormat.of().formatHex(attachmentSha.digest());
    }

    static String sha256(Path file) throws IOException {
        MessageDigest sha = sha();
        try (InputStream in = Files.newInputStream(file);
             OutputStream sink = new DigestOutputStream(OutputStream.nullOutputStream(), sha)) {
            in.transferTo(sink);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String line(String name, String value) {
        return String.format(Locale.ROOT, "%-22s %s%n", name + ":", value);
    }
}

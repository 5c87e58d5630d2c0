package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.MailSource;
import dev.mailintake.testsupport.Mimes;
import jakarta.mail.BodyPart;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.apache.camel.builder.NotifyBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import dev.mailintake.testsupport.TestApp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The route files of examples/ as a user runs them: copied into the routes directory of the real application, HTTP
 * sinks played by an in-test server.
 */
class ExamplesTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path tmp;
    private MailSource source;
    private TestApp app;
    private Sink sink;

    static Stream<Arguments> protocols() {
        return Stream.of(Arguments.of("graph", (Supplier<MailSource>) MailSource::graph),
                Arguments.of("imap", (Supplier<MailSource>) MailSource::imap));
    }

    @BeforeEach
    void startSink() throws IOException {
        sink = new Sink();
    }

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        if (source != null) {
            source.close();
        }
        sink.close();
    }

    /** An HTTP server that keeps every request's body; answers 503 to the first {@code failFirst} requests. */
    static final class Sink implements AutoCloseable {
        record Request(String path, String contentType, byte[] body) {
        }

        final List<Request> requests = new CopyOnWriteArrayList<>();
        final AtomicInteger failFirst = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        private final HttpServer server;

        Sink() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                int status = 201;
                if (failFirst.getAndDecrement() > 0) {
                    status = 503;
                    refused.incrementAndGet();
                } else {
                    requests.add(new Request(ex.getRequestURI().getPath(),
                            ex.getRequestHeaders().getFirst("Content-Type"), body));
                }
                ex.sendResponseHeaders(status, -1);
                ex.close();
            });
            server.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private Map<String, String> withExamples(Map<String, String> s, String target, String... examples)
            throws IOException {
        Path routes = Files.createDirectories(tmp.resolve("routes"));
        for (String e : examples) {
            Files.copy(Path.of("examples", e), routes.resolve(e));
        }
        s.put("mailintake.mailboxes.invoices.target", target);
        s.put("dms.url", sink.url("/documents"));
        return s;
    }

    private Map<String, String> graphSettings(String target, String... examples) throws IOException {
        source = MailSource.graph();
        return withExamples(source.settings(tmp.resolve("data"), tmp.resolve("out")), target, examples);
    }

    private static byte[] from(String sender, byte[] mime) {
        return new String(mime, StandardCharsets.UTF_8).replace("alice@example.com", sender)
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** The documents the DMS got: file part's SHA-256 → the metadata part's JSON. */
    private List<Map.Entry<String, JsonNode>> documents() throws Exception {
        List<Map.Entry<String, JsonNode>> out = new java.util.ArrayList<>();
        for (Sink.Request r : sink.requests) {
            MimeMultipart mp = new MimeMultipart(new ByteArrayDataSource(r.body(), r.contentType()));
            String file = null;
            JsonNode meta = null;
            for (int i = 0; i < mp.getCount(); i++) {
                BodyPart p = mp.getBodyPart(i);
                String disposition = String.valueOf(p.getHeader("Content-Disposition")[0]);
                if (disposition.contains("name=\"file\"")) {
                    assertThat(disposition).contains("filename=\"invoice.pdf\"");
                    assertThat(p.getContentType()).startsWith("application/pdf");
                    file = sha256(p.getInputStream().readAllBytes());
                } else if (disposition.contains("name=\"metadata\"")) {
                    meta = json.readTree(p.getInputStream());
                }
            }
            out.add(Map.entry(file, meta));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocols")
    void dmsGetsEveryAttachmentOfA30MessageMailboxOnceWithItsMetadata(String protocol, Supplier<MailSource> sources)
            throws Exception {
        source = sources.get();
        Map<String, String> s = withExamples(source.settings(tmp.resolve("data"), tmp.resolve("out")), "direct:dms",
                "dms-attachments.yaml");
        for (int i = 0; i < 30; i++) {
            source.add(Mimes.pdfMessage("<m" + i + "@example.com>", "Invoice " + i, 1_000 + i), T0.plusSeconds(i));
        }
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(50)).until(() -> source.inProcessed() == 30);
        List<Map.Entry<String, JsonNode>> docs = documents();
        assertThat(docs).hasSize(30);
        assertThat(docs).extracting(d -> d.getValue().path("subject").asText()).doesNotHaveDuplicates();
        for (Map.Entry<String, JsonNode> d : docs) {
            JsonNode meta = d.getValue();
            assertThat(meta.path("from").asText()).contains("alice@example.com");
            assertThat(meta.path("subject").asText()).startsWith("Invoice ");
            // the bytes the DMS got are the attachment's decoded bytes
            assertThat(d.getKey()).isEqualTo(meta.path("attachments").get(0).path("sha256").asText());
        }
        assertThat(source.inInbox()).isZero();
        assertThat(source.inError()).isZero();
    }

    @Test
    void aRuleRouteSendsDisallowedSendersToErrorWithItsReason() throws Exception {
        Map<String, String> s = graphSettings("direct:allowed-senders", "allowed-senders.yaml", "dms-attachments.yaml");
        s.put("allowed-senders.regex", "(?i).*@example[.]com>?");
        source.add(Mimes.pdfMessage("<ok1@example.com>", "ok 1", 500), T0);
        source.add(from("mallory@evil.test", Mimes.pdfMessage("<bad1@example.com>", "bad 1", 500)), T0.plusSeconds(1));
        source.add(Mimes.pdfMessage("<ok2@example.com>", "ok 2", 500), T0.plusSeconds(2));
        source.add(from("eve@example.com.evil.test", Mimes.pdfMessage("<bad2@example.com>", "bad 2", 500)),
                T0.plusSeconds(3));
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 2 && source.inError() == 2);
        assertThat(source.errorMarks()).containsOnly("Mail Intake: sender not allowed");
        assertThat(documents()).extracting(d -> d.getValue().path("subject").asText())
                .containsExactlyInAnyOrder("ok 1", "ok 2");
    }

    @Test
    void aRouteThatThrowsLeavesTheMessageInTheInboxAndTheNextPollDeliversItOnce() throws Exception {
        Map<String, String> s = graphSettings("direct:dms", "dms-attachments.yaml");
        sink.failFirst.set(3); // the first try and both redeliveries of the first poll
        source.add(Mimes.pdfMessage("<down@example.com>", "down", 500), T0);
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(30)).until(() -> sink.refused.get() == 3);
        assertThat(source.inInbox()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 1);
        assertThat(documents()).singleElement()
                .satisfies(d -> assertThat(d.getValue().path("subject").asText()).isEqualTo("down"));
        assertThat(source.inInbox()).isZero();
    }

    @Test
    void theRawMessageGoesToADropFolderUnderANameFromItsHeaders() throws Exception {
        Map<String, String> s = graphSettings("direct:drop-folder", "drop-folder.yaml");
        Path drop = tmp.resolve("drop");
        s.put("drop-folder.dir", drop.toString());
        byte[] a = Mimes.pdfMessage("<a@example.com>", "a", 700);
        byte[] b = Mimes.plain("<b@example.com>", "b");
        source.add(a, T0);
        source.add(b, T0.plusSeconds(1));
        AtomicReference<NotifyBuilder> firstPoll = new AtomicReference<>();
        app = TestApp.start(s, null, camel -> firstPoll.set(TestApp.polls(camel, "invoices").whenDone(1).create()));

        // the first poll imports both: the user route wrote each file, then each message was moved
        assertThat(firstPoll.get().matches(30, TimeUnit.SECONDS)).as("the first poll is done").isTrue();
        assertThat(source.inProcessed()).isEqualTo(2);
        assertThat(drop.resolve("invoices/" + sha256(a) + ".eml")).hasBinaryContent(a);
        assertThat(drop.resolve("invoices/" + sha256(b) + ".eml")).hasBinaryContent(b);
        try (Stream<Path> files = Files.list(drop.resolve("invoices"))) {
            assertThat(files).hasSize(2); // no temporary file left
        }
    }

    @Test
    void twoSinksFolderAndHttpEachGetTheMessageOnceAlthoughHttpFailedFirst() throws Exception {
        Map<String, String> s = graphSettings("direct:folder-and-http", "folder-and-http.yaml");
        Path archive = tmp.resolve("archive");
        s.put("archive.dir", archive.toString());
        s.put("archive.url", sink.url("/messages"));
        sink.failFirst.set(3);
        byte[] a = Mimes.pdfMessage("<two@example.com>", "two sinks", 900);
        source.add(a, T0);
        app = TestApp.start(s);

        await().atMost(Duration.ofSeconds(30)).until(() -> source.inProcessed() == 1);
        List<Path> dirs = Delivered.messageDirs(archive);
        assertThat(dirs).singleElement().satisfies(d -> {
            assertThat(d.resolve("message.eml")).hasBinaryContent(a);
            assertThat(d.resolve("attachments/invoice.pdf")).exists();
            assertThat(json.readTree(d.resolve("metadata.json").toFile()).path("subject").asText())
                    .isEqualTo("two sinks");
        });
        assertThat(sink.refused.get()).isEqualTo(3);
        assertThat(sink.requests).singleElement().satisfies(r -> {
            assertThat(r.body()).isEqualTo(a);
            assertThat(r.contentType()).startsWith("message/rfc822");
        });
        try (Stream<Path> left = Files.list(archive.resolve(".incoming"))) {
            assertThat(left).isEmpty();
        }
    }
}

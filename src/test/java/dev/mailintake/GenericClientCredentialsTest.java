package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.GreenMailImap;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code provider=generic, flow=client-credentials}: app tokens from any OAuth2 server (here a small one on http
 * loopback that checks the client's Basic authentication and the {@code token-params.*} form fields) open an IMAP
 * mailbox (GreenMail, XOAUTH2) through the real application. And a provider's standard error answer without Entra's
 * AADSTS codes gives a clear message instead of a NullPointerException.
 */
class GenericClientCredentialsTest {
    private static final String ADDRESS = TestApp.ADDRESS;
    private static final String CLIENT_ID = "intake-app";
    private static final String SECRET = "generic-cc-s3cret-Never-Logged";
    private static final String USERNAME = "alice@example.test";
    private static final String TOKEN_PREFIX = "gcc-at-";

    @TempDir
    Path tmp;
    private HttpServer tokenServer;
    private GreenMailImap imap;
    private TestApp app;
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    private volatile String errorAnswer;

    @BeforeEach
    void setUp() throws IOException {
        imap = GreenMailImap.start().mailbox(ADDRESS);
        tokenServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenServer.createContext("/oauth/token", this::token);
        tokenServer.start();
    }

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        tokenServer.stop(0);
        imap.close();
    }

    /** The token endpoint: client_credentials with Basic authentication, the scope and the extra form field. */
    private void token(HttpExchange x) throws IOException {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        requests.add(form);
        if (errorAnswer != null) {
            answer(x, 401, errorAnswer);
            return;
        }
        String basic = "Basic " + Base64.getEncoder().encodeToString((CLIENT_ID + ":" + SECRET)
                .getBytes(StandardCharsets.UTF_8));
        String problem = !x.getRequestMethod().equals("POST") ? "method " + x.getRequestMethod()
                : !basic.equals(x.getRequestHeaders().getFirst("Authorization")) ? "no or wrong Basic authentication"
                : form.containsKey("client_secret") || form.containsKey("client_id") ? "credentials in the form"
                : !"client_credentials".equals(form.get("grant_type")) ? "grant_type " + form.get("grant_type")
                : !"imap.read imap.write".equals(form.get("scope")) ? "scope " + form.get("scope")
                : !USERNAME.equals(form.get("username")) ? "username " + form.get("username")
                : !"imap".equals(form.get("audience")) ? "audience " + form.get("audience")
                : null;
        if (problem != null) {
            refusals.add(problem);
            answer(x, 400, "{\"error\":\"invalid_request\",\"error_description\":\"" + problem + "\"}");
            return;
        }
        String token = TOKEN_PREFIX + UUID.randomUUID();
        imap.user(ADDRESS).setPassword(token);
        answer(x, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
    }

    private static void answer(HttpExchange x, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        String c = "mailintake.connections.idp.";
        s.put(c + "provider", "generic");
        s.put(c + "flow", "client-credentials");
        s.put(c + "token-url", "http://127.0.0.1:" + tokenServer.getAddress().getPort() + "/oauth/token");
        s.put(c + "client-id", CLIENT_ID);
        s.put(c + "client-secret", SECRET);
        s.put(c + "client-auth", "basic");
        s.put(c + "scopes", "imap.read imap.write");
        s.put(c + "token-params.username", USERNAME);
        s.put(c + "token-params.audience", "imap");
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "connection", "idp");
        s.put(k + "protocol", "imap");
        s.put(k + "address", ADDRESS);
        s.put(k + "imap.host", "127.0.0.1");
        s.put(k + "imap.port", String.valueOf(imap.port()));
        s.put(k + "imap.security", "none");
        s.put(k + "concurrency", "1");
        s.put(k + "poll", "1s");
        s.put(k + "target", "folder:" + tmp.resolve("out"));
        return s;
    }

    private MailboxStatus status() {
        return app.camel().getRegistry().lookupByNameAndType("mailboxes", Mailboxes.class).get("invoices").status();
    }

    @Test
    void appTokensFromAGenericProviderOpenTheImapMailbox() throws Exception {
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<gcc1@example.com>", "generic cc", 500),
                Instant.parse("2026-11-20T08:00:00Z"));
        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(30)).until(() -> imap.messages(ADDRESS, "INBOX/Processed").size() == 1);
        assertThat(Delivered.messageDirs(tmp.resolve("out"))).hasSize(1);
        assertThat(refusals).isEmpty();
        assertThat(requests).isNotEmpty();
        String log = Files.readString(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"),
                "test-run.log"), StandardCharsets.UTF_8);
        assertThat(log).doesNotContain(SECRET).doesNotContain(TOKEN_PREFIX).doesNotContain(USERNAME);
    }

    @Test
    void aStandardErrorWithoutAadstsCodeSaysWhatToFix() throws Exception {
        errorAnswer = "{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed\"}";
        imap.append(ADDRESS, "INBOX", Mimes.pdfMessage("<gcc2@example.com>", "refused", 500),
                Instant.parse("2026-11-20T08:00:00Z"));
        try (LogCapture log = LogCapture.of("dev.mailintake", Level.DEBUG)) {
            app = TestApp.start(settings());
            await().atMost(Duration.ofSeconds(20)).until(() -> status().state() == MailboxStatus.State.FAILED);
            assertThat(status().reason().orElseThrow())
                    .contains("the provider does not accept the client's credentials (invalid_client)")
                    .contains("mailintake.connections.idp.client-secret");
            assertThat(log.lines()).noneMatch(l -> l.contains("NullPointerException"));
        }
        assertThat(imap.messages(ADDRESS, "INBOX")).hasSize(1);
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.mailintake.config.ConfigurationException;
import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.CookieManager;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin server on a hostile network, through the real application: foreign Host and Origin refused, a CSRF
 * token per browser, request values escaped in the log, bounded pending sign-ins, one token refresh at a time
 * outside the HTTP worker, no stack trace to the browser, and an admin host checked as Undertow will bind it.
 */
class AdminSecurityTest {
    private static final String ADMIN = "admin@contoso.test";
    private static final String SHARED = "scans@contoso.test";
    private static final String SCOPES = "https://graph.microsoft.com/Mail.ReadWrite"
            + " https://graph.microsoft.com/Mail.ReadWrite.Shared https://graph.microsoft.com/User.Read offline_access";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;
    private int adminPort;
    private BrowserSignIn signIn;

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.mailbox(ADMIN);
        fake.mailbox(SHARED);
        fake.grantMailboxAccess(ADMIN, SHARED);
        try (ServerSocket socket = new ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        signIn = new BrowserSignIn(fake, adminPort);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", SCOPES);
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put("mailintake.refresh.retry-delay", "200ms");
        s.put("mailintake.mailboxes.scans.connection", "contoso");
        s.put("mailintake.mailboxes.scans.address", SHARED);
        s.put("mailintake.mailboxes.scans.poll", "1s");
        s.put("mailintake.mailboxes.scans.create-folders", "true");
        s.put("mailintake.mailboxes.scans.target", "folder:" + tmp.resolve("out"));
        return s;
    }

    private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t, t);
    }

    @Test
    void aShortFormAdminHostIsRefusedAtStartWithTheFix() {
        Map<String, String> s = settings();
        s.put("mailintake.admin.host", "127.1");
        assertThatThrownBy(() -> app = TestApp.start(s)).satisfies(e -> assertThat(
                cause(e, ConfigurationException.class).problems()).containsExactly("mailintake.admin.host: '127.1' is"
                        + " not a dotted-quad IPv4 address (short and numeric forms cannot be bound); use 127.0.0.1"));
    }

    // ------------------------------------------------------------------ helpers

    private String base() {
        return "http://127.0.0.1:" + adminPort;
    }

    /** A browser (cookies kept) that believes it talks to {@code host}, which resolves to this machine. */
    private HttpClient browserAt() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).cookieHandler(new CookieManager())
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", adminPort))).build();
    }

    private static HttpClient browser() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).cookieHandler(new CookieManager())
                .build();
    }

    private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(HttpClient client, String url, Map<String, String> fields,
                                             String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(fields)));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String form(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }

    private static String csrf(HttpResponse<String> page) {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page.body());
        assertThat(m.find()).as(page.body()).isTrue();
        return m.group(1);
    }

    private static String stateOf(String authorizeUrl) {
        Matcher m = Pattern.compile("[?&]state=([^&]+)").matcher(authorizeUrl);
        assertThat(m.find()).isTrue();
        return URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
    }

    private static void assertAdminHeaders(HttpResponse<String> answer) {
        assertThat(answer.headers().firstValue("X-Frame-Options")).as("X-Frame-Options of a " + answer.statusCode())
                .hasValue("DENY");
        assertThat(answer.headers().firstValue("Content-Security-Policy").orElseThrow())
                .as("CSP of a " + answer.statusCode()).contains("frame-ancestors 'none'");
        assertThat(answer.headers().firstValue("Cache-Control")).hasValue("no-store");
    }

    private int pendingStates() throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT COUNT(*) FROM mi_oauth_states WHERE connection = 'contoso'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ------------------------------------------------------------------ 1. Host, Origin, CSRF, framing

    @Test
    void foreignHostsAndOriginsAreRefusedAndTheCsrfTokenIsPerBrowser() throws Exception {
        Map<String, String> s = settings();
        s.put("mailintake.admin.public-base-url", "https://intake.example.test/mail");
        app = TestApp.start(s);

        // DNS rebinding: evil.example resolves to 127.0.0.1; the page, its addresses and its token are not served
        HttpClient rebound = browserAt();
        HttpResponse<String> evil = get(rebound, "http://evil.example:" + adminPort + "/");
        assertThat(evil.statusCode()).isEqualTo(421);
        assertThat(evil.body()).contains("Misdirected request").doesNotContain("csrf").doesNotContain(SHARED);
        assertAdminHeaders(evil);
        assertThat(post(rebound, "http://evil.example:" + adminPort + "/actions/refresh-tokens", Map.of("csrf", "x"))
                .statusCode()).isEqualTo(421);
        assertThat(get(rebound, "http://evil.example:" + adminPort + "/oauth/callback?state=x&code=y").statusCode())
                .isEqualTo(421);
        assertThat(get(rebound, "http://localhost:" + (adminPort + 1) + "/").statusCode()).as("another port")
                .isEqualTo(421);
        // query parameters become Camel headers: they must not stand in for the real Host
        assertThat(get(rebound, "http://evil.example:" + adminPort + "/?Host=localhost:" + adminPort).statusCode())
                .isEqualTo(421);

        // the public base URL's host (a reverse proxy passing it on) and loopback names are ours
        HttpResponse<String> proxied = get(rebound, "http://intake.example.test/");
        assertThat(proxied.statusCode()).isEqualTo(200);
        assertThat(proxied.headers().firstValue("Set-Cookie").orElseThrow())
                .startsWith("__Host-mailintake_csrf=").contains("Secure").contains("HttpOnly").contains("SameSite=Strict")
                .contains("Path=/");
        assertThat(get(rebound, "http://localhost:" + adminPort + "/").statusCode()).isEqualTo(200);

        // a token per browser, in a SameSite=Strict HttpOnly cookie (no __Host- prefix over http)
        HttpClient alice = browser();
        HttpClient mallory = browser();
        HttpResponse<String> alicePage = get(alice, base() + "/");
        assertAdminHeaders(alicePage);
        assertThat(alicePage.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("mailintake_csrf=")
                .contains("HttpOnly").contains("SameSite=Strict").contains("Path=/").doesNotContain("Secure");
        String aliceToken = csrf(alicePage);
        String malloryToken = csrf(get(mallory, base() + "/"));
        assertThat(malloryToken).isNotEqualTo(aliceToken);
        assertThat(csrf(get(alice, base() + "/"))).as("the same browser keeps its token").isEqualTo(aliceToken);

        // another browser's token, a foreign Origin or Referer: refused, nothing runs
        HttpResponse<String> stolen = post(mallory, base() + "/actions/refresh-tokens", Map.of("csrf", aliceToken));
        assertThat(stolen.statusCode()).isEqualTo(403);
        assertAdminHeaders(stolen);
        HttpResponse<String> foreign = post(alice, base() + "/actions/refresh-tokens", Map.of("csrf", aliceToken),
                "Origin", "http://evil.example:" + adminPort);
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(foreign.body()).contains("another site");
        assertThat(post(alice, base() + "/actions/refresh-tokens", Map.of("csrf", aliceToken), "Origin", "null")
                .statusCode()).isEqualTo(403);
        assertThat(post(alice, base() + "/actions/refresh-tokens", Map.of("csrf", aliceToken),
                "Referer", "http://evil.example:" + adminPort + "/page").statusCode()).isEqualTo(403);
        assertThat(post(alice, base() + "/oauth/start/contoso", Map.of("csrf", aliceToken),
                "Origin", "http://evil.example:" + adminPort).statusCode()).isEqualTo(403);
        assertThat(post(alice, base() + "/actions/test-connection", Map.of("csrf", aliceToken, "name", "contoso"),
                "Origin", "http://evil.example:" + adminPort).statusCode()).isEqualTo(403);
        assertThat(pendingStates()).isZero();
        assertThat(get(alice, base() + "/").body()).contains("No token refresh has run since the start");

        // our own pages: their origin (loopback or the public base URL) is fine
        HttpResponse<String> ok = post(alice, base() + "/actions/refresh-tokens", Map.of("csrf", aliceToken),
                "Origin", "http://localhost:" + adminPort);
        assertThat(ok.statusCode()).isEqualTo(303);
        assertAdminHeaders(ok);
        HttpResponse<String> started = post(alice, base() + "/oauth/start/contoso", Map.of("csrf", aliceToken),
                "Origin", "http://127.0.0.1:" + adminPort, "Referer", "http://127.0.0.1:" + adminPort + "/");
        assertThat(started.statusCode()).isEqualTo(303);
        assertAdminHeaders(started);
        assertThat(started.headers().firstValue("Content-Security-Policy").orElseThrow())
                .doesNotContain(fake.authorityHost());
        assertThat(alicePage.headers().firstValue("Content-Security-Policy").orElseThrow())
                .as("the page's Authorize form is sent on to the provider").contains(URI.create(fake.authorityHost())
                        .getScheme() + "://" + URI.create(fake.authorityHost()).getAuthority());
        String proxyToken = csrf(proxied);
        HttpResponse<String> viaProxy = rebound.send(HttpRequest.newBuilder(URI.create("http://intake.example.test/actions/refresh-tokens"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Origin", "https://intake.example.test")
                .header("Cookie", "__Host-mailintake_csrf=" + proxyToken)
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + proxyToken)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(viaProxy.statusCode()).isEqualTo(303);

        // the provider's form_post is cross-site and carries no cookie: the callback only checks Host and the state
        HttpResponse<String> callback = post(TestApp.http(), base() + "/oauth/callback",
                Map.of("state", "forged", "code", "c"), "Origin", "https://login.example.test");
        assertThat(callback.statusCode()).isEqualTo(400);
        assertThat(callback.body()).contains("unknown state");
        assertAdminHeaders(callback);
    }

    // ------------------------------------------------------------------ 2. log injection

    @Test
    void requestValuesAreLoggedEscaped() throws Exception {
        app = TestApp.start(settings());
        String state = stateOf(signIn.authorizeUrl("contoso"));
        try (LogCapture log = LogCapture.of("dev.mailintake", Level.DEBUG)) {
            HttpResponse<String> answer = get(TestApp.http(), base() + "/oauth/callback?state="
                    + URLEncoder.encode(state, StandardCharsets.UTF_8)
                    + "&error=access_denied%0d%0aFORGED%20ERROR%20admin%20password%20leaked"
                    + "&error_description=x%E2%80%A8FORGED%20too%0bFORGED" + "y".repeat(500));
            assertThat(answer.statusCode()).isEqualTo(400);
            post(signIn.browser(), base() + "/oauth/start/%0d%0aFORGED", Map.of("csrf", signIn.csrfToken()));
            post(TestApp.http(), base() + "/oauth/callback", Map.of("state", "s\r\nFORGED state"));

            List<String> lines = new ArrayList<>();
            log.lines().forEach(l -> lines.addAll(List.of(l.split("\r\n|\r|\n|\u2028|\u2029|\u000b"))));
            assertThat(lines).noneMatch(l -> l.startsWith("FORGED"));
            assertThat(log.lines()).anyMatch(l -> l.contains("access_denied\\r\\nFORGED ERROR"))
                    .anyMatch(l -> l.contains("x\\u2028FORGED too\\u000bFORGEDyyy") && l.contains("more characters)")
                            && l.length() < 600);
        }
    }

    // ------------------------------------------------------------------ 3. bounded pending sign-ins

    @Test
    void signInsStartWithAPostAndOnlyTheNewestPendingOnesAreKept() throws Exception {
        app = TestApp.start(settings());
        HttpClient browser = signIn.browser();
        // a GET (an old link, a cross-site image) writes nothing: it shows the button
        HttpResponse<String> page = get(browser, base() + "/oauth/start/contoso");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<button type=\"submit\">Authorize</button>").contains("method=\"post\"");
        assertAdminHeaders(page);
        assertThat(pendingStates()).isZero();

        String token = signIn.csrfToken();
        List<String> locations = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> start = post(browser, base() + "/oauth/start/contoso", Map.of("csrf", token));
            assertThat(start.statusCode()).isEqualTo(303);
            locations.add(start.headers().firstValue("Location").orElseThrow());
        }
        assertThat(pendingStates()).isEqualTo(20);

        HttpResponse<String> dropped = signIn.post(base() + "/oauth/callback",
                Map.of("state", stateOf(locations.get(0)), "code", "whatever"));
        assertThat(dropped.statusCode()).isEqualTo(400);
        assertThat(dropped.body()).contains("unknown state");

        Map.Entry<String, Map<String, String>> form = signIn.formPost(locations.get(locations.size() - 1));
        HttpResponse<String> newest = signIn.post(form.getKey(), form.getValue());
        assertThat(newest.statusCode()).as(newest.body()).isEqualTo(200);
        assertThat(newest.body()).contains("authorized as " + ADMIN);
    }

    // ------------------------------------------------------------------ 4. one refresh round, not in the HTTP worker

    @Test
    void refreshPressesDuringARoundJoinItAndThePageAnswersAtOnce() throws Exception {
        app = TestApp.start(settings());
        assertThat(signIn.signIn("contoso").statusCode()).isEqualTo(200);
        HttpClient browser = signIn.browser();
        String token = signIn.csrfToken();
        int before = fake.refreshRedemptions();
        long requestsBefore = refreshRequests();
        fake.fault(Fault.delay(Duration.ofSeconds(4)).forGrantType("refresh_token"));

        List<CompletableFuture<HttpResponse<String>>> presses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            presses.add(browser.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/actions/refresh-tokens"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("csrf=" + token)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> press : presses) {
            assertThat(press.get().statusCode()).isEqualTo(303);
        }
        // JMX / direct:refresh-tokens during the round joins it too (and waits for it)
        CompletableFuture<Void> onDemand = CompletableFuture.runAsync(() ->
                app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null));

        long t0 = System.nanoTime();
        HttpResponse<String> during = get(browser, base() + "/");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(during.body()).contains("Token refresh running since").contains("(started by status page)");

        onDemand.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> get(browser, base() + "/").body()
                .contains("Last token refresh (started by status page) finished at"));
        assertThat(get(browser, base() + "/").body()).contains("contoso: refreshed; access token valid until");
        assertThat(fake.refreshRedemptions()).isEqualTo(before + 1);
        assertThat(refreshRequests()).isEqualTo(requestsBefore + 1);
    }

    private long refreshRequests() {
        return fake.tokenRequests().stream().filter(r -> String.valueOf(r).contains("refresh_token")).count();
    }

    // ------------------------------------------------------------------ 5. no stack trace to the browser

    @Test
    void aFailureAnswersAShortPageAndIsLoggedOnce() throws Exception {
        app = TestApp.start(settings());
        String state = stateOf(signIn.authorizeUrl("contoso"));
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
            c.createStatement().execute("DROP TABLE mi_oauth_states");
        }
        try (LogCapture log = LogCapture.of("dev.mailintake.web", Level.INFO)) {
            HttpResponse<String> start = post(signIn.browser(), base() + "/oauth/start/contoso",
                    Map.of("csrf", signIn.csrfToken()));
            HttpResponse<String> callback = signIn.post(base() + "/oauth/callback", Map.of("state", state, "code", "c"));
            for (HttpResponse<String> answer : List.of(start, callback)) {
                assertThat(answer.statusCode()).isEqualTo(500);
                assertThat(answer.body()).contains("Something went wrong").doesNotContain("Exception")
                        .doesNotContain("at dev.").doesNotContain("MI_OAUTH_STATES").doesNotContain("\tat ");
                assertAdminHeaders(answer);
            }
            assertThat(log.count("admin request POST /oauth/start/contoso failed: dev.mailintake.store.StoreException"))
                    .isEqualTo(1);
            assertThat(log.count("admin request POST /oauth/callback failed")).isEqualTo(1);
        }
    }
}

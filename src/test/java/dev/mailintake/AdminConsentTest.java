package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.CookieManager;
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
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admin consent through the application's own admin routes and the fake's Entra endpoints: a tenant whose users may
 * not consent refuses a user's sign-in (AADSTS90094) and the application says to "Ask an administrator"; the status
 * page's button sends an administrator to the v2.0 admin consent endpoint with the connection's scopes and the app's
 * redirect URI; the answer comes back to /oauth/callback and is told from a sign-in by its state's purpose. Then the
 * user signs in without consenting and the mailbox imports. Also: a declined consent, forged and replayed states,
 * the start's CSRF and Origin checks, and a consent withdrawn later (AADSTS65001 at refresh).
 */
class AdminConsentTest {
    private static final String ADMIN = "admin@contoso.test";
    private static final String USER = "una@contoso.test";
    private static final String SHARED = "scans@contoso.test";
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private static final String SCOPES = "https://graph.microsoft.com/Mail.ReadWrite"
            + " https://graph.microsoft.com/Mail.ReadWrite.Shared https://graph.microsoft.com/User.Read offline_access";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox shared;
    private TestApp app;
    private int adminPort;
    private BrowserSignIn signIn;
    private final HttpClient anyone = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, USER, "Una User");
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.makeTenantAdmin(TestApp.TENANT, ADMIN);
        fake.mailbox(USER);
        shared = fake.mailbox(SHARED);
        fake.grantMailboxAccess(USER, SHARED);
        try (ServerSocket socket = new ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, redirectUri());
        signIn = new BrowserSignIn(fake, adminPort);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private String redirectUri() {
        return "http://localhost:" + adminPort + "/oauth/callback";
    }

    private String base() {
        return "http://127.0.0.1:" + adminPort;
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

    private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(HttpClient client, String url, Map<String, String> fields,
                                             String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(fields.entrySet().stream()
                        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                        .collect(Collectors.joining("&"))));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, String> query(String url) {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : URI.create(url).getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return params;
    }

    private String sql(String query) throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery(query)) {
            return rs.next() ? rs.getString(1) : "";
        }
    }

    private String grantState() throws Exception {
        return sql("SELECT state FROM mi_grants WHERE connection = 'contoso'");
    }

    private int pendingStates(String purpose) throws Exception {
        return Integer.parseInt(sql("SELECT COUNT(*) FROM mi_oauth_states WHERE connection = 'contoso' AND purpose = '"
                + purpose + "'"));
    }

    /** The page's admin consent URL (without a state), as the application shows it to send to an administrator. */
    private String shareableUrl() {
        return fake.adminConsentEndpoint(TestApp.TENANT) + "?client_id=" + TestApp.CLIENT_ID + "&scope="
                + "https%3A%2F%2Fgraph.microsoft.com%2FMail.ReadWrite%20https%3A%2F%2Fgraph.microsoft.com%2F"
                + "Mail.ReadWrite.Shared%20https%3A%2F%2Fgraph.microsoft.com%2FUser.Read%20openid%20profile%20"
                + "offline_access&redirect_uri=" + URLEncoder.encode(redirectUri(), StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ 1. the round trip

    @Test
    void aTenantWithoutUserConsentIsAskedForAnAdministratorsConsentAndThenTheUserSignsIn() throws Exception {
        fake.disableUserConsent(TestApp.TENANT);
        shared.addMessage("inbox", Mimes.pdfMessage("<c1@example.com>", "c1", 200), T0);
        app = TestApp.start(settings());

        // the user signs in: Entra refuses (only an administrator may consent); page, log and status page say what to do
        fake.signInAs(TestApp.TENANT, USER);
        HttpResponse<String> refused;
        try (LogCapture log = LogCapture.of("dev.mailintake", Level.INFO)) {
            refused = signIn.signIn("contoso");
            assertThat(log.lines()).anyMatch(l -> l.contains("connection 'contoso': sign-in refused")
                    && l.contains("AADSTS90094") && l.contains("an administrator of the tenant must consent first:"
                    + " use 'Ask an administrator' on the status page (or send them " + shareableUrl() + ")"));
        }
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("access_denied: AADSTS90094")
                .contains("an administrator of the tenant must consent first: use &#39;Ask an administrator&#39; on the"
                        + " status page (or send them " + shareableUrl().replace("&", "&amp;") + ")");
        assertThat(grantState()).isEmpty();
        String page = get(signIn.browser(), base() + "/").body();
        assertThat(page).contains("never authorized</span>: (access_denied AADSTS90094): an administrator of the"
                + " tenant must consent first: use &#39;Ask an administrator&#39; on the status page")
                .contains("action=\"oauth/adminconsent/contoso\"").contains(">Ask an administrator</button>");

        // the administrator presses "Ask an administrator": a POST with the page's token, 303 to Entra
        fake.signInAs(TestApp.TENANT, ADMIN);
        String consentUrl = signIn.adminConsentUrl("contoso");
        assertThat(consentUrl).startsWith(fake.adminConsentEndpoint(TestApp.TENANT) + "?");
        Map<String, String> asked = query(consentUrl);
        assertThat(asked).containsEntry("client_id", TestApp.CLIENT_ID).containsEntry("redirect_uri", redirectUri())
                .containsEntry("scope", "https://graph.microsoft.com/Mail.ReadWrite"
                        + " https://graph.microsoft.com/Mail.ReadWrite.Shared https://graph.microsoft.com/User.Read"
                        + " openid profile offline_access").containsKey("state");
        assertThat(pendingStates("admin-consent")).isEqualTo(1);

        // Entra redirects to the same callback with admin_consent=True: the state's purpose says what it answers
        HttpResponse<String> provider = get(signIn.toProvider(), consentUrl);
        assertThat(provider.statusCode()).isEqualTo(302);
        String callback = provider.headers().firstValue("Location").orElseThrow()
                .replace("http://localhost:", "http://127.0.0.1:");
        assertThat(callback).startsWith(base() + "/oauth/callback?admin_consent=True&tenant=");
        HttpResponse<String> granted = get(signIn.browser(), callback);
        assertThat(granted.statusCode()).as(granted.body()).isEqualTo(200);
        assertThat(granted.body()).contains("Consent granted").contains("An administrator of tenant "
                + fake.tenantId(TestApp.TENANT) + " consented, for every user of the tenant");
        assertThat(fake.adminConsentedScopes(TestApp.TENANT, TestApp.CLIENT_ID)).contains(
                "https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/Mail.ReadWrite.Shared",
                "https://graph.microsoft.com/User.Read");
        assertThat(grantState()).as("nothing is stored: the consent lives at Microsoft").isEmpty();
        assertThat(get(signIn.browser(), base() + "/").body()).contains("never authorized</span></td>")
                .doesNotContain("AADSTS90094");
        // the same answer again: refused
        HttpResponse<String> replay = get(signIn.browser(), callback);
        assertThat(replay.statusCode()).isEqualTo(400);
        assertThat(replay.body()).contains("already used");

        // now the user signs in without being asked, and the shared mailbox imports
        fake.signInAs(TestApp.TENANT, USER);
        HttpResponse<String> done = signIn.signIn("contoso");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("authorized as " + USER);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);
        assertThat(grantState()).isEqualTo("AUTHORIZED");
    }

    // ------------------------------------------------------------------ 2. declined, forged, replayed

    @Test
    void aDeclinedConsentShowsTheProvidersErrorEscapedAndForgedStatesAreRefused() throws Exception {
        fake.disableUserConsent(TestApp.TENANT);
        fake.signInAs(TestApp.TENANT, ADMIN);
        app = TestApp.start(settings());

        fake.failNextAdminConsent("consent_required", "<script>alert('x')</script> AADSTS65004: The resource owner or"
                + " authorization server denied the request.");
        HttpResponse<String> declined;
        try (LogCapture log = LogCapture.of("dev.mailintake", Level.INFO)) {
            declined = signIn.adminConsent("contoso");
            assertThat(log.lines()).anyMatch(l -> l.contains("connection 'contoso': the administrator's consent was"
                    + " not given: consent_required: <script>"));
        }
        assertThat(declined.statusCode()).isEqualTo(400);
        assertThat(declined.body()).contains("Consent not granted").contains("consent_required")
                .contains("&lt;script&gt;").doesNotContain("<script>").doesNotContain("Consent granted");
        assertThat(declined.headers().firstValue("Content-Security-Policy").orElseThrow())
                .startsWith("default-src 'none'");
        assertThat(fake.adminConsentedScopes(TestApp.TENANT, TestApp.CLIENT_ID)).isEmpty();
        assertThat(grantState()).isEmpty();

        // a forged or missing state: refused, whatever the answer claims
        HttpResponse<String> forged = get(anyone, base() + "/oauth/callback?admin_consent=True&tenant=evil"
                + "&scope=openid&state=forged-by-someone");
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(forged.body()).contains("unknown state").contains("Microsoft has recorded their answer")
                .doesNotContain("Consent granted");
        HttpResponse<String> stateless = get(anyone, base() + "/oauth/callback?admin_consent=True&tenant=evil");
        assertThat(stateless.statusCode()).isEqualTo(400);
        assertThat(stateless.body()).contains("no valid state");

        // a sign-in's state is no admin consent's: the answer is taken as the sign-in's (no code: refused)
        String signInState = query(signIn.authorizeUrl("contoso")).get("state");
        HttpResponse<String> mixed = get(anyone, base() + "/oauth/callback?admin_consent=True&tenant=x&state="
                + URLEncoder.encode(signInState, StandardCharsets.UTF_8));
        assertThat(mixed.statusCode()).isEqualTo(400);
        assertThat(mixed.body()).contains("Not authorized").doesNotContain("Consent granted");

        // the administrator tries again and consents; that answer cannot be replayed
        String consentUrl = signIn.adminConsentUrl("contoso");
        String callback = get(signIn.toProvider(), consentUrl).headers().firstValue("Location").orElseThrow()
                .replace("http://localhost:", "http://127.0.0.1:");
        assertThat(get(signIn.browser(), callback).statusCode()).isEqualTo(200);
        HttpResponse<String> replay = get(anyone, callback);
        assertThat(replay.statusCode()).isEqualTo(400);
        assertThat(replay.body()).contains("already used");
        // a user who is no administrator cannot consent for the tenant: Entra's error, shown escaped
        fake.signInAs(TestApp.TENANT, USER);
        HttpResponse<String> notAdmin = signIn.adminConsent("contoso");
        assertThat(notAdmin.statusCode()).isEqualTo(400);
        assertThat(notAdmin.body()).contains("access_denied: AADSTS90093");
    }

    // ------------------------------------------------------------------ 3. the start is a state-changing admin action

    @Test
    void theConsentStartNeedsThePagesCsrfTokenAndOurOrigin() throws Exception {
        app = TestApp.start(settings());
        HttpClient browser = signIn.browser();

        // a GET (a link) writes nothing: it shows the button and the address to send to an administrator
        HttpResponse<String> page = get(browser, base() + "/oauth/adminconsent/contoso");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<button type=\"submit\">Ask an administrator</button>")
                .contains("method=\"post\"").contains(shareableUrl().replace("&", "&amp;"));
        assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");

        String token = signIn.csrfToken();
        assertThat(post(browser, base() + "/oauth/adminconsent/contoso", Map.of()).statusCode()).isEqualTo(403);
        assertThat(post(browser, base() + "/oauth/adminconsent/contoso", Map.of("csrf", "guess")).statusCode())
                .isEqualTo(403);
        HttpClient mallory = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        assertThat(post(mallory, base() + "/oauth/adminconsent/contoso", Map.of("csrf", token)).statusCode())
                .as("another browser's token").isEqualTo(403);
        HttpResponse<String> foreign = post(browser, base() + "/oauth/adminconsent/contoso", Map.of("csrf", token),
                "Origin", "http://evil.example:" + adminPort);
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(foreign.body()).contains("another site");
        assertThat(post(browser, base() + "/oauth/adminconsent/contoso", Map.of("csrf", token),
                "Referer", "http://evil.example:" + adminPort + "/page").statusCode()).isEqualTo(403);
        assertThat(pendingStates("admin-consent")).isZero();
        assertThat(post(browser, base() + "/oauth/adminconsent/nobody", Map.of("csrf", token)).statusCode())
                .isEqualTo(404);

        HttpResponse<String> ok = post(browser, base() + "/oauth/adminconsent/contoso", Map.of("csrf", token),
                "Origin", "http://127.0.0.1:" + adminPort);
        assertThat(ok.statusCode()).isEqualTo(303);
        assertThat(ok.headers().firstValue("Location").orElseThrow())
                .startsWith(fake.adminConsentEndpoint(TestApp.TENANT) + "?client_id=");
        assertThat(pendingStates("admin-consent")).isEqualTo(1);
        assertThat(pendingStates("sign-in")).isZero();
    }

    // ------------------------------------------------------------------ 4. consent withdrawn later

    @Test
    void aConsentWithdrawnLaterIsFoundByTheRefreshAndPointsToTheAdministrator() throws Exception {
        fake.signInAs(TestApp.TENANT, USER);     // the tenant lets users consent
        app = TestApp.start(settings());
        assertThat(signIn.signIn("contoso").statusCode()).isEqualTo(200);

        fake.revokeConsents(TestApp.TENANT, TestApp.CLIENT_ID);
        try (LogCapture log = LogCapture.of("dev.mailintake", Level.INFO)) {
            app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
            assertThat(log.lines()).anyMatch(l -> l.contains("AADSTS65001") && l.contains("use 'Ask an"
                    + " administrator' on the status page (or send them " + shareableUrl() + ")"));
        }
        assertThat(grantState()).isEqualTo("REAUTHORIZATION_REQUIRED");
        assertThat(get(signIn.browser(), base() + "/").body()).contains("re-authorization required</span>:"
                + " (invalid_grant AADSTS65001): the app&#39;s permissions are not consented; sign in again and consent,"
                + " or, where users may not consent, an administrator of the tenant must consent first: use &#39;Ask"
                + " an administrator&#39; on the status page");
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.URI;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delegated sign-in through the application's own admin routes, without a browser: /oauth/start → the fake
 * Entra authorize endpoint → its form_post to /oauth/callback → grant stored encrypted → the shared mailbox is
 * imported with the signed-in user's token. Then refresh rotation, revocation, forged/replayed states, escaped
 * provider errors and configuration changes.
 */
class DelegatedAuthTest {
    private static final String ADMIN = "admin@contoso.test";
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
    private final HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private HttpClient toProvider;
    private BrowserSignIn signIn;

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.mailbox(ADMIN);
        shared = fake.mailbox(SHARED);
        fake.grantMailboxAccess(ADMIN, SHARED);
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        signIn = new BrowserSignIn(fake, adminPort);
        toProvider = signIn.toProvider();
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings(String scopes) {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", scopes);
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put("mailintake.refresh.retry-delay", "200ms");
        s.put("mailintake.mailboxes.scans.connection", "contoso");
        s.put("mailintake.mailboxes.scans.address", SHARED);
        s.put("mailintake.mailboxes.scans.poll", "1s");
        s.put("mailintake.mailboxes.scans.create-folders", "true");
        s.put("mailintake.mailboxes.scans.target", "folder:" + tmp.resolve("out"));
        return s;
    }

    private HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Follows /oauth/start to the provider and returns the provider's auto-submitting form (action, fields). */
    private Map.Entry<String, Map<String, String>> startSignIn() throws Exception {
        String location = signIn.authorizeUrl("contoso");
        assertThat(location).startsWith(fake.authorizeEndpoint(TestApp.TENANT)).contains("code_challenge_method=S256")
                .contains("response_mode=form_post").contains("state=");
        return signIn.formPost(location);
    }

    private HttpResponse<String> post(String action, Map<String, String> fields) throws Exception {
        return signIn.post(action, fields);
    }

    private String rawGrantColumn() throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT cache, state FROM mi_grants WHERE connection = 'contoso'")) {
            return rs.next() ? rs.getString(1) + "|" + rs.getString(2) : "";
        }
    }

    @Test
    void signInStoresAnEncryptedGrantAndImportsTheSharedMailboxWithIt() throws Exception {
        shared.addMessage("inbox", Mimes.pdfMessage("<d1@example.com>", "d1", 200), T0);
        app = TestApp.start(settings(SCOPES));
        await().atMost(Duration.ofSeconds(10)).until(() -> get(browser, app.healthUrl()).body().contains("not authorized yet"));

        Map.Entry<String, Map<String, String>> form = startSignIn();
        HttpResponse<String> done = post(form.getKey(), form.getValue());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("authorized as " + ADMIN);
        assertThat(done.headers().firstValue("code")).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> get(browser, app.healthUrl() + "?data=true").body()
                .contains("connection-contoso"));
        String health = get(browser, app.healthUrl() + "?data=true").body();
        assertThat(health).contains("authorized.as").doesNotContain("fake-at-").doesNotContain("fake-rt-");
        assertThat(get(browser, app.healthUrl().replace("/observe/health", "/observe/metrics")).body())
                .contains("mailintake_connection_authorized{connection=\"contoso\"} 1.0");

        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);
        String refreshToken = fake.lastRefreshTokenIssued(ADMIN).orElseThrow();
        String raw = rawGrantColumn();
        assertThat(raw).endsWith("|AUTHORIZED").startsWith("v1:").doesNotContain(refreshToken).doesNotContain("fake-at-");

        // the same answer again: refused, nothing changes
        HttpResponse<String> replay = post(form.getKey(), form.getValue());
        assertThat(replay.statusCode()).isEqualTo(400);
        assertThat(replay.body()).contains("already used");
        Map<String, String> forged = new LinkedHashMap<>(form.getValue());
        forged.put("state", "forged-by-someone");
        assertThat(post(form.getKey(), forged).body()).contains("unknown state");
    }

    @Test
    void refreshRotationIsSavedAndARevokedGrantPausesOnlyItsMailboxes() throws Exception {
        fake.revokeOldRefreshTokensOnRotation(true);
        FakeMailbox orders = fake.mailbox("orders@contoso.test");
        Map<String, String> s = settings(SCOPES);
        s.putAll(TestApp.connection("apponly", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.mailboxes.orders.connection", "apponly");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.poll", "1s");
        s.put("mailintake.mailboxes.orders.create-folders", "true");
        s.put("mailintake.mailboxes.orders.target", "folder:" + tmp.resolve("orders"));
        app = TestApp.start(s);
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);

        int before = fake.refreshRedemptions();
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        // on demand through JMX, as an operator would: the context MBean's sendBody operation
        javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName context = jmx.queryNames(new javax.management.ObjectName(
                "org.apache.camel:type=context,*"), null).stream()
                .filter(n -> n.getKeyProperty("context").equals(app.camel().getManagementName())).findFirst().orElseThrow();
        jmx.invoke(context, "sendBody", new Object[] {"direct:refresh-tokens", null},
                new String[] {String.class.getName(), Object.class.getName()});
        // the second refresh only works if the first one's rotated refresh token was saved
        assertThat(fake.refreshRedemptions()).isEqualTo(before + 2);
        assertThat(rawGrantColumn()).endsWith("|AUTHORIZED");

        fake.revokeGrants(TestApp.TENANT, ADMIN, 50173);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(rawGrantColumn()).endsWith("|REAUTHORIZATION_REQUIRED");
        fake.expireAllTokens();
        shared.addMessage("inbox", Mimes.pdfMessage("<p1@example.com>", "p1", 200), T0);
        orders.addMessage("inbox", Mimes.pdfMessage("<o1@example.com>", "o1", 200), T0);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() ->
                orders.messagesIn("Inbox/Processed").size() == 1
                        && get(browser, app.healthUrl()).body().contains("AADSTS50173"));
        assertThat(shared.messagesIn("inbox")).hasSize(1);

        // signing in again resumes the paused mailbox by itself
        Map.Entry<String, Map<String, String>> again = startSignIn();
        assertThat(post(again.getKey(), again.getValue()).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);
    }

    @Test
    void providerErrorsAreShownEscapedAndStoreNothing() throws Exception {
        app = TestApp.start(settings(SCOPES));
        fake.failNextAuthorize("access_denied", "<script>alert('x')</script> AADSTS65004: User declined to consent");
        Map.Entry<String, Map<String, String>> form = startSignIn();
        HttpResponse<String> answer = post(form.getKey(), form.getValue());
        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(answer.body()).contains("access_denied").contains("&lt;script&gt;").doesNotContain("<script>");
        assertThat(answer.headers().firstValue("Content-Security-Policy").orElseThrow()).startsWith("default-src 'none'");
        assertThat(rawGrantColumn()).isEmpty();
    }

    @Test
    void aConfigurationChangeRequiresANewSignIn() throws Exception {
        shared.addMessage("inbox", Mimes.pdfMessage("<c1@example.com>", "c1", 200), T0);
        app = TestApp.start(settings(SCOPES));
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);
        app.close();

        app = TestApp.start(settings(SCOPES.replace(" https://graph.microsoft.com/User.Read", "")));
        await().atMost(Duration.ofSeconds(20)).until(() -> get(browser, app.healthUrl()).body()
                .contains("re-authorization required"));
        assertThat(rawGrantColumn()).endsWith("|REAUTHORIZATION_REQUIRED");
    }

    @Test
    void statusPageShowsStatesAndRefreshesOnAPostWithItsCsrfToken() throws Exception {
        app = TestApp.start(settings(SCOPES));
        String base = "http://127.0.0.1:" + adminPort;
        await().atMost(Duration.ofSeconds(10)).until(() -> get(browser, base + "/").body().contains("paused"));
        String before = get(browser, base + "/").body();
        assertThat(before).contains("never authorized").contains("action=\"oauth/start/contoso\"").contains("scans@contoso.test");

        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> get(browser, base + "/").body().contains("authorized as " + ADMIN));

        HttpResponse<String> forged = post(base + "/actions/refresh-tokens", Map.of("csrf", "guess"));
        assertThat(forged.statusCode()).isEqualTo(403);
        Matcher csrf = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(get(signIn.browser(), base + "/").body());
        assertThat(csrf.find()).isTrue();
        int redemptions = fake.refreshRedemptions();
        HttpResponse<String> refreshed = post(base + "/actions/refresh-tokens", Map.of("csrf", csrf.group(1)));
        assertThat(refreshed.statusCode()).isEqualTo(303);
        assertThat(URI.create(base + "/actions/refresh-tokens").resolve(refreshed.headers().firstValue("Location")
                .orElseThrow()).toString()).isEqualTo(base + "/?refresh=requested");
        // the round runs in the background; the page shows its result
        await().atMost(Duration.ofSeconds(10)).until(() -> get(browser, base + "/").body()
                .contains("Last token refresh (started by status page) finished at"));
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 1);

        String page = get(browser, base + "/?refresh=requested").body();
        assertThat(page).contains("Token refresh requested").contains("contoso: refreshed; access token valid until").doesNotContain("fake-at-").doesNotContain("fake-rt-")
                .doesNotContain(TestSecrets.CLIENT_SECRET);
    }

    @Test
    void beyondLocalhostTheAdminPagesNeedThePassword() throws Exception {
        Map<String, String> s = settings(SCOPES);
        s.put("mailintake.admin.host", "0.0.0.0");
        s.put("mailintake.admin.password", "correct horse battery staple");
        app = TestApp.start(s);
        String base = "http://127.0.0.1:" + adminPort;
        assertThat(get(browser, base + "/").statusCode()).isEqualTo(401);
        assertThat(get(browser, base + "/oauth/start/contoso").statusCode()).isEqualTo(401);
        String basic = java.util.Base64.getEncoder().encodeToString("admin:correct horse battery staple".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> ok = browser.send(HttpRequest.newBuilder(URI.create(base + "/"))
                .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("Mail Intake").doesNotContain("correct horse");
    }

    @Test
    void tokenEndpointTroubleIsRetriedAndAnExpiredSecretIsTheAdminsToFix() throws Exception {
        app = TestApp.start(settings(SCOPES));
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);

        // 503 twice (msal4j retries one itself), then it works: refreshed, no state change
        int before = fake.refreshRedemptions();
        fake.fault(dev.mailintake.testsupport.Fault.tokenUnavailable().forGrantType("refresh_token").times(3));
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(fake.refreshRedemptions()).isEqualTo(before + 1);
        assertThat(rawGrantColumn()).endsWith("|AUTHORIZED");

        fake.expireClientSecret(TestApp.TENANT, TestApp.CLIENT_ID);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        String log = java.nio.file.Files.readString(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"),
                "test-run.log"));
        assertThat(log).contains("connection 'contoso': the client secret has expired (invalid_client AADSTS7000222)");
        // not the grant's fault: a new secret (configuration) makes it work again without a new sign-in
        assertThat(rawGrantColumn()).endsWith("|AUTHORIZED");
    }

    @Test
    void anExpiredSecretFoundByARefreshShowsAtOnceInHealthAndMetrics() throws Exception {
        app = TestApp.start(settings(SCOPES));
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(app.healthCheck("connection-contoso").path("status").asText()).isEqualTo("UP");

        fake.expireClientSecret(TestApp.TENANT, TestApp.CLIENT_ID);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        // not when a mailbox next needs a token (up to an hour later): now
        com.fasterxml.jackson.databind.JsonNode check = app.healthCheck("connection-contoso");
        assertThat(check.path("status").asText()).isEqualTo("DOWN");
        assertThat(check.path("message").asText()).contains("the client secret has expired")
                .contains("create a new secret");
        assertThat(get(browser, app.healthUrl().replace("/observe/health", "/observe/metrics")).body())
                .contains("mailintake_connection_authorized{connection=\"contoso\"} 0.0")
                .contains("mailintake_connection_problem{connection=\"contoso\"} 1.0");
        assertThat(get(browser, "http://localhost:" + adminPort + "/").body())
                .contains("admin must fix the app</span>: the client secret has expired");

        // the administrator puts a new secret in place: the next refresh clears the state
        fake.registerClient(TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(app.healthCheck("connection-contoso").path("status").asText()).isEqualTo("UP");
    }

    @Test
    void aGrantFoundRevokedPausesItsMailboxesAtOnceAlthoughTheirAccessTokenIsStillValid() throws Exception {
        app = TestApp.start(settings(SCOPES));
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);
        shared.addMessage("inbox", Mimes.pdfMessage("<r1@example.com>", "r1", 200), T0);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);

        // the user's sessions are revoked; Graph would still take the access token issued before (as Entra's do)
        fake.revokeGrants(TestApp.TENANT, ADMIN, 50173);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        shared.addMessage("inbox", Mimes.pdfMessage("<r2@example.com>", "r2", 200), T0.plusSeconds(1));
        dev.mailintake.intake.MailboxStatus status = app.camel().getRegistry()
                .lookupByNameAndType("mailboxes", dev.mailintake.intake.Mailboxes.class).get("scans").status();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> status.state() == dev.mailintake.intake.MailboxStatus.State.PAUSED);
        assertThat(status.reason().orElseThrow()).contains("AADSTS50173")
                .startsWith("mailbox 'scans': connection 'contoso': ").doesNotContain("': connection 'contoso': connection");
        assertThat(shared.messagesIn("inbox")).as("nothing imported with the revoked grant's access token").hasSize(1);
    }

    @Test
    void aGenericOAuth2ProviderSignsInWithPkceAndKeepsItsRotatedRefreshToken() throws Exception {
        fake.revokeOldRefreshTokensOnRotation(true);
        shared.addMessage("inbox", Mimes.pdfMessage("<g1@example.com>", "g1", 200), T0);
        Map<String, String> s = settings(SCOPES + " openid");
        s.put("mailintake.connections.contoso.provider", "generic");
        s.put("mailintake.connections.contoso.authorize-url", fake.authorizeEndpoint(TestApp.TENANT));
        s.put("mailintake.connections.contoso.token-url", fake.tokenEndpoint(TestApp.TENANT));
        app = TestApp.start(s);

        String location = signIn.authorizeUrl("contoso");
        assertThat(location).startsWith(fake.authorizeEndpoint(TestApp.TENANT)).contains("code_challenge_method=S256")
                .doesNotContain("response_mode");
        HttpResponse<String> provider = get(toProvider, location);
        assertThat(provider.statusCode()).isEqualTo(302);
        String callback = provider.headers().firstValue("Location").orElseThrow().replace("http://localhost:", "http://127.0.0.1:");
        HttpResponse<String> done = get(browser, callback);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("authorized as " + ADMIN);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);

        int before = fake.refreshRedemptions();
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(fake.refreshRedemptions()).isEqualTo(before + 2);
        assertThat(rawGrantColumn()).endsWith("|AUTHORIZED").doesNotContain(fake.lastRefreshTokenIssued(ADMIN).orElseThrow());

        fake.revokeGrants(TestApp.TENANT, ADMIN, 700082);
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(rawGrantColumn()).endsWith("|REAUTHORIZATION_REQUIRED");
    }

    /** Issue 8, 0b: a provider's standard error answer without Entra's AADSTS code (used to be an NPE). */
    @Test
    void aGenericProvidersErrorsWithoutAadstsCodesAreClassified() throws Exception {
        Map<String, String> s = settings(SCOPES + " openid");
        s.put("mailintake.connections.contoso.provider", "generic");
        s.put("mailintake.connections.contoso.authorize-url", fake.authorizeEndpoint(TestApp.TENANT));
        s.put("mailintake.connections.contoso.token-url", fake.tokenEndpoint(TestApp.TENANT));
        app = TestApp.start(s);

        // a wrong secret while redeeming the code: a page that says what to fix, not a 500 with a stack trace
        fake.fault(dev.mailintake.testsupport.Fault.raw(401, "application/json",
                "{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed.\"}")
                .forGrantType("authorization_code").times(1));
        HttpResponse<String> refused = signIn.signInByRedirect("contoso");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(502);
        assertThat(refused.body()).contains("does not accept the client&#39;s credentials (invalid_client)")
                .contains("mailintake.connections.contoso.client-secret").doesNotContain("Exception");
        assertThat(rawGrantColumn()).isEmpty();

        HttpResponse<String> done = signIn.signInByRedirect("contoso");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(rawGrantColumn()).endsWith("|AUTHORIZED");

        // a refresh token the provider no longer accepts: re-authorization required at once, health DOWN
        fake.fault(dev.mailintake.testsupport.Fault.raw(400, "application/json",
                "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}")
                .forGrantType("refresh_token").always());
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(rawGrantColumn()).endsWith("|REAUTHORIZATION_REQUIRED");
        await().atMost(Duration.ofSeconds(10)).until(() -> get(browser, app.healthUrl()).body()
                .contains("re-authorization required (invalid_grant)"));
        assertThat(get(browser, app.healthUrl()).statusCode()).isEqualTo(503);
    }

    @Test
    void aLostStoreKeyAsksForANewSignInWhichThenWorks() throws Exception {
        app = TestApp.start(settings(SCOPES));
        Map.Entry<String, Map<String, String>> form = startSignIn();
        assertThat(post(form.getKey(), form.getValue()).statusCode()).isEqualTo(200);
        app.close();
        java.nio.file.Files.delete(tmp.resolve("data/store.key"));

        shared.addMessage("inbox", Mimes.pdfMessage("<k1@example.com>", "k1", 200), T0);
        app = TestApp.start(settings(SCOPES));
        await().atMost(Duration.ofSeconds(20)).until(() -> get(browser, app.healthUrl()).body().contains("cannot be decrypted"));
        Map.Entry<String, Map<String, String>> again = startSignIn();
        assertThat(post(again.getKey(), again.getValue()).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> shared.messagesIn("Inbox/Processed").size() == 1);
    }
}

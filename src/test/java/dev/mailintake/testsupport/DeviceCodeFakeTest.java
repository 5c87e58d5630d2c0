package dev.mailintake.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.aad.msal4j.DeviceCode;
import com.microsoft.aad.msal4j.DeviceCodeFlowParameters;
import com.microsoft.aad.msal4j.IAccount;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.MsalInteractionRequiredException;
import com.microsoft.aad.msal4j.MsalServiceException;
import com.microsoft.aad.msal4j.PublicClientApplication;
import com.microsoft.aad.msal4j.SilentParameters;
import com.microsoft.aad.msal4j.TokenSource;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The device code flow of {@link GraphFake} through msal4j's {@link PublicClientApplication} and raw HTTP. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceCodeFakeTest {

    private static final String TENANT = "fabrikam-tenant";
    private static final String PUBLIC_CLIENT = "77777777-2222-3333-4444-555555555555";
    private static final String CONFIDENTIAL_CLIENT = "88888888-2222-3333-4444-555555555555";
    private static final String SECRET = "conf1dential~secret";
    private static final String ALICE = "alice@fabrikam.example";
    private static final Set<String> SCOPES = Set.of("https://graph.microsoft.com/Mail.ReadWrite");

    private final ObjectMapper json = new ObjectMapper();
    private GraphFake fake;
    private HttpClient http;
    private String aliceOid;

    @BeforeAll
    void startFake() {
        fake = GraphFake.start();
        fake.registerClient(TENANT, CONFIDENTIAL_CLIENT, SECRET);
        fake.allowPublicClientFlows(TENANT, PUBLIC_CLIENT);              // registers the app as well
        aliceOid = fake.registerUser(TENANT, ALICE, "Alice Fabrikam");
        fake.mailbox(ALICE);
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(fake.clientSslContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @BeforeEach
    void clearLog() {
        fake.clearRequests();
    }

    @AfterEach
    void checkFake() {
        fake.revokeOldRefreshTokensOnRotation(false);
        fake.deviceCodePollingInterval(Duration.ofSeconds(1));
        fake.deviceCodeLifetime(Duration.ofSeconds(900));
        fake.expireDeviceCodes();                     // nothing pending leaks into the next test
        assertThat(fake.internalErrors()).isEmpty();
    }

    @AfterAll
    void stopFake() {
        fake.close();
    }

    private PublicClientApplication app(String clientId) throws Exception {
        return PublicClientApplication.builder(clientId)
                .authority(fake.authority(TENANT))
                .instanceDiscovery(false)
                .validateAuthority(false)
                .sslSocketFactory(fake.clientSslContext().getSocketFactory())
                .build();
    }

    // ================================================================== msal4j

    @Test
    void msal4jCompletesTheDeviceCodeFlowAfterApprovalAndRefreshesWithoutASecret() throws Exception {
        PublicClientApplication app = app(PUBLIC_CLIENT);
        int deviceCodeRedemptions = fake.deviceCodeRedemptions();
        AtomicReference<DeviceCode> shown = new AtomicReference<>();
        AtomicReference<String> consumerThread = new AtomicReference<>();
        CompletableFuture<IAuthenticationResult> flow = app.acquireToken(DeviceCodeFlowParameters
                .builder(SCOPES, deviceCode -> {
                    consumerThread.set(Thread.currentThread().getName());
                    shown.set(deviceCode);
                }).build());

        String userCode = fake.awaitPendingUserCode(TENANT, PUBLIC_CLIENT, Duration.ofSeconds(10)).orElseThrow();
        awaitPoll(400);                                                  // msal4j is polling: authorization_pending
        assertThat(flow).isNotDone();
        fake.approveDeviceCode(userCode.toLowerCase(), ALICE);          // typed in the browser, case does not matter

        IAuthenticationResult first = flow.get(30, TimeUnit.SECONDS);
        assertThat(first.accessToken()).startsWith("fake-at-");
        assertThat(first.account().username()).isEqualTo(ALICE);
        assertThat(first.account().homeAccountId()).isEqualTo(aliceOid + "." + fake.tenantId(TENANT));
        assertThat(first.scopes()).contains("https://graph.microsoft.com/Mail.ReadWrite");
        assertThat(fake.deviceCodeRedemptions()).isEqualTo(deviceCodeRedemptions + 1);
        assertThat(fake.pendingUserCode(TENANT, PUBLIC_CLIENT)).isEmpty();

        // what the consumer received: the device authorization response, before polling starts
        DeviceCode dc = shown.get();
        assertThat(dc.userCode()).isEqualTo(userCode).matches("[A-Z2-9]{9}");
        assertThat(dc.deviceCode()).startsWith("fake-dc-").hasSizeGreaterThan(100);
        assertThat(dc.verificationUri()).isEqualTo("https://microsoft.com/devicelogin");
        assertThat(dc.expiresIn()).isEqualTo(900);
        assertThat(dc.interval()).isEqualTo(1);
        assertThat(dc.message()).isEqualTo("To sign in, use a web browser to open the page "
                + "https://microsoft.com/devicelogin and enter the code " + userCode + " to authenticate.");
        System.out.println("device code consumer ran on thread " + consumerThread.get());

        List<LoggedRequest> polls = fake.tokenRequests().stream()
                .filter(r -> r.path().endsWith("/oauth2/v2.0/token")).toList();
        assertThat(polls).extracting(LoggedRequest::grantType).containsOnly("device_code");
        assertThat(polls).extracting(LoggedRequest::status).last().isEqualTo(200);
        assertThat(polls.subList(0, polls.size() - 1)).extracting(LoggedRequest::status).containsOnly(400);
        assertThat(polls).allSatisfy(r -> assertThat(r.clientId()).isEqualTo(PUBLIC_CLIENT));
        System.out.println("msal4j polled " + polls.size() + " times: " + polls.stream()
                .map(r -> r.at().toString() + " " + r.status()).collect(Collectors.joining(", ")));

        // the delegated token opens the user's mailbox
        HttpResponse<String> folders = http.send(HttpRequest.newBuilder(URI.create(fake.graphBaseUrl()
                + "/me/mailFolders")).header("Authorization", "Bearer " + first.accessToken()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(folders.statusCode()).as(folders.body()).isEqualTo(200);

        Set<IAccount> accounts = app.getAccounts().get(30, TimeUnit.SECONDS);
        assertThat(accounts).hasSize(1);
        IAccount account = accounts.iterator().next();

        // forced silent refresh: refresh_token grant as a public client (no secret), with rotation
        fake.revokeOldRefreshTokensOnRotation(true);
        fake.clearRequests();
        int redemptions = fake.refreshRedemptions();
        IAuthenticationResult refreshed = app.acquireTokenSilently(SilentParameters.builder(SCOPES, account)
                .authorityUrl(fake.authority(TENANT)).forceRefresh(true).build()).get(30, TimeUnit.SECONDS);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 1);
        assertThat(refreshed.metadata().tokenSource()).isEqualTo(TokenSource.IDENTITY_PROVIDER);
        assertThat(refreshed.accessToken()).startsWith("fake-at-").isNotEqualTo(first.accessToken());
        IAuthenticationResult again = app.acquireTokenSilently(SilentParameters.builder(SCOPES, account)
                .authorityUrl(fake.authority(TENANT)).forceRefresh(true).build()).get(30, TimeUnit.SECONDS);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 2);   // msal4j kept the rotated token
        assertThat(again.accessToken()).isNotIn(first.accessToken(), refreshed.accessToken());
        assertThat(fake.tokenRequests()).extracting(LoggedRequest::grantType)
                .containsExactly("refresh_token", "refresh_token");

        // revocation reaches the public client as for confidential ones
        fake.revokeGrants(TENANT, ALICE, 50173);
        assertThatThrownBy(() -> app.acquireTokenSilently(SilentParameters.builder(SCOPES, account)
                .authorityUrl(fake.authority(TENANT)).forceRefresh(true).build()).get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(MsalInteractionRequiredException.class).hasMessageContaining("AADSTS50173");
    }

    @Test
    void declinedDeviceCodeEndsTheFlowWithAuthorizationDeclined() throws Exception {
        PublicClientApplication app = app(PUBLIC_CLIENT);
        int redemptions = fake.deviceCodeRedemptions();
        CompletableFuture<IAuthenticationResult> flow = app.acquireToken(DeviceCodeFlowParameters
                .builder(SCOPES, deviceCode -> { }).build());
        String userCode = fake.awaitPendingUserCode(TENANT, PUBLIC_CLIENT, Duration.ofSeconds(10)).orElseThrow();
        CompletableFuture.runAsync(() -> fake.declineDeviceCode(userCode));   // the user, elsewhere

        assertThatThrownBy(() -> flow.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(MsalServiceException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo("authorization_declined");
                    assertThat(e.statusCode()).isEqualTo(400);
                });
        assertThatThrownBy(() -> fake.approveDeviceCode(userCode, ALICE)).isInstanceOf(IllegalStateException.class);
        assertThat(fake.deviceCodeRedemptions()).isEqualTo(redemptions);
    }

    @Test
    void expiredDeviceCodeEndsTheFlowWithExpiredToken() throws Exception {
        PublicClientApplication app = app(PUBLIC_CLIENT);
        CompletableFuture<IAuthenticationResult> flow = app.acquireToken(DeviceCodeFlowParameters
                .builder(SCOPES, deviceCode -> { }).build());
        fake.awaitPendingUserCode(TENANT, PUBLIC_CLIENT, Duration.ofSeconds(10)).orElseThrow();
        fake.expireDeviceCodes();

        assertThatThrownBy(() -> flow.get(30, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(MsalServiceException.class,
                        e -> assertThat(e.errorCode()).isEqualTo("expired_token"))
                .hasMessageContaining("AADSTS70019");
        assertThat(fake.pendingUserCode(TENANT, PUBLIC_CLIENT)).isEmpty();
    }

    @Test
    void withoutPublicClientFlowsTheDeviceCodeRequestFails() throws Exception {
        PublicClientApplication app = app(CONFIDENTIAL_CLIENT);
        AtomicReference<DeviceCode> shown = new AtomicReference<>();
        CompletableFuture<IAuthenticationResult> flow = app.acquireToken(DeviceCodeFlowParameters
                .builder(SCOPES, shown::set).build());

        assertThatThrownBy(() -> flow.get(30, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(MsalServiceException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo("invalid_client");
                    assertThat(e.statusCode()).isEqualTo(400);
                })
                .hasMessageContaining("AADSTS7000218")
                .hasMessageContaining("'client_assertion' or 'client_secret'");
        assertThat(shown.get()).isNull();                              // no code was ever shown
        assertThat(fake.pendingUserCode(TENANT, CONFIDENTIAL_CLIENT)).isEmpty();
        assertThat(fake.tokenRequests()).extracting(LoggedRequest::path)
                .containsExactly("/" + TENANT + "/oauth2/v2.0/devicecode");
    }

    // ================================================================== raw HTTP

    @Test
    void deviceAuthorizationResponseHasEntrasShape() throws Exception {
        fake.deviceCodePollingInterval(Duration.ofSeconds(3)).deviceCodeLifetime(Duration.ofSeconds(120));
        HttpResponse<String> r = post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form(
                "client_id", PUBLIC_CLIENT, "scope", "Mail.ReadWrite openid profile offline_access"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store, no-cache");
        JsonNode body = json.readTree(r.body());
        assertThat(iterable(body.fieldNames())).containsExactly("user_code", "device_code", "verification_uri",
                "expires_in", "interval", "message");
        assertThat(body.get("interval").asInt()).isEqualTo(3);
        assertThat(body.get("expires_in").asInt()).isEqualTo(120);
        assertThat(fake.pendingUserCode(TENANT, PUBLIC_CLIENT)).hasValue(body.get("user_code").asText());

        // a second request: the newest pending code wins
        JsonNode second = json.readTree(post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form(
                "client_id", PUBLIC_CLIENT, "scope", "Mail.ReadWrite")).body());
        assertThat(second.get("user_code").asText()).isNotEqualTo(body.get("user_code").asText());
        assertThat(fake.pendingUserCode(TENANT, PUBLIC_CLIENT)).hasValue(second.get("user_code").asText());

        assertEntraError(http.send(HttpRequest.newBuilder(URI.create(fake.authority(TENANT)
                + "oauth2/v2.0/devicecode")).GET().build(), HttpResponse.BodyHandlers.ofString()), 405,
                "invalid_request", 900561);
        assertEntraError(post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form("client_id", PUBLIC_CLIENT)),
                400, "invalid_request", 900144);
        assertEntraError(post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form("client_id",
                "99999999-0000-0000-0000-000000000000", "scope", "openid")), 400, "unauthorized_client", 700016);
        assertEntraError(post(fake.authority("nowhere") + "oauth2/v2.0/devicecode", form("client_id",
                PUBLIC_CLIENT, "scope", "openid")), 400, "invalid_request", 90002);
    }

    @Test
    void deviceCodeGrantOverHttpWithTheUrnGrantType() throws Exception {
        JsonNode dc = json.readTree(post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form(
                "client_id", PUBLIC_CLIENT, "scope", "Mail.ReadWrite openid profile offline_access")).body());
        String deviceCode = dc.get("device_code").asText();
        String token = fake.tokenEndpoint(TENANT);
        String urn = "urn:ietf:params:oauth:grant-type:device_code";

        assertEntraError(post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT, "device_code", deviceCode)),
                400, "authorization_pending", 70016);
        // a public client must not present a secret
        assertEntraError(post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT, "device_code", deviceCode,
                "client_secret", "anything")), 400, "invalid_client", 700025);
        assertEntraError(post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT, "device_code",
                "fake-dc-unknown")), 400, "bad_verification_code", 70018);
        assertEntraError(post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT)), 400, "invalid_request",
                900144);
        assertEntraError(post(token, form("grant_type", urn, "client_id", CONFIDENTIAL_CLIENT, "device_code",
                deviceCode)), 400, "invalid_client", 7000218);

        fake.approveDeviceCode(dc.get("user_code").asText(), ALICE);
        HttpResponse<String> ok = post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT, "device_code",
                deviceCode, "client_info", "1"));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        JsonNode tokens = json.readTree(ok.body());
        assertThat(iterable(tokens.fieldNames())).contains("token_type", "scope", "expires_in", "ext_expires_in",
                "access_token", "refresh_token", "id_token", "client_info");
        assertThat(tokens.get("scope").asText()).contains("https://graph.microsoft.com/Mail.ReadWrite",
                "offline_access");
        assertEntraError(post(token, form("grant_type", urn, "client_id", PUBLIC_CLIENT, "device_code",
                deviceCode)), 400, "invalid_grant", 54005);

        // refresh without a secret: fine for the public client ...
        String refreshToken = tokens.get("refresh_token").asText();
        HttpResponse<String> refreshed = post(token, form("grant_type", "refresh_token", "client_id", PUBLIC_CLIENT,
                "refresh_token", refreshToken, "scope", "Mail.ReadWrite offline_access"));
        assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
        assertThat(json.readTree(refreshed.body()).get("refresh_token").asText()).isNotEqualTo(refreshToken);
        // ... but not for a confidential one (unchanged: a secret is required)
        HttpResponse<String> confidential = post(token, form("grant_type", "refresh_token", "client_id",
                CONFIDENTIAL_CLIENT, "refresh_token", refreshToken));
        assertThat(confidential.statusCode()).isEqualTo(401);
        assertThat(json.readTree(confidential.body()).get("error").asText()).isEqualTo("invalid_client");

        // the device code never shows up in the request log
        assertThat(fake.tokenRequests()).allSatisfy(r -> assertThat(r.toString()).doesNotContain(deviceCode));
    }

    @Test
    void approvalNeedsAPendingCodeAndARegisteredUser() throws Exception {
        JsonNode dc = json.readTree(post(fake.authority(TENANT) + "oauth2/v2.0/devicecode", form(
                "client_id", PUBLIC_CLIENT, "scope", "Mail.ReadWrite offline_access")).body());
        String userCode = dc.get("user_code").asText();
        assertThatThrownBy(() -> fake.approveDeviceCode("NOSUCHCOD", ALICE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> fake.approveDeviceCode(userCode, "mallory@fabrikam.example"))
                .isInstanceOf(IllegalArgumentException.class);
        fake.approveDeviceCode(userCode.substring(0, 4) + "-" + userCode.substring(4), ALICE);
        assertThatThrownBy(() -> fake.declineDeviceCode(userCode)).isInstanceOf(IllegalStateException.class);
        assertThat(fake.pendingUserCode(TENANT, PUBLIC_CLIENT)).isEmpty();
    }

    // ================================================================== helpers

    /** Waits until the fake has answered a device code poll with this status. */
    private void awaitPoll(int status) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(10);
        while (fake.tokenRequests().stream().noneMatch(r -> "device_code".equals(r.grantType())
                && r.status() == status)) {
            assertThat(Instant.now()).as("no device code poll answered %d", status).isBefore(deadline);
            Thread.sleep(10);
        }
    }

    private HttpResponse<String> post(String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String form(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }

    private void assertEntraError(HttpResponse<String> r, int status, String error, int aadsts) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode body = json.readTree(r.body());
        assertThat(body.get("error").asText()).as(r.body()).isEqualTo(error);
        assertThat(body.get("error_codes").get(0).asInt()).as(r.body()).isEqualTo(aadsts);
        assertThat(body.get("error_description").asText()).startsWith("AADSTS" + aadsts + ": ");
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> list = new java.util.ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}

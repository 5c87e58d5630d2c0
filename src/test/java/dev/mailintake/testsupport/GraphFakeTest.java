package dev.mailintake.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.aad.msal4j.AuthorizationCodeParameters;
import com.microsoft.aad.msal4j.AuthorizationRequestUrlParameters;
import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAccount;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.MsalInteractionRequiredException;
import com.microsoft.aad.msal4j.MsalServiceException;
import com.microsoft.aad.msal4j.ResponseMode;
import com.microsoft.aad.msal4j.SilentParameters;
import com.microsoft.aad.msal4j.TokenSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Exercises {@link GraphFake} through real HTTP with java.net.http.HttpClient. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraphFakeTest {

    private static final String TENANT = "contoso-tenant";
    private static final String CLIENT_ID = "11111111-2222-3333-4444-555555555555";
    private static final String SECRET = "s3cr3t-value~with.special+chars";
    private static final String GRAPH_SCOPE = "https://graph.microsoft.com/.default";
    private static final String IMMUTABLE = "IdType=\"ImmutableId\"";
    private static final String OTHER_CLIENT_ID = "66666666-2222-3333-4444-555555555555";
    private static final String REDIRECT = "https://app.example/oauth/callback";
    private static final String ALICE = "alice@contoso.example";
    private static final String BOB = "bob@contoso.example";
    private static final String CAROL = "carol@contoso.example";
    private static final String SHARED = "scans-shared@contoso.example";
    private static final String DELEGATED_SCOPES = "https://graph.microsoft.com/Mail.ReadWrite "
            + "https://graph.microsoft.com/Mail.ReadWrite.Shared openid profile offline_access";

    private final ObjectMapper json = new ObjectMapper();
    private GraphFake fake;
    private HttpClient graphHttp;
    private HttpClient tokenHttp;
    private String aliceOid;

    @BeforeAll
    void startFake() throws Exception {
        fake = GraphFake.start();
        fake.registerClient(TENANT, CLIENT_ID, SECRET);
        fake.registerRedirectUri(TENANT, CLIENT_ID, REDIRECT);
        aliceOid = fake.registerUser(TENANT, ALICE, "Alice Example");
        fake.registerUser(TENANT, BOB, "Bob Example");
        fake.registerUser(TENANT, CAROL, "Carol Example");
        graphHttp = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        tokenHttp = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).sslContext(sslContextFrom(fake.trustStore(),
                        fake.trustStorePassword())).build();
    }

    @BeforeEach
    void clearLog() {
        fake.clearRequests();
    }

    @AfterEach
    void resetFake() {
        fake.clearFaults();
        fake.latency(Duration.ZERO);
        fake.tokenLifetime(Duration.ofHours(1));
        fake.revokeOldRefreshTokensOnRotation(false);
        assertThat(fake.internalErrors()).isEmpty();
    }

    @AfterAll
    void stopFake() {
        fake.close();
    }

    // ================================================================== token endpoint

    @Test
    void issuesTokensAndRejectsAWrongSecretLikeEntra() throws Exception {
        int before = fake.tokensIssued();
        HttpResponse<String> ok = tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE + " openid profile offline_access");
        assertThat(ok.statusCode()).isEqualTo(200);
        JsonNode token = json.readTree(ok.body());
        assertThat(token.get("token_type").asText()).isEqualTo("Bearer");
        assertThat(token.get("expires_in").asInt()).isEqualTo(3600);
        assertThat(token.get("ext_expires_in").asInt()).isEqualTo(3600);
        assertThat(token.get("access_token").asText()).startsWith("fake-at-");
        assertThat(fake.tokensIssued()).isEqualTo(before + 1);

        HttpResponse<String> wrong = tokenRequest(CLIENT_ID, "not-the-secret", GRAPH_SCOPE);
        assertThat(wrong.statusCode()).isEqualTo(401);
        JsonNode error = json.readTree(wrong.body());
        assertThat(error.get("error").asText()).isEqualTo("invalid_client");
        assertThat(error.get("error_codes").get(0).asInt()).isEqualTo(7000215);
        assertThat(error.get("error_description").asText())
                .startsWith("AADSTS7000215: Invalid client secret provided.")
                .contains("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: ");
        assertThat(error.get("error_uri").asText()).isEqualTo("https://login.microsoftonline.com/error?code=7000215");
        assertThat(error.has("timestamp") && error.has("trace_id") && error.has("correlation_id")).isTrue();
        assertThat(fake.tokensIssued()).isEqualTo(before + 1);

        HttpResponse<String> unknownClient = tokenRequest("99999999-2222-3333-4444-555555555555", SECRET, GRAPH_SCOPE);
        assertThat(unknownClient.statusCode()).isEqualTo(400);
        assertThat(json.readTree(unknownClient.body()).get("error").asText()).isEqualTo("unauthorized_client");
        assertThat(json.readTree(unknownClient.body()).get("error_codes").get(0).asInt()).isEqualTo(700016);

        HttpResponse<String> unknownTenant = post(tokenHttp, fake.tokenEndpoint("no-such-tenant"),
                form(CLIENT_ID, SECRET, GRAPH_SCOPE));
        assertThat(unknownTenant.statusCode()).isEqualTo(400);
        assertThat(json.readTree(unknownTenant.body()).get("error_codes").get(0).asInt()).isEqualTo(90002);

        List<LoggedRequest> logged = fake.tokenRequests();
        assertThat(logged).hasSize(4).allSatisfy(r -> {
            assertThat(r.tokenRequest()).isTrue();
            assertThat(r.mailbox()).isNull();
            assertThat(r.grantType()).isEqualTo("client_credentials");
            assertThat(r.toString() + r).doesNotContain(SECRET);
        });
        assertThat(logged.get(logged.size() - 1).status()).isEqualTo(400);
    }

    @Test
    void servesDiscoveryDocumentsAndInjectedTokenFaults() throws Exception {
        HttpResponse<String> oidc = tokenHttp.send(HttpRequest.newBuilder(
                URI.create(fake.authorityHost() + "/" + TENANT + "/v2.0/.well-known/openid-configuration")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(oidc.statusCode()).isEqualTo(200);
        assertThat(json.readTree(oidc.body()).get("token_endpoint").asText()).isEqualTo(fake.tokenEndpoint(TENANT));

        HttpResponse<String> discovery = tokenHttp.send(HttpRequest.newBuilder(URI.create(fake.authorityHost()
                + "/common/discovery/instance?api-version=1.1&authorization_endpoint="
                + URLEncoder.encode(fake.authority(TENANT) + "oauth2/v2.0/authorize", StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(discovery.statusCode()).isEqualTo(200);
        assertThat(json.readTree(discovery.body()).get("tenant_discovery_endpoint").asText())
                .isEqualTo(fake.authorityHost() + "/" + TENANT + "/v2.0/.well-known/openid-configuration");

        FaultHandle fault = fake.fault(Fault.tokenUnavailable().retryAfter(1));
        HttpResponse<String> unavailable = tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE);
        assertThat(unavailable.statusCode()).isEqualTo(503);
        assertThat(unavailable.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(json.readTree(unavailable.body()).get("error").asText()).isEqualTo("temporarily_unavailable");
        assertThat(tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE).statusCode()).isEqualTo(200);
        assertThat(fault.fired()).isEqualTo(1);
        assertThat(fault.usedUp()).isTrue();
    }

    // ================================================================== authentication

    @Test
    void rejectsMissingAndExpiredTokensWithGraphsErrorShape() throws Exception {
        fake.mailbox("auth@contoso.example");
        String url = fake.graphBaseUrl() + "/users/auth@contoso.example/mailFolders";

        HttpResponse<String> none = graphHttp.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("Bearer "));
        assertThat(json.readTree(none.body()).at("/error/code").asText()).isEqualTo("InvalidAuthenticationToken");

        String token = httpToken();
        assertThat(get(url, token).statusCode()).isEqualTo(200);
        fake.expireAllTokens();
        HttpResponse<String> expired = get(url, token);
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(expired.headers().firstValue("WWW-Authenticate")).isPresent();
        JsonNode error = json.readTree(expired.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("InvalidAuthenticationToken");
        assertThat(error.get("message").asText()).isEqualTo("Access token has expired or is not yet valid.");
        assertThat(error.at("/innerError/request-id").asText()).isNotEmpty();
        assertThat(error.at("/innerError/date").asText()).isNotEmpty();

        assertThat(get(url, httpToken()).statusCode()).isEqualTo(200);
        assertThat(get(url, "fake-at-forged").statusCode()).isEqualTo(401);
        assertThat(fake.graphRequests()).allSatisfy(r -> assertThat(r.toString()).doesNotContain(token));

        HttpResponse<String> unknownUser = get(fake.graphBaseUrl() + "/users/nobody@contoso.example/mailFolders",
                fake.mintAccessToken());
        assertThat(unknownUser.statusCode()).isEqualTo(404);
        assertThat(json.readTree(unknownUser.body()).at("/error/code").asText()).isEqualTo("ErrorInvalidUser");
        assertThat(json.readTree(unknownUser.body()).at("/error/message").asText())
                .isEqualTo("The requested user 'nobody@contoso.example' is invalid.");
    }

    // ================================================================== folders

    @Test
    void listsOnlyTopLevelFoldersAndChildFoldersSeparately() throws Exception {
        FakeMailbox box = fake.mailbox("folders@contoso.example");
        String scans = box.createFolder("Inbox", "Scans");
        String processed = box.createFolder("Inbox/Scans", "Processed");
        String token = fake.mintAccessToken();
        String base = fake.graphBaseUrl() + "/users/FOLDERS@contoso.example/mailFolders";

        List<JsonNode> top = collectPages(base + "?$top=3", token, null);
        assertThat(top).extracting(f -> f.get("displayName").asText()).containsExactly("Inbox", "Drafts",
                "Sent Items", "Deleted Items", "Junk Email", "Archive", "Outbox");
        JsonNode inbox = top.get(0);
        assertThat(inbox.get("id").asText()).isEqualTo(box.folderId("inbox")).hasSizeGreaterThan(100);
        assertThat(inbox.get("childFolderCount").asInt()).isEqualTo(1);
        assertThat(inbox.get("parentFolderId").asText()).isEqualTo(box.folderId("msgfolderroot"));
        assertThat(inbox.has("totalItemCount") && inbox.has("unreadItemCount") && inbox.has("isHidden")).isTrue();

        JsonNode byWellKnown = json.readTree(get(base + "/InBox", token).body());
        assertThat(byWellKnown.get("id").asText()).isEqualTo(box.folderId("inbox"));

        JsonNode children = json.readTree(get(base + "/inbox/childFolders", token).body());
        assertThat(children.get("value")).hasSize(1);
        assertThat(children.at("/value/0/id").asText()).isEqualTo(scans);
        JsonNode grandChildren = json.readTree(get(base + "/" + scans + "/childFolders", token).body());
        assertThat(grandChildren.at("/value/0/id").asText()).isEqualTo(processed);
        assertThat(grandChildren.at("/value/0/displayName").asText()).isEqualTo("Processed");

        HttpResponse<String> created = post(graphHttp, base + "/" + scans + "/childFolders",
                "{\"displayName\":\"Failed\"}", "Authorization", "Bearer " + token,
                "Content-Type", "application/json");
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(json.readTree(created.body()).get("parentFolderId").asText()).isEqualTo(scans);
        assertThat(box.folderId("Inbox/Scans/Failed")).isEqualTo(json.readTree(created.body()).get("id").asText());
        HttpResponse<String> duplicate = post(graphHttp, base + "/" + scans + "/childFolders",
                "{\"displayName\":\"FAILED\"}", "Authorization", "Bearer " + token,
                "Content-Type", "application/json");
        assertThat(duplicate.statusCode()).isEqualTo(409);
        assertThat(json.readTree(duplicate.body()).at("/error/code").asText()).isEqualTo("ErrorFolderExists");

        assertThat(json.readTree(get(base + "/NoSuchFolder", token).body()).at("/error/code").asText())
                .isEqualTo("ErrorInvalidIdMalformed");
        assertThat(json.readTree(get(base + "/" + scans.replace('A', 'B'), token).body()).at("/error/code")
                .asText()).isEqualTo("ErrorItemNotFound");
    }

    // ================================================================== messages

    @Test
    void pagesTwentyFiveMessagesByFollowingFullNextLinks() throws Exception {
        FakeMailbox box = fake.mailbox("paging@contoso.example");
        Instant t0 = Instant.parse("2026-11-22T10:00:00Z");
        List<String> added = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            added.add(box.addMessage("inbox", mime("<m" + i + "@contoso.example>", "Scan " + i, "body " + i),
                    t0.plusSeconds(60L * i)));
        }
        String token = fake.mintAccessToken();
        String first = fake.graphBaseUrl() + "/users/paging%40contoso.example/mailFolders/inbox/messages"
                + "?$select=internetMessageId,receivedDateTime&$orderby=receivedDateTime%20asc&$top=10";

        List<Integer> pageSizes = new ArrayList<>();
        List<String> nextLinks = new ArrayList<>();
        List<JsonNode> messages = collectPages(first, token, IMMUTABLE, pageSizes, nextLinks);
        assertThat(pageSizes).containsExactly(10, 10, 5);
        assertThat(nextLinks).hasSize(2).allSatisfy(link -> assertThat(link)
                .startsWith(fake.graphBaseUrl() + "/users/").contains("%24top=10"));
        assertThat(nextLinks.get(0)).contains("%24skip=10");
        assertThat(nextLinks.get(1)).contains("%24skip=20");
        assertThat(messages).extracting(m -> m.get("id").asText()).containsExactlyElementsOf(added);
        assertThat(messages.get(0).get("receivedDateTime").asText()).isEqualTo("2026-11-22T10:00:00Z");
        assertThat(messages.get(0).get("internetMessageId").asText()).isEqualTo("<m0@contoso.example>");
        assertThat(messages.get(0).has("subject")).isFalse();

        // default order is receivedDateTime desc, default page size 10
        JsonNode defaultPage = json.readTree(get(fake.graphBaseUrl()
                + "/users/paging@contoso.example/mailFolders/inbox/messages", token, IMMUTABLE).body());
        assertThat(defaultPage.get("value")).hasSize(10);
        assertThat(defaultPage.at("/value/0/id").asText()).isEqualTo(added.get(24));
        assertThat(defaultPage.at("/value/0/subject").asText()).isEqualTo("Scan 24");

        // $skip paging is positional, as in Graph: moving the first page away makes the client miss messages
        JsonNode page1 = json.readTree(get(first, token, IMMUTABLE).body());
        for (JsonNode m : page1.get("value")) {
            box.moveMessage(m.get("id").asText(), "archive");
        }
        JsonNode page2 = json.readTree(get(page1.get("@odata.nextLink").asText(), token, IMMUTABLE).body());
        assertThat(page2.get("value")).hasSize(5);
        assertThat(page2.at("/value/0/id").asText()).isEqualTo(added.get(20));
    }

    @Test
    void moveReturns201WithNewRestIdButSameImmutableId() throws Exception {
        FakeMailbox box = fake.mailbox("move@contoso.example");
        String immutableId = box.addMessage("inbox", mime("<move@contoso.example>", "Move me", "x"),
                Instant.parse("2026-11-22T10:15:30Z"));
        box.createFolder("Inbox", "Done");
        String token = fake.mintAccessToken();
        String users = fake.graphBaseUrl() + "/users/move@contoso.example";

        JsonNode listed = json.readTree(get(users + "/mailFolders/inbox/messages?$select=id", token).body());
        String restId = listed.at("/value/0/id").asText();
        assertThat(restId).isNotEqualTo(immutableId).isEqualTo(box.message(immutableId).restId());

        HttpResponse<String> moved = post(graphHttp, users + "/messages/" + restId + "/move",
                "{\"destinationId\":\"archive\"}", "Authorization", "Bearer " + token,
                "Content-Type", "application/json");
        assertThat(moved.statusCode()).isEqualTo(201);
        JsonNode movedJson = json.readTree(moved.body());
        String newRestId = movedJson.get("id").asText();
        assertThat(newRestId).isNotEqualTo(restId).isNotEqualTo(immutableId);
        assertThat(movedJson.get("parentFolderId").asText()).isEqualTo(box.folderId("archive"));
        assertThat(movedJson.get("receivedDateTime").asText()).isEqualTo("2026-11-22T10:15:30Z");

        HttpResponse<String> stale = get(users + "/messages/" + restId, token);
        assertThat(stale.statusCode()).isEqualTo(404);
        assertThat(json.readTree(stale.body()).at("/error/code").asText()).isEqualTo("ErrorItemNotFound");
        assertThat(json.readTree(stale.body()).at("/error/message").asText())
                .isEqualTo("The specified object was not found in the store.");

        HttpResponse<String> movedAgain = post(graphHttp, users + "/messages/" + newRestId + "/move",
                "{\"destinationId\":\"" + box.folderId("Inbox/Done") + "\"}", "Authorization", "Bearer " + token,
                "Content-Type", "application/json", "Prefer", IMMUTABLE);
        assertThat(movedAgain.statusCode()).isEqualTo(201);
        assertThat(movedAgain.headers().firstValue("Preference-Applied")).hasValue(IMMUTABLE);
        assertThat(json.readTree(movedAgain.body()).get("id").asText()).isEqualTo(immutableId);
        assertThat(box.message(immutableId).folderPath()).isEqualTo("Inbox/Done");
        assertThat(get(users + "/messages/" + immutableId, token).statusCode()).isEqualTo(200);

        HttpResponse<String> badDestination = post(graphHttp, users + "/messages/" + immutableId + "/move",
                "{\"destinationId\":\"Nowhere\"}", "Authorization", "Bearer " + token,
                "Content-Type", "application/json");
        assertThat(badDestination.statusCode()).isEqualTo(400);
        assertThat(json.readTree(badDestination.body()).at("/error/code").asText())
                .isEqualTo("ErrorInvalidIdMalformed");
    }

    @Test
    void patchSetsCategories() throws Exception {
        FakeMailbox box = fake.mailbox("patch@contoso.example");
        String id = box.addMessage("inbox", mime("<patch@contoso.example>", "Tag me", "x"), Instant.now());
        String token = fake.mintAccessToken();
        HttpResponse<String> patched = send(graphHttp, HttpRequest.newBuilder(URI.create(fake.graphBaseUrl()
                        + "/users/patch@contoso.example/messages/" + id))
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"categories\":[\"Imported\",\"Scan\"]}"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .header("Prefer", IMMUTABLE).build());
        assertThat(patched.statusCode()).isEqualTo(200);
        JsonNode body = json.readTree(patched.body());
        assertThat(body.get("id").asText()).isEqualTo(id);
        assertThat(body.get("categories")).extracting(JsonNode::asText).containsExactly("Imported", "Scan");
        assertThat(box.message(id).categories()).containsExactly("Imported", "Scan");
    }

    @Test
    void valueReturnsExactMimeBytesWithContentLength(@TempDir Path dir) throws Exception {
        FakeMailbox box = fake.mailbox("mime@contoso.example");
        byte[] mime = ("Message-ID: <mime@contoso.example>\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
                + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                + "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
                + "%PDF\u00e4\u00f6\r\n--b--\r\n").getBytes(StandardCharsets.UTF_8);
        String id = box.addMessage("inbox", mime, Instant.now());
        String token = fake.mintAccessToken();

        HttpResponse<byte[]> value = graphHttp.send(HttpRequest.newBuilder(URI.create(fake.graphBaseUrl()
                        + "/users/mime@contoso.example/messages/" + id + "/$value"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(value.statusCode()).isEqualTo(200);
        assertThat(value.body()).isEqualTo(mime);
        assertThat(value.headers().firstValueAsLong("Content-Length")).hasValue(mime.length);
        assertThat(value.headers().firstValue("Content-Type")).hasValue("text/plain");

        JsonNode meta = json.readTree(get(fake.graphBaseUrl() + "/users/mime@contoso.example/mailFolders/inbox/"
                + "messages/" + id, token).body());
        assertThat(meta.get("subject").asText()).isEqualTo("Grüße");
        assertThat(meta.get("hasAttachments").asBoolean()).isTrue();
        assertThat(meta.get("internetMessageId").asText()).isEqualTo("<mime@contoso.example>");

        // file-backed message, streamed
        Path big = dir.resolve("big.eml");
        byte[] bigMime = new byte[3 * 1024 * 1024 + 17];
        for (int i = 0; i < bigMime.length; i++) {
            bigMime[i] = (byte) ('a' + i % 26);
        }
        System.arraycopy("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0, bigMime, 0, 16);
        Files.write(big, bigMime);
        String bigId = box.addMessage("inbox", big, Instant.now());
        assertThat(box.message(bigId).fileBacked()).isTrue();
        HttpResponse<byte[]> bigValue = graphHttp.send(HttpRequest.newBuilder(URI.create(fake.graphBaseUrl()
                        + "/users/mime@contoso.example/messages/" + bigId + "/%24value"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(bigValue.headers().firstValueAsLong("Content-Length")).hasValue(bigMime.length);
        assertThat(bigValue.body()).isEqualTo(bigMime);
    }

    // ================================================================== faults, latency, concurrency

    @Test
    void throttlingFaultFiresExactlyOnceWithRetryAfter() throws Exception {
        fake.mailbox("throttle@contoso.example").addMessage("inbox", mime("<t@x>", "t", "t"), Instant.now());
        String token = fake.mintAccessToken();
        FaultHandle fault = fake.fault(Fault.throttled(2).on("GET", ".*/messages.*"));
        String url = fake.graphBaseUrl() + "/users/throttle@contoso.example/mailFolders/inbox/messages";

        assertThat(get(fake.graphBaseUrl() + "/users/throttle@contoso.example/mailFolders", token).statusCode())
                .isEqualTo(200);                                   // does not match the fault
        HttpResponse<String> throttled = get(url, token);
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.headers().firstValue("Retry-After")).hasValue("2");
        JsonNode error = json.readTree(throttled.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("TooManyRequests");
        assertThat(error.get("message").asText()).isEqualTo("Application is over its MailboxConcurrency limit.");
        assertThat(get(url, token).statusCode()).isEqualTo(200);
        assertThat(get(url, token).statusCode()).isEqualTo(200);
        assertThat(fault.fired()).isEqualTo(1);
        assertThat(fake.graphRequests().stream().filter(r -> "throttle@contoso.example".equals(r.mailbox()))
                .filter(r -> r.status() == 429)).hasSize(1).allSatisfy(r -> assertThat(r.fault()).contains("429"));
    }

    @Test
    void resetMidBodyMakesTheClientFail() throws Exception {
        FakeMailbox box = fake.mailbox("reset@contoso.example");
        byte[] mime = mime("<reset@x>", "reset", "x".repeat(200_000));
        String id = box.addMessage("inbox", mime, Instant.now());
        String token = fake.mintAccessToken();
        FaultHandle fault = fake.fault(Fault.resetMidBody().forMailbox("reset@contoso.example"));
        HttpRequest request = HttpRequest.newBuilder(URI.create(fake.graphBaseUrl()
                        + "/users/reset@contoso.example/messages/" + id + "/$value"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).build();

        long start = System.nanoTime();
        assertThatThrownBy(() -> graphHttp.send(request, HttpResponse.BodyHandlers.ofByteArray()))
                .isInstanceOf(IOException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(fault.fired()).isEqualTo(1);
        LoggedRequest cut = fake.graphRequests().stream().filter(LoggedRequest::isMimeDownload)
                .filter(r -> "reset@contoso.example".equals(r.mailbox())).findFirst().orElseThrow();
        assertThat(cut.status()).isEqualTo(200);
        assertThat(cut.fault()).startsWith("reset-mid-body");

        // streaming clients see the failure while reading
        fake.fault(Fault.resetMidBody());
        HttpResponse<InputStream> streamed = graphHttp.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.headers().firstValueAsLong("Content-Length")).hasValue(mime.length);
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        assertThatThrownBy(() -> {
            try (InputStream in = streamed.body()) {
                in.transferTo(received);
            }
        }).isInstanceOf(IOException.class);
        assertThat(received.size()).isLessThan(mime.length);

        // the faults are used up: the next download is complete
        assertThat(graphHttp.send(request, HttpResponse.BodyHandlers.ofByteArray()).body()).isEqualTo(mime);
    }

    @Test
    void peakConcurrencyCountsParallelRequestsPerMailbox() throws Exception {
        fake.mailbox("busy@contoso.example");
        fake.mailbox("quiet@contoso.example");
        String token = fake.mintAccessToken();
        fake.latency(Duration.ofMillis(400));
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            futures.add(graphHttp.sendAsync(getRequest(fake.graphBaseUrl()
                    + "/users/busy@contoso.example/mailFolders/inbox", token), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 2; i++) {
            futures.add(graphHttp.sendAsync(getRequest(fake.graphBaseUrl()
                    + "/users/quiet@contoso.example/mailFolders", token), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            assertThat(f.get().statusCode()).isEqualTo(200);
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        assertThat(elapsed).isGreaterThanOrEqualTo(Duration.ofMillis(400)).isLessThan(Duration.ofMillis(1600));
        assertThat(fake.peakConcurrency("BUSY@contoso.example")).isEqualTo(6);
        assertThat(fake.peakConcurrency("quiet@contoso.example")).isEqualTo(2);
        assertThat(fake.peakConcurrency("never@contoso.example")).isZero();
        assertThat(fake.inFlight("busy@contoso.example")).isZero();
        Set<Long> sequences = fake.graphRequests().stream().map(LoggedRequest::sequence)
                .collect(Collectors.toCollection(HashSet::new));
        assertThat(sequences).hasSameSizeAs(fake.graphRequests());
        assertThat(fake.graphRequests()).filteredOn(r -> "busy@contoso.example".equals(r.mailbox()))
                .allSatisfy(r -> assertThat(r.duration()).isGreaterThanOrEqualTo(Duration.ofMillis(390)));
    }

    // ================================================================== delegated flows (authorize, code, refresh)

    @Test
    void authorizeAnswersWithFormPostOrRedirectAndRefusesUnregisteredRedirectUris() throws Exception {
        fake.signInAs(TENANT, ALICE);
        Pkce pkce = Pkce.create();

        HttpResponse<String> posted = authorize("form_post", REDIRECT, "state-1", pkce, DELEGATED_SCOPES);
        assertThat(posted.statusCode()).isEqualTo(200);
        assertThat(posted.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/html"));
        assertThat(posted.headers().firstValue("Location")).isEmpty();
        assertThat(posted.body()).contains("document.forms[0].submit()");
        PostedForm form = PostedForm.parse(posted.body());
        assertThat(form.action()).isEqualTo(REDIRECT);
        assertThat(form.method()).isEqualToIgnoringCase("post");
        assertThat(form.fields()).containsKeys("code", "state", "session_state").doesNotContainKey("error");
        assertThat(form.fields().get("code")).startsWith("fake-ac-");
        assertThat(form.fields().get("state")).isEqualTo("state-1");

        HttpResponse<String> redirected = authorize("query", REDIRECT, "state 2&more", pkce, DELEGATED_SCOPES);
        assertThat(redirected.statusCode()).isEqualTo(302);
        String location = redirected.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith(REDIRECT + "?code=fake-ac-");
        Map<String, String> params = queryParams(location);
        assertThat(params.get("state")).isEqualTo("state 2&more");
        assertThat(params.get("code")).isNotEqualTo(form.fields().get("code"));

        // redirect URI not registered: an error page, nothing is sent anywhere
        HttpResponse<String> mismatch = authorize("form_post", "https://evil.example/callback", "s", pkce,
                DELEGATED_SCOPES);
        assertThat(mismatch.statusCode()).isEqualTo(400);
        assertThat(mismatch.headers().firstValue("Location")).isEmpty();
        assertThat(mismatch.body()).contains("AADSTS50011").doesNotContain("<form");
        HttpResponse<String> unknownClient = tokenHttp.send(HttpRequest.newBuilder(URI.create(
                fake.authorizeEndpoint(TENANT) + "?client_id=nobody&response_type=code&scope=openid&redirect_uri="
                        + enc(REDIRECT))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknownClient.statusCode()).isEqualTo(400);
        assertThat(unknownClient.body()).contains("AADSTS700016");

        // injected error (e.g. the user declined): sent to the redirect URI, escaped in the page
        String description = "AADSTS65004: User declined to consent <script>alert('x')</script> & left.";
        fake.failNextAuthorize("access_denied", description);
        HttpResponse<String> declined = authorize("form_post", REDIRECT, "state-3", pkce, DELEGATED_SCOPES);
        assertThat(declined.statusCode()).isEqualTo(200);
        assertThat(declined.body()).doesNotContain("<script>alert").contains("&lt;script&gt;");
        PostedForm error = PostedForm.parse(declined.body());
        assertThat(error.fields()).containsEntry("error", "access_denied").containsEntry("error_description",
                description).containsEntry("state", "state-3").doesNotContainKey("code");
        fake.failNextAuthorize("access_denied", description);
        Map<String, String> errorParams = queryParams(authorize("query", REDIRECT, "state-4", pkce, DELEGATED_SCOPES)
                .headers().firstValue("Location").orElseThrow());
        assertThat(errorParams).containsEntry("error", "access_denied").containsEntry("error_description", description)
                .containsEntry("state", "state-4").doesNotContainKey("code");
        // the failure was used up
        assertThat(authorize("query", REDIRECT, "s", pkce, DELEGATED_SCOPES).headers().firstValue("Location")
                .orElseThrow()).contains("code=fake-ac-");

        assertThat(fake.tokenRequests()).filteredOn(r -> r.path().endsWith("/authorize")).hasSize(7)
                .allSatisfy(r -> {
                    assertThat(r.grantType()).isNull();
                    assertThat(r.method()).isEqualTo("GET");
                });
    }

    @Test
    void redeemsACodeOnlyOnceAndOnlyWithTheMatchingPkceVerifier() throws Exception {
        fake.signInAs(TENANT, ALICE);
        Pkce pkce = Pkce.create();

        String code = codeFor(pkce, DELEGATED_SCOPES);
        HttpResponse<String> wrongVerifier = redeemCode(code, REDIRECT, Pkce.create().verifier(), DELEGATED_SCOPES);
        assertEntraError(wrongVerifier, 400, "invalid_grant", 501481);
        // a code is burnt by a failed redemption; a new authorization gives a new one
        assertEntraError(redeemCode(code, REDIRECT, pkce.verifier(), DELEGATED_SCOPES), 400, "invalid_grant", 54005);
        assertEntraError(redeemCode(codeFor(pkce, DELEGATED_SCOPES), REDIRECT, null, DELEGATED_SCOPES), 400,
                "invalid_grant", 501481);
        assertEntraError(redeemCode(codeFor(pkce, DELEGATED_SCOPES), "https://app.example/other", pkce.verifier(),
                DELEGATED_SCOPES), 400, "invalid_client", 500112);
        assertEntraError(redeemCode("fake-ac-unknown", REDIRECT, pkce.verifier(), DELEGATED_SCOPES), 400,
                "invalid_grant", 70008);
        String expiring = codeFor(pkce, DELEGATED_SCOPES);
        fake.expireAuthorizationCodes();
        assertEntraError(redeemCode(expiring, REDIRECT, pkce.verifier(), DELEGATED_SCOPES), 400, "invalid_grant",
                70008);

        int issued = fake.tokensIssued();
        String good = codeFor(pkce, DELEGATED_SCOPES);
        HttpResponse<String> ok = redeemCode(good, REDIRECT, pkce.verifier(), DELEGATED_SCOPES);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        JsonNode body = json.readTree(ok.body());
        assertThat(fieldNames(body)).containsExactly("token_type", "scope", "expires_in", "ext_expires_in",
                "access_token", "refresh_token", "id_token", "client_info");
        assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
        assertThat(body.get("scope").asText().split(" ")).contains("https://graph.microsoft.com/Mail.ReadWrite",
                "offline_access", "openid", "profile");
        assertThat(body.get("expires_in").asInt()).isEqualTo(3600);
        assertThat(body.get("ext_expires_in").asInt()).isEqualTo(3600);
        assertThat(body.get("access_token").asText()).startsWith("fake-at-");
        assertThat(body.get("refresh_token").asText()).startsWith("fake-rt-");
        assertThat(fake.lastRefreshTokenIssued(ALICE)).hasValue(body.get("refresh_token").asText());
        assertThat(fake.tokensIssued()).isEqualTo(issued + 1);

        JsonNode clientInfo = json.readTree(Base64.getUrlDecoder().decode(body.get("client_info").asText()));
        assertThat(clientInfo.get("uid").asText()).isEqualTo(aliceOid);
        assertThat(clientInfo.get("utid").asText()).isEqualTo(fake.tenantId(TENANT));

        String[] jwt = body.get("id_token").asText().split("\\.");
        assertThat(jwt).hasSize(3);
        JsonNode header = json.readTree(Base64.getUrlDecoder().decode(jwt[0]));
        assertThat(header.get("alg").asText()).isEqualTo("RS256");
        JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(jwt[1]));
        assertThat(claims.get("aud").asText()).isEqualTo(CLIENT_ID);
        assertThat(claims.get("iss").asText()).isEqualTo(fake.authorityHost() + "/" + fake.tenantId(TENANT) + "/v2.0");
        assertThat(claims.get("tid").asText()).isEqualTo(fake.tenantId(TENANT));
        assertThat(claims.get("oid").asText()).isEqualTo(aliceOid).isEqualTo(fake.mailbox(ALICE).userId());
        assertThat(claims.get("sub").asText()).isNotBlank();
        assertThat(claims.get("preferred_username").asText()).isEqualTo(ALICE);
        assertThat(claims.get("name").asText()).isEqualTo("Alice Example");
        long now = Instant.now().getEpochSecond();
        assertThat(claims.get("iat").asLong()).isBetween(now - 60, now + 1);
        assertThat(claims.get("nbf").asLong()).isLessThanOrEqualTo(now + 1);
        assertThat(claims.get("exp").asLong()).isGreaterThan(now);
        assertThat(verifiesWithPublishedKey(jwt, header.get("kid").asText())).isTrue();

        assertEntraError(redeemCode(good, REDIRECT, pkce.verifier(), DELEGATED_SCOPES), 400, "invalid_grant", 54005);

        // refresh_token only with offline_access, id_token only with openid
        String mailOnly = "https://graph.microsoft.com/Mail.ReadWrite";
        HttpResponse<String> bare = redeemCode(codeFor(pkce, mailOnly), REDIRECT, pkce.verifier(), mailOnly);
        assertThat(bare.statusCode()).as(bare.body()).isEqualTo(200);
        assertThat(fieldNames(json.readTree(bare.body()))).doesNotContain("refresh_token", "id_token");

        assertThat(fake.tokenRequests()).filteredOn(r -> "authorization_code".equals(r.grantType())).hasSize(9)
                .allSatisfy(r -> assertThat(r.toString() + r.query()).doesNotContain(SECRET, pkce.verifier()));
    }

    @Test
    void refreshRotatesTheRefreshTokenAndCanRevokeTheOldOne() throws Exception {
        fake.signInAs(TENANT, ALICE);
        String rt1 = signIn(DELEGATED_SCOPES).get("refresh_token").asText();
        int redemptions = fake.refreshRedemptions();

        JsonNode second = refresh(rt1, DELEGATED_SCOPES);
        String rt2 = second.get("refresh_token").asText();
        assertThat(rt2).startsWith("fake-rt-").isNotEqualTo(rt1);
        assertThat(second.get("access_token").asText()).startsWith("fake-at-");
        assertThat(second.has("id_token") && second.has("client_info")).isTrue();
        assertThat(fake.lastRefreshTokenIssued(ALICE)).hasValue(rt2);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 1);
        // Entra does not revoke the old one
        String rt3 = refresh(rt1, DELEGATED_SCOPES).get("refresh_token").asText();
        assertThat(rt3).isNotIn(rt1, rt2);
        // scope may be left out: the grant's scopes are used
        HttpResponse<String> noScope = post(tokenHttp, fake.tokenEndpoint(TENANT), "grant_type=refresh_token"
                + "&refresh_token=" + enc(rt2) + "&client_id=" + enc(CLIENT_ID) + "&client_secret=" + enc(SECRET));
        assertThat(noScope.statusCode()).as(noScope.body()).isEqualTo(200);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 3);

        fake.revokeOldRefreshTokensOnRotation(true);
        String rt4 = refresh(rt3, DELEGATED_SCOPES).get("refresh_token").asText();
        assertEntraError(refreshRequest(rt3, DELEGATED_SCOPES), 400, "invalid_grant", 70008);
        assertThat(refreshRequest(rt4, DELEGATED_SCOPES).statusCode()).isEqualTo(200);
        assertEntraError(refreshRequest(rt4, DELEGATED_SCOPES), 400, "invalid_grant", 70008);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 5);

        // scopes beyond the consent need a new authorization
        assertEntraError(refreshRequest(fake.lastRefreshTokenIssued(ALICE).orElseThrow(),
                "https://graph.microsoft.com/Calendars.Read offline_access"), 400, "invalid_grant", 65001);
        assertEntraError(refreshRequest("fake-rt-forged", DELEGATED_SCOPES), 400, "invalid_grant", 70000);
        // credentials sent in the query string (wrong, but it happens) are masked in the log
        post(tokenHttp, fake.tokenEndpoint(TENANT) + "?refresh_token=" + enc(rt4) + "&client_secret=" + enc(SECRET),
                "grant_type=refresh_token&client_id=" + enc(CLIENT_ID));
        assertThat(fake.tokenRequests().get(fake.tokenRequests().size() - 1).query())
                .isEqualTo("refresh_token=***&client_secret=***");
        assertThat(fake.tokenRequests()).filteredOn(r -> "refresh_token".equals(r.grantType()))
                .allSatisfy(r -> assertThat(r.toString() + r.query()).doesNotContain(SECRET, rt1, rt2, rt3, rt4));
    }

    @Test
    void revokedGrantsExpiredSecretsAndTransientFaultsLookLikeEntra() throws Exception {
        fake.signInAs(TENANT, CAROL);
        String rt = signIn(DELEGATED_SCOPES).get("refresh_token").asText();
        assertThat(refreshRequest(rt, DELEGATED_SCOPES).statusCode()).isEqualTo(200);

        fake.revokeGrants(TENANT, CAROL, 50173);
        HttpResponse<String> revoked = refreshRequest(rt, DELEGATED_SCOPES);
        JsonNode error = assertEntraError(revoked, 400, "invalid_grant", 50173);
        assertThat(error.get("error_description").asText())
                .startsWith("AADSTS50173: The provided grant has expired due to it being revoked")
                .contains("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: ");
        assertThat(error.get("error_uri").asText()).endsWith("?code=50173");
        assertThat(error.has("timestamp") && error.has("trace_id") && error.has("correlation_id")).isTrue();
        // the rotated successor is revoked too, and a new sign-in works again
        assertEntraError(refreshRequest(fake.lastRefreshTokenIssued(CAROL).orElseThrow(), DELEGATED_SCOPES), 400,
                "invalid_grant", 50173);
        String fresh = signIn(DELEGATED_SCOPES).get("refresh_token").asText();
        assertThat(refreshRequest(fresh, DELEGATED_SCOPES).statusCode()).isEqualTo(200);
        fake.revokeGrants(TENANT, CAROL, 700082);
        assertThat(assertEntraError(refreshRequest(fresh, DELEGATED_SCOPES), 400, "invalid_grant", 700082)
                .get("error_description").asText()).startsWith("AADSTS700082: The refresh token has expired due to "
                + "inactivity.");

        // transient faults apply to the delegated grants; a code survives a 503
        fake.signInAs(TENANT, ALICE);
        Pkce pkce = Pkce.create();
        String code = codeFor(pkce, DELEGATED_SCOPES);
        FaultHandle unavailable = fake.fault(Fault.tokenUnavailable().retryAfter(1));
        HttpResponse<String> busy = redeemCode(code, REDIRECT, pkce.verifier(), DELEGATED_SCOPES);
        assertEntraError(busy, 503, "temporarily_unavailable", 50033);
        assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
        HttpResponse<String> retried = redeemCode(code, REDIRECT, pkce.verifier(), DELEGATED_SCOPES);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(unavailable.fired()).isEqualTo(1);
        String aliceRt = json.readTree(retried.body()).get("refresh_token").asText();
        FaultHandle refreshOnly = fake.fault(Fault.tokenUnavailable().forGrantType("refresh_token"));
        assertThat(tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE).statusCode()).isEqualTo(200);
        assertEntraError(refreshRequest(aliceRt, DELEGATED_SCOPES), 503, "temporarily_unavailable", 50033);
        assertThat(refreshOnly.fired()).isEqualTo(1);
        assertThat(refreshRequest(aliceRt, DELEGATED_SCOPES).statusCode()).isEqualTo(200);

        // an expired client secret fails every grant of that client
        fake.registerClient(TENANT, OTHER_CLIENT_ID, SECRET);
        fake.registerRedirectUri(TENANT, OTHER_CLIENT_ID, REDIRECT);
        String otherCode = queryParams(tokenHttp.send(HttpRequest.newBuilder(URI.create(fake.authorizeEndpoint(TENANT)
                + "?client_id=" + OTHER_CLIENT_ID + "&response_type=code&response_mode=query&redirect_uri="
                + enc(REDIRECT) + "&scope=" + enc(DELEGATED_SCOPES))).build(), HttpResponse.BodyHandlers.ofString())
                .headers().firstValue("Location").orElseThrow()).get("code");
        fake.expireClientSecret(TENANT, OTHER_CLIENT_ID);
        JsonNode expired = assertEntraError(post(tokenHttp, fake.tokenEndpoint(TENANT), form(OTHER_CLIENT_ID, SECRET,
                GRAPH_SCOPE)), 401, "invalid_client", 7000222);
        assertThat(expired.get("error_description").asText()).startsWith("AADSTS7000222: The provided client secret "
                + "keys for app '" + OTHER_CLIENT_ID + "' are expired.");
        assertEntraError(post(tokenHttp, fake.tokenEndpoint(TENANT), "grant_type=authorization_code&code="
                + enc(otherCode) + "&redirect_uri=" + enc(REDIRECT) + "&client_id=" + OTHER_CLIENT_ID
                + "&client_secret=" + enc(SECRET) + "&scope=" + enc(DELEGATED_SCOPES)), 401, "invalid_client", 7000222);
        assertEntraError(post(tokenHttp, fake.tokenEndpoint(TENANT), form(OTHER_CLIENT_ID, "wrong", GRAPH_SCOPE)), 401,
                "invalid_client", 7000215);
        fake.registerClient(TENANT, OTHER_CLIENT_ID, "a-new-secret");
        assertThat(post(tokenHttp, fake.tokenEndpoint(TENANT), form(OTHER_CLIENT_ID, "a-new-secret", GRAPH_SCOPE))
                .statusCode()).isEqualTo(200);
    }

    @Test
    void aTenantWithoutUserConsentNeedsAnAdministratorsConsentForEveryUser() throws Exception {
        String tenant = "fabrikam-tenant";   // a tenant of its own: the other tests' users may consent
        String admin = "admin@fabrikam.example";
        String user = "dana@fabrikam.example";
        fake.registerClient(tenant, CLIENT_ID, SECRET).registerRedirectUri(tenant, CLIENT_ID, REDIRECT);
        fake.registerUser(tenant, admin, "Fabrikam Admin");
        fake.registerUser(tenant, user, "Dana");
        fake.makeTenantAdmin(tenant, admin).disableUserConsent(tenant);
        String mail = "https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/Mail.ReadWrite.Shared";
        Pkce pkce = Pkce.create();
        java.util.function.Function<String, String> authorizeUrl = state -> fake.authorizeEndpoint(tenant)
                + "?client_id=" + enc(CLIENT_ID) + "&response_type=code&redirect_uri=" + enc(REDIRECT) + "&scope="
                + enc(mail + " openid profile offline_access") + "&state=" + enc(state) + "&code_challenge="
                + pkce.challenge() + "&code_challenge_method=S256&response_mode=query";

        // a user may not consent: sent back to the app with access_denied AADSTS90094, no code
        fake.signInAs(tenant, user);
        Map<String, String> refused = queryParams(send(tokenHttp, HttpRequest.newBuilder(URI.create(
                authorizeUrl.apply("u1"))).build()).headers().firstValue("Location").orElseThrow());
        assertThat(refused).containsEntry("error", "access_denied").containsEntry("state", "u1")
                .doesNotContainKey("code");
        assertThat(refused.get("error_description")).startsWith("AADSTS90094: " + CLIENT_ID + " needs permission to "
                + "access resources in your organization that only an admin can grant.");

        // the admin consent endpoint checks the client and the redirect URI like the authorize endpoint
        java.util.function.BiFunction<String, String, String> consentUrl = (redirect, state) ->
                fake.adminConsentEndpoint(tenant) + "?client_id=" + enc(CLIENT_ID) + "&scope=" + enc(mail)
                        + "&redirect_uri=" + enc(redirect) + "&state=" + enc(state);
        HttpResponse<String> mismatch = send(tokenHttp, HttpRequest.newBuilder(URI.create(
                consentUrl.apply("https://evil.example/callback", "s"))).build());
        assertThat(mismatch.statusCode()).isEqualTo(400);
        assertThat(mismatch.headers().firstValue("Location")).isEmpty();
        assertThat(mismatch.body()).contains("AADSTS50011").doesNotContain("admin_consent");
        assertThat(send(tokenHttp, HttpRequest.newBuilder(URI.create(fake.adminConsentEndpoint(tenant)
                + "?client_id=nobody&scope=openid&redirect_uri=" + enc(REDIRECT))).build()).body())
                .contains("AADSTS700016");

        // a user who is no administrator cannot consent for the tenant
        Map<String, String> notAdmin = queryParams(send(tokenHttp, HttpRequest.newBuilder(URI.create(
                consentUrl.apply(REDIRECT, "a0"))).build()).headers().firstValue("Location").orElseThrow());
        assertThat(notAdmin).containsEntry("admin_consent", "True").containsEntry("error", "access_denied")
                .containsEntry("state", "a0");
        assertThat(notAdmin.get("error_description")).startsWith("AADSTS90093: ");

        // the administrator declines: an error with the state, nothing consented
        fake.signInAs(tenant, admin);
        fake.failNextAdminConsent("consent_required",
                "AADSTS65004: The resource owner or authorization server denied the request.");
        HttpResponse<String> declined = send(tokenHttp, HttpRequest.newBuilder(URI.create(
                consentUrl.apply(REDIRECT, "a1"))).build());
        assertThat(declined.statusCode()).isEqualTo(302);
        assertThat(queryParams(declined.headers().firstValue("Location").orElseThrow()))
                .containsEntry("admin_consent", "True").containsEntry("error", "consent_required")
                .containsEntry("state", "a1").containsKey("error_description").doesNotContainKey("tenant");
        assertThat(fake.adminConsentedScopes(tenant, CLIENT_ID)).isEmpty();

        // the administrator consents for the tenant: back with admin_consent=True, the tenant id and the scopes
        HttpResponse<String> granted = send(tokenHttp, HttpRequest.newBuilder(URI.create(
                consentUrl.apply(REDIRECT, "a2 & more"))).build());
        assertThat(granted.statusCode()).isEqualTo(302);
        String location = granted.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith(REDIRECT + "?admin_consent=True&");
        assertThat(queryParams(location)).containsEntry("tenant", fake.tenantId(tenant)).containsEntry("scope", mail)
                .containsEntry("state", "a2 & more").doesNotContainKey("error");
        assertThat(fake.adminConsentedScopes(tenant, CLIENT_ID)).containsExactlyInAnyOrder(
                "https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/Mail.ReadWrite.Shared");

        // now the user signs in without consenting, and the code is redeemed to the consented scopes
        fake.signInAs(tenant, user);
        Map<String, String> code = queryParams(send(tokenHttp, HttpRequest.newBuilder(URI.create(
                authorizeUrl.apply("u2"))).build()).headers().firstValue("Location").orElseThrow());
        assertThat(code).containsKey("code").doesNotContainKey("error");
        HttpResponse<String> tokens = post(tokenHttp, fake.tokenEndpoint(tenant), "grant_type=authorization_code"
                + "&code=" + enc(code.get("code")) + "&redirect_uri=" + enc(REDIRECT) + "&code_verifier="
                + enc(pkce.verifier()) + "&client_id=" + enc(CLIENT_ID) + "&client_secret=" + enc(SECRET)
                + "&scope=" + enc(mail + " offline_access"));
        assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
        String refreshToken = json.readTree(tokens.body()).get("refresh_token").asText();
        String refresh = "grant_type=refresh_token&refresh_token=" + enc(refreshToken) + "&client_id="
                + enc(CLIENT_ID) + "&client_secret=" + enc(SECRET) + "&scope=" + enc(mail + " offline_access");
        assertThat(post(tokenHttp, fake.tokenEndpoint(tenant), refresh).statusCode()).isEqualTo(200);

        // an administrator withdraws the app's permissions: the next refresh needs consent again
        fake.revokeConsents(tenant, CLIENT_ID);
        assertEntraError(post(tokenHttp, fake.tokenEndpoint(tenant), refresh), 400, "invalid_grant", 65001);
        assertThat(fake.adminConsentedScopes(tenant, CLIENT_ID)).isEmpty();
        assertThat(fake.tokenRequests()).filteredOn(r -> r.path().endsWith("/adminconsent")).hasSize(5)
                .allSatisfy(r -> assertThat(r.method()).isEqualTo("GET"));
    }

    @Test
    void delegatedTokensOpenTheUsersOwnAndGrantedMailboxesOnly() throws Exception {
        fake.mailbox(ALICE);
        fake.mailbox(BOB);
        fake.mailbox(SHARED);
        fake.signInAs(TENANT, ALICE);
        String token = signIn(DELEGATED_SCOPES).get("access_token").asText();

        assertThat(get(fake.graphBaseUrl() + "/users/" + ALICE + "/mailFolders", token).statusCode()).isEqualTo(200);
        assertThat(get(fake.graphBaseUrl() + "/me/mailFolders/inbox", token).statusCode()).isEqualTo(200);
        HttpResponse<String> notGranted = get(fake.graphBaseUrl() + "/users/" + SHARED + "/mailFolders", token);
        assertThat(notGranted.statusCode()).isEqualTo(403);
        assertThat(json.readTree(notGranted.body()).at("/error/code").asText()).isEqualTo("ErrorAccessDenied");
        assertThat(json.readTree(notGranted.body()).at("/error/message").asText())
                .isEqualTo("Access is denied. Check credentials and try again.");

        fake.grantMailboxAccess(ALICE, SHARED.toUpperCase(Locale.ROOT));
        try {
            assertThat(get(fake.graphBaseUrl() + "/users/" + SHARED + "/mailFolders", token).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> otherUser = get(fake.graphBaseUrl() + "/users/" + BOB + "/mailFolders", token);
            assertThat(otherUser.statusCode()).isEqualTo(403);
            assertThat(json.readTree(otherUser.body()).at("/error/code").asText()).isEqualTo("ErrorAccessDenied");
            // a shared mailbox needs a .Shared permission
            String ownOnly = fake.mintDelegatedToken(TENANT, ALICE, "Mail.ReadWrite");
            assertThat(get(fake.graphBaseUrl() + "/users/" + SHARED + "/mailFolders", ownOnly).statusCode())
                    .isEqualTo(403);
            assertThat(get(fake.graphBaseUrl() + "/users/" + ALICE + "/mailFolders", ownOnly).statusCode())
                    .isEqualTo(200);
        } finally {
            fake.revokeMailboxAccess(ALICE, SHARED);
        }
        assertThat(get(fake.graphBaseUrl() + "/users/" + SHARED + "/mailFolders", token).statusCode()).isEqualTo(403);
        // app-only tokens are not limited to a user
        assertThat(get(fake.graphBaseUrl() + "/users/" + BOB + "/mailFolders", httpToken()).statusCode())
                .isEqualTo(200);
        assertThat(get(fake.graphBaseUrl() + "/me/mailFolders", httpToken()).statusCode()).isEqualTo(400);
        assertThat(fake.graphRequests()).allSatisfy(r -> assertThat(r.toString()).doesNotContain(token));
    }

    @Test
    void msal4jRunsTheAuthorizationCodeFlowWithPkceAndASilentRefresh() throws Exception {
        fake.mailbox(ALICE);
        fake.signInAs(TENANT, ALICE);
        String authority = fake.authority(TENANT);
        ConfidentialClientApplication app = ConfidentialClientApplication
                .builder(CLIENT_ID, ClientCredentialFactory.createFromSecret(SECRET))
                .authority(authority)
                .instanceDiscovery(false)
                .validateAuthority(false)
                .sslSocketFactory(fake.clientSslContext().getSocketFactory())
                .build();
        Set<String> scopes = Set.of("https://graph.microsoft.com/Mail.ReadWrite",
                "https://graph.microsoft.com/Mail.ReadWrite.Shared");
        Pkce pkce = Pkce.create();
        String state = UUID.randomUUID().toString();

        URL url = app.getAuthorizationRequestUrl(AuthorizationRequestUrlParameters.builder(REDIRECT, scopes)
                .codeChallenge(pkce.challenge()).codeChallengeMethod("S256").state(state)
                .responseMode(ResponseMode.FORM_POST).build());
        assertThat(url.toString()).startsWith(fake.authorizeEndpoint(TENANT) + "?");
        HttpResponse<String> page = send(tokenHttp, HttpRequest.newBuilder(url.toURI()).build());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        PostedForm form = PostedForm.parse(page.body());
        assertThat(form.action()).isEqualTo(REDIRECT);
        assertThat(form.fields().get("state")).isEqualTo(state);

        IAuthenticationResult first = app.acquireToken(AuthorizationCodeParameters
                .builder(form.fields().get("code"), URI.create(REDIRECT)).scopes(scopes)
                .codeVerifier(pkce.verifier()).build()).get(30, TimeUnit.SECONDS);
        assertThat(first.accessToken()).startsWith("fake-at-");
        assertThat(first.account().username()).isEqualTo(ALICE);
        assertThat(first.account().homeAccountId()).isEqualTo(aliceOid + "." + fake.tenantId(TENANT));
        Set<IAccount> accounts = app.getAccounts().get(30, TimeUnit.SECONDS);
        assertThat(accounts).hasSize(1);
        String firstRefreshToken = fake.lastRefreshTokenIssued(ALICE).orElseThrow();

        // old refresh tokens die on rotation: the second refresh works only if msal4j kept the rotated one
        fake.revokeOldRefreshTokensOnRotation(true);
        int redemptions = fake.refreshRedemptions();
        IAuthenticationResult refreshed = app.acquireTokenSilently(SilentParameters
                .builder(scopes, accounts.iterator().next()).forceRefresh(true).authorityUrl(authority).build())
                .get(30, TimeUnit.SECONDS);
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 1);
        assertThat(refreshed.accessToken()).startsWith("fake-at-").isNotEqualTo(first.accessToken());
        assertThat(refreshed.metadata().tokenSource()).isEqualTo(TokenSource.IDENTITY_PROVIDER);
        assertThat(get(fake.graphBaseUrl() + "/users/" + ALICE + "/mailFolders", refreshed.accessToken())
                .statusCode()).isEqualTo(200);
        assertEntraError(refreshRequest(firstRefreshToken, String.join(" ", scopes) + " offline_access"), 400,
                "invalid_grant", 70008);
        IAuthenticationResult again = app.acquireTokenSilently(SilentParameters.builder(scopes,
                accounts.iterator().next()).forceRefresh(true).authorityUrl(authority).build())
                .get(30, TimeUnit.SECONDS);
        assertThat(again.accessToken()).isNotIn(first.accessToken(), refreshed.accessToken());
        assertThat(fake.refreshRedemptions()).isEqualTo(redemptions + 2);

        // a revoked grant reaches the caller as MsalInteractionRequiredException with Entra's code
        fake.revokeGrants(TENANT, ALICE, 50173);
        assertThatThrownBy(() -> app.acquireTokenSilently(SilentParameters.builder(scopes,
                accounts.iterator().next()).forceRefresh(true).authorityUrl(authority).build()).get(30,
                TimeUnit.SECONDS)).hasCauseInstanceOf(MsalInteractionRequiredException.class)
                .hasMessageContaining("AADSTS50173");

        List<LoggedRequest> grants = fake.tokenRequests().stream().filter(r -> r.grantType() != null).toList();
        assertThat(grants).extracting(LoggedRequest::grantType).containsExactly("authorization_code",
                "refresh_token", "refresh_token", "refresh_token", "refresh_token");
        assertThat(grants).allSatisfy(r -> assertThat(r.clientId()).isEqualTo(CLIENT_ID));
    }

    // ================================================================== certificate credentials

    @Test
    void msal4jGetsAppTokensWithAPemCertificateAndAnUnregisteredCertificateIsRefused(@TempDir Path dir)
            throws Exception {
        TestClientCertificate cert = TestClientCertificate.generate(dir);
        TestClientCertificate unregistered = TestClientCertificate.generate(dir, "not-registered", -1, 30);
        fake.registerCertificate(TENANT, CLIENT_ID, cert.certificate());
        assertThat(cert.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----\n")
                .endsWith("-----END PRIVATE KEY-----\n");
        assertThat(cert.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----\n")
                .endsWith("-----END CERTIFICATE-----\n");

        // the key and certificate as an application would read them from PEM files
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pemBlock(
                cert.privateKeyPem(), "PRIVATE KEY")));
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(pemBlock(cert.certificatePem(), "CERTIFICATE")));
        int before = fake.tokensIssued();
        IAuthenticationResult result = certificateApp(ClientCredentialFactory.createFromCertificate(key, certificate))
                .acquireToken(ClientCredentialParameters.builder(Set.of(GRAPH_SCOPE)).build()).get(30,
                        TimeUnit.SECONDS);
        assertThat(result.accessToken()).startsWith("fake-at-");
        assertThat(fake.tokensIssued()).isEqualTo(before + 1);
        fake.mailbox("scans@contoso.example");
        assertThat(get(fake.graphBaseUrl() + "/users/scans@contoso.example/mailFolders", result.accessToken())
                .statusCode()).isEqualTo(200);
        // the secret still works next to the certificate
        assertThat(tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE).statusCode()).isEqualTo(200);

        ConfidentialClientApplication wrong = certificateApp(ClientCredentialFactory.createFromCertificate(
                unregistered.privateKey(), unregistered.certificate()));
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> wrong.acquireToken(ClientCredentialParameters.builder(Set.of(GRAPH_SCOPE)).build())
                        .get(30, TimeUnit.SECONDS));
        assertThat(e.getCause()).isInstanceOf(MsalServiceException.class)
                .hasMessageContaining("AADSTS700027").hasMessageContaining("The key was not found")
                .hasMessageContaining(unregistered.thumbprintSha256());     // msal4j sends x5t#S256 only
        MsalServiceException refused = (MsalServiceException) e.getCause();
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.errorCode()).isEqualTo("invalid_client");
        assertThat(fake.tokenRequests()).extracting(LoggedRequest::status).containsExactly(200, 200, 401);
    }

    @Test
    void msal4jRunsTheAuthorizationCodeFlowAndRefreshWithAPkcs12Certificate(@TempDir Path dir) throws Exception {
        TestClientCertificate cert = TestClientCertificate.generate(dir);
        fake.registerCertificate(TENANT, CLIENT_ID, cert.certificate());
        fake.mailbox(BOB);
        fake.signInAs(TENANT, BOB);
        IClientCredential credential;
        try (InputStream in = Files.newInputStream(cert.pkcs12())) {
            credential = ClientCredentialFactory.createFromCertificate(in, cert.password());
        }
        ConfidentialClientApplication app = certificateApp(credential);
        Set<String> scopes = Set.of("https://graph.microsoft.com/Mail.ReadWrite");
        Pkce pkce = Pkce.create();
        URL url = app.getAuthorizationRequestUrl(AuthorizationRequestUrlParameters.builder(REDIRECT, scopes)
                .codeChallenge(pkce.challenge()).codeChallengeMethod("S256").state("s").build());
        HttpResponse<String> page = send(tokenHttp, HttpRequest.newBuilder(url.toURI()).build());
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);              // msal4j asks for form_post
        String code = PostedForm.parse(page.body()).fields().get("code");

        IAuthenticationResult first = app.acquireToken(AuthorizationCodeParameters.builder(code,
                URI.create(REDIRECT)).scopes(scopes).codeVerifier(pkce.verifier()).build()).get(30, TimeUnit.SECONDS);
        assertThat(first.account().username()).isEqualTo(BOB);
        IAuthenticationResult refreshed = app.acquireTokenSilently(SilentParameters.builder(scopes, first.account())
                .forceRefresh(true).authorityUrl(fake.authority(TENANT)).build()).get(30, TimeUnit.SECONDS);
        assertThat(refreshed.accessToken()).startsWith("fake-at-").isNotEqualTo(first.accessToken());
        assertThat(get(fake.graphBaseUrl() + "/users/" + BOB + "/mailFolders", refreshed.accessToken())
                .statusCode()).isEqualTo(200);
        assertThat(fake.tokenRequests().stream().filter(r -> r.grantType() != null).toList())
                .extracting(LoggedRequest::grantType, LoggedRequest::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("authorization_code", 200),
                        org.assertj.core.groups.Tuple.tuple("refresh_token", 200));
    }

    @Test
    void checksClientAssertionsLikeEntra(@TempDir Path dir) throws Exception {
        TestClientCertificate cert = TestClientCertificate.generate(dir);
        TestClientCertificate expiredCert = TestClientCertificate.generate(dir, "expired", -40, 30);
        String certOnly = "77777777-2222-3333-4444-555555555555";
        fake.registerCertificate(TENANT, certOnly, cert.certificate());
        fake.registerCertificate(TENANT, certOnly, expiredCert.certificate());
        String audience = fake.tokenEndpoint(TENANT);
        Instant now = Instant.now();

        // an assertion that expired a minute ago, and one not valid for another minute
        assertEntraError(assertionRequest(certOnly, cert.clientAssertion(certOnly, audience,
                now.minusSeconds(660), now.minusSeconds(60))), 401, "invalid_client", 700024);
        assertEntraError(assertionRequest(certOnly, cert.clientAssertion(certOnly, audience,
                now.plusSeconds(60), now.plusSeconds(600))), 401, "invalid_client", 700024);

        // a good one works once; the tenant-id form of the audience and the v1 endpoint are accepted too
        String good = cert.clientAssertion(certOnly, audience, now.minusSeconds(5), now.plusSeconds(600));
        assertThat(assertionRequest(certOnly, good).statusCode()).isEqualTo(200);
        assertEntraError(assertionRequest(certOnly, good), 401, "invalid_client", 7000290);
        assertThat(assertionRequest(certOnly, cert.clientAssertion(certOnly, fake.authorityHost() + "/"
                + fake.tenantId(TENANT) + "/oauth2/v2.0/token", null, now.plusSeconds(600))).statusCode())
                .isEqualTo(200);
        assertThat(assertionRequest(certOnly, cert.clientAssertion(certOnly, fake.authorityHost() + "/"
                + TENANT + "/oauth2/token", null, now.plusSeconds(600))).statusCode()).isEqualTo(200);

        // PS256 with only x5t#S256; RS256 with only x5t (standard base64 with padding, as msal4j sends it)
        Map<String, Object> claims = new LinkedHashMap<>(Map.of("aud", audience, "iss", certOnly, "sub", certOnly,
                "exp", now.plusSeconds(600).getEpochSecond()));
        claims.put("jti", UUID.randomUUID().toString());
        assertThat(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "PS256", "typ", "JWT", "x5t#S256",
                cert.x5tS256()), claims)).statusCode()).isEqualTo(200);
        claims.put("jti", UUID.randomUUID().toString());
        String standardSha1 = Base64.getEncoder().encodeToString(Base64.getUrlDecoder().decode(cert.x5t()));
        assertThat(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "RS256", "x5t", standardSha1), claims))
                .statusCode()).isEqualTo(200);

        // signature, thumbprint, key validity, algorithm
        claims.put("jti", UUID.randomUUID().toString());
        String[] parts = cert.signJwt(Map.of("alg", "RS256", "x5t", cert.x5t()), claims).split("\\.");
        String tampered = parts[0] + "." + parts[1] + "." + (parts[2].startsWith("A") ? "B" : "A")
                + parts[2].substring(1);
        assertThat(assertEntraError(assertionRequest(certOnly, tampered), 401, "invalid_client", 700027)
                .get("error_description").asText()).contains("signature validation").contains(cert.thumbprint());
        assertEntraError(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "RS256", "x5t",
                expiredCert.x5t()), claims)), 401, "invalid_client", 700027);
        assertThat(assertEntraError(assertionRequest(certOnly, expiredCert.clientAssertion(certOnly, audience, null,
                now.plusSeconds(600))), 401, "invalid_client", 700027).get("error_description").asText())
                .contains("The key used is expired");
        assertEntraError(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "RS256"), claims)), 401,
                "invalid_client", 50027);
        assertEntraError(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "HS256", "x5t", cert.x5t()),
                claims)), 401, "invalid_client", 50027);
        assertEntraError(assertionRequest(certOnly, "not-a-jwt"), 401, "invalid_client", 50027);

        // claims: issuer, audience, jti
        assertEntraError(assertionRequest(certOnly, cert.clientAssertion(CLIENT_ID, audience, null,
                now.plusSeconds(600))), 401, "invalid_client", 700021);
        assertEntraError(assertionRequest(certOnly, cert.clientAssertion(certOnly, fake.tokenEndpoint("other"),
                null, now.plusSeconds(600))), 401, "invalid_client", 700023);
        claims.remove("jti");
        assertEntraError(assertionRequest(certOnly, cert.signJwt(Map.of("alg", "RS256", "x5t", cert.x5t()),
                claims)), 401, "invalid_client", 50027);

        // the certificate belongs to certOnly only; certOnly has no secret; one credential per request
        assertEntraError(assertionRequest(CLIENT_ID, cert.clientAssertion(CLIENT_ID, audience, null,
                now.plusSeconds(600))), 401, "invalid_client", 700027);
        assertEntraError(tokenRequest(certOnly, SECRET, GRAPH_SCOPE), 401, "invalid_client", 7000215);
        assertEntraError(post(tokenHttp, audience, form(certOnly, SECRET, GRAPH_SCOPE)
                + "&client_assertion_type=" + enc(TestClientCertificate.JWT_BEARER) + "&client_assertion="
                + cert.clientAssertion(certOnly, audience, null, now.plusSeconds(600))), 400, "invalid_request",
                7000291);
        assertEntraError(post(tokenHttp, audience, "grant_type=client_credentials&client_id=" + certOnly
                + "&scope=" + enc(GRAPH_SCOPE) + "&client_assertion=" + good), 400, "invalid_request", 900144);

        // replays allowed when switched off
        fake.rejectReusedClientAssertions(false);
        try {
            assertThat(assertionRequest(certOnly, good).statusCode()).isEqualTo(200);
        } finally {
            fake.rejectReusedClientAssertions(true);
        }
        assertThat(fake.tokenRequests()).allSatisfy(r -> assertThat(r.toString()).doesNotContain(parts[2]));
    }

    // ================================================================== helpers

    // ------------------------------------------------------------------ certificate helpers

    private ConfidentialClientApplication certificateApp(IClientCredential credential) throws Exception {
        return ConfidentialClientApplication.builder(CLIENT_ID, credential)
                .authority(fake.authority(TENANT))
                .instanceDiscovery(false)
                .validateAuthority(false)
                .sslSocketFactory(fake.clientSslContext().getSocketFactory())
                .build();
    }

    private HttpResponse<String> assertionRequest(String clientId, String assertion) throws Exception {
        return post(tokenHttp, fake.tokenEndpoint(TENANT), "grant_type=client_credentials&client_id=" + enc(clientId)
                + "&scope=" + enc(GRAPH_SCOPE) + "&client_assertion_type=" + enc(TestClientCertificate.JWT_BEARER)
                + "&client_assertion=" + enc(assertion));
    }

    private static byte[] pemBlock(String pem, String type) {
        String body = pem.substring(pem.indexOf("-----BEGIN " + type + "-----") + type.length() + 16,
                pem.indexOf("-----END " + type + "-----"));
        return Base64.getMimeDecoder().decode(body);
    }

    // ------------------------------------------------------------------ delegated helpers

    /** A PKCE pair: a 43-character verifier and its S256 challenge. */
    private record Pkce(String verifier, String challenge) {
        static Pkce create() throws Exception {
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest
                    .getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
            return new Pkce(verifier, challenge);
        }
    }

    /** The auto-submitting form of a {@code response_mode=form_post} answer, with HTML entities decoded. */
    private record PostedForm(String method, String action, Map<String, String> fields) {
        private static final Pattern FORM = Pattern.compile("<form\\s+method=\"([^\"]*)\"[^>]*?action=\"([^\"]*)\"");
        private static final Pattern INPUT = Pattern.compile(
                "<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\"\\s*/>");

        static PostedForm parse(String html) {
            Matcher form = FORM.matcher(html);
            assertThat(form.find()).as(html).isTrue();
            Map<String, String> fields = new LinkedHashMap<>();
            Matcher input = INPUT.matcher(html);
            while (input.find()) {
                fields.put(unescape(input.group(1)), unescape(input.group(2)));
            }
            return new PostedForm(form.group(1), unescape(form.group(2)), fields);
        }

        private static String unescape(String s) {
            return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                    .replace("&amp;", "&");
        }
    }

    private HttpResponse<String> authorize(String responseMode, String redirectUri, String state, Pkce pkce,
                                           String scope) throws Exception {
        String url = fake.authorizeEndpoint(TENANT) + "?client_id=" + enc(CLIENT_ID) + "&response_type=code"
                + "&redirect_uri=" + enc(redirectUri) + "&scope=" + enc(scope) + "&state=" + enc(state)
                + "&code_challenge=" + pkce.challenge() + "&code_challenge_method=S256&response_mode=" + responseMode
                + "&prompt=select_account&login_hint=" + enc(ALICE);
        return send(tokenHttp, HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build());
    }

    /** Runs the authorize endpoint (query mode) and returns the code. */
    private String codeFor(Pkce pkce, String scope) throws Exception {
        HttpResponse<String> response = authorize("query", REDIRECT, "s", pkce, scope);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(302);
        return queryParams(response.headers().firstValue("Location").orElseThrow()).get("code");
    }

    private HttpResponse<String> redeemCode(String code, String redirectUri, String verifier, String scope)
            throws Exception {
        return post(tokenHttp, fake.tokenEndpoint(TENANT), "grant_type=authorization_code&code=" + enc(code)
                + "&redirect_uri=" + enc(redirectUri) + (verifier == null ? "" : "&code_verifier=" + enc(verifier))
                + "&client_id=" + enc(CLIENT_ID) + "&client_secret=" + enc(SECRET) + "&scope=" + enc(scope)
                + "&client_info=1");
    }

    /** Authorize + code redemption for the signed-in user; returns the token response. */
    private JsonNode signIn(String scope) throws Exception {
        Pkce pkce = Pkce.create();
        HttpResponse<String> response = redeemCode(codeFor(pkce, scope), REDIRECT, pkce.verifier(), scope);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json.readTree(response.body());
    }

    private HttpResponse<String> refreshRequest(String refreshToken, String scope) throws Exception {
        return post(tokenHttp, fake.tokenEndpoint(TENANT), "grant_type=refresh_token&refresh_token="
                + enc(refreshToken) + "&client_id=" + enc(CLIENT_ID) + "&client_secret=" + enc(SECRET) + "&scope="
                + enc(scope) + "&client_info=1");
    }

    private JsonNode refresh(String refreshToken, String scope) throws Exception {
        HttpResponse<String> response = refreshRequest(refreshToken, scope);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json.readTree(response.body());
    }

    /** Asserts Entra's error shape and returns the body. */
    private JsonNode assertEntraError(HttpResponse<String> response, int status, String error, int aadsts)
            throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = json.readTree(response.body());
        assertThat(body.get("error").asText()).as(response.body()).isEqualTo(error);
        assertThat(body.get("error_codes").get(0).asInt()).as(response.body()).isEqualTo(aadsts);
        assertThat(body.get("error_description").asText()).startsWith("AADSTS" + aadsts + ": ");
        return body;
    }

    private static Map<String, String> queryParams(String url) {
        Map<String, String> params = new LinkedHashMap<>();
        String query = URI.create(url).getRawQuery();
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return params;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Checks the id token's RS256 signature with the key the fake publishes at {@code discovery/v2.0/keys}. */
    private boolean verifiesWithPublishedKey(String[] jwt, String kid) throws Exception {
        HttpResponse<String> keys = send(tokenHttp, HttpRequest.newBuilder(URI.create(fake.authorityHost() + "/"
                + TENANT + "/discovery/v2.0/keys")).build());
        JsonNode key = null;
        for (JsonNode k : json.readTree(keys.body()).get("keys")) {
            if (kid.equals(k.get("kid").asText())) {
                key = k;
            }
        }
        assertThat(key).as(keys.body()).isNotNull();
        RSAPublicKeySpec spec = new RSAPublicKeySpec(
                new BigInteger(1, Base64.getUrlDecoder().decode(key.get("n").asText())),
                new BigInteger(1, Base64.getUrlDecoder().decode(key.get("e").asText())));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initVerify(KeyFactory.getInstance("RSA").generatePublic(spec));
        rsa.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
        return rsa.verify(Base64.getUrlDecoder().decode(jwt[2]));
    }

    private static SSLContext sslContextFrom(Path trustStore, String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(trustStore)) {
            ks.load(in, password.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static String form(String clientId, String secret, String scope) {
        return "grant_type=client_credentials&client_id=" + enc(clientId) + "&client_secret=" + enc(secret)
                + "&scope=" + enc(scope) + "&client_info=1";
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private HttpResponse<String> tokenRequest(String clientId, String secret, String scope) throws Exception {
        return post(tokenHttp, fake.tokenEndpoint(TENANT), form(clientId, secret, scope),
                "Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
    }

    private String httpToken() throws Exception {
        HttpResponse<String> response = tokenRequest(CLIENT_ID, SECRET, GRAPH_SCOPE);
        assertThat(response.statusCode()).isEqualTo(200);
        return json.readTree(response.body()).get("access_token").asText();
    }

    private HttpResponse<String> post(HttpClient client, String url, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        if (headers.length == 0) {
            b.header("Content-Type", "application/x-www-form-urlencoded");
        }
        return send(client, b.build());
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest getRequest(String url, String token, String... prefer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token);
        for (String p : prefer) {
            b.header("Prefer", p);
        }
        return b.build();
    }

    private HttpResponse<String> get(String url, String token, String... prefer) throws Exception {
        return send(graphHttp, getRequest(url, token, prefer));
    }

    private List<JsonNode> collectPages(String url, String token, String prefer) throws Exception {
        return collectPages(url, token, prefer, new ArrayList<>(), new ArrayList<>());
    }

    /** Follows {@code @odata.nextLink} verbatim until the last page. */
    private List<JsonNode> collectPages(String url, String token, String prefer, List<Integer> pageSizes,
                                        List<String> nextLinks) throws Exception {
        List<JsonNode> items = new ArrayList<>();
        String next = url;
        while (next != null) {
            HttpResponse<String> response = prefer == null ? get(next, token) : get(next, token, prefer);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode page = json.readTree(response.body());
            assertThat(page.get("@odata.context").asText()).startsWith(fake.graphBaseUrl() + "/$metadata#");
            page.get("value").forEach(items::add);
            pageSizes.add(page.get("value").size());
            next = page.has("@odata.nextLink") ? page.get("@odata.nextLink").asText() : null;
            if (next != null) {
                nextLinks.add(next);
            }
        }
        return items;
    }

    private static byte[] mime(String messageId, String subject, String body) {
        return ("From: Scanner <scanner@contoso.example>\r\nTo: scans@contoso.example\r\n"
                + "Date: Sun, 22 Nov 2026 10:15:30 +0000\r\nMessage-ID: " + messageId + "\r\nSubject: " + subject
                + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body + "\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }
}

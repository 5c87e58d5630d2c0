package dev.mailintake.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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

    private final ObjectMapper json = new ObjectMapper();
    private GraphFake fake;
    private HttpClient graphHttp;
    private HttpClient tokenHttp;

    @BeforeAll
    void startFake() throws Exception {
        fake = GraphFake.start();
        fake.registerClient(TENANT, CLIENT_ID, SECRET);
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

    // ================================================================== helpers

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

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.AppCluster;
import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.PgSchema;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances — JVMs of their own — on one PostgreSQL store share a delegated connection's grant. Asked to refresh it
 * at the same moment (each through its own JMX, {@code direct:refresh-tokens}: the route every instance runs, owner of
 * the scheduled refresh or not), they reach the token endpoint once: the one that waited on the store's lock
 * ({@code mi_locks}) takes the tokens the other got. Needing a new access token at the same moment for their mailboxes
 * (on demand), they ask once per expiry. The rotated refresh token is the one kept: the provider here revokes a refresh
 * token once redeemed, so every later refresh, from either instance, works only with it.
 */
class ClusterTokenRefreshTest {
    private static final String ADMIN = "ada@contoso.test";
    private static final String SCOPES = "https://graph.microsoft.com/Mail.ReadWrite"
            + " https://graph.microsoft.com/Mail.ReadWrite.Shared https://graph.microsoft.com/User.Read offline_access";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private PgSchema schema;
    private AppCluster cluster;

    @BeforeEach
    void setUp() {
        schema = PgSchema.create("mi_refresh");
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.mailbox(ADMIN);
        for (String name : List.of("scans", "orders")) {
            fake.mailbox(name + "@contoso.test");
            fake.grantMailboxAccess(ADMIN, name + "@contoso.test");
        }
        fake.revokeOldRefreshTokensOnRotation(true);
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        fake.close();
        schema.close();
    }

    private List<LoggedRequest> refreshRequests() {
        return fake.tokenRequests().stream().filter(r -> "refresh_token".equals(r.grantType())).toList();
    }

    private String grantState() throws Exception {
        try (Connection c = DriverManager.getConnection(schema.url(), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT state FROM mi_grants WHERE connection = 'contoso'")) {
            return rs.next() ? rs.getString(1) : "none";
        }
    }

    /**
     * Instances a and b on the store with a file lock, the delegated connection {@code contoso} and these shared
     * mailboxes (each into its own folder target); signed in through a's status page.
     */
    private void startPairAndSignIn(List<String> mailboxes) throws Exception {
        Map<String, String> s = new LinkedHashMap<>(TestApp.connection("contoso", fake, TestApp.TENANT,
                TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", SCOPES);
        s.put("mailintake.refresh.retry-delay", "200ms");
        s.put("mailintake.store.url", schema.url());
        s.put("mailintake.store.user", "postgres");
        s.putAll(AppCluster.fileLock(tmp.resolve("cluster")));
        for (String name : mailboxes) {
            String k = "mailintake.mailboxes." + name + ".";
            s.put(k + "connection", "contoso");
            s.put(k + "address", name + "@contoso.test");
            s.put(k + "poll", "1s");
            s.put(k + "create-folders", "true");
            s.put(k + "target", "folder:" + tmp.resolve("out-" + name));
        }
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        // one store key for both: each decrypts the grant the other wrote
        cluster = new AppCluster(tmp, s, mailboxes,
                Map.of("MAILINTAKE_STORE_KEY", Base64.getEncoder().encodeToString(key)));
        cluster.start("a");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.owned("a").size() == mailboxes.size());
        cluster.start("b");
        await().atMost(Duration.ofSeconds(120)).until(() -> cluster.seesOwnersOfAll("b"));
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID,
                "http://localhost:" + cluster.adminPort("a") + "/oauth/callback");
        HttpResponse<String> signedIn = new BrowserSignIn(fake, cluster.adminPort("a")).signIn("contoso");
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(200);
        assertThat(signedIn.body()).contains("authorized as " + ADMIN);
    }

    @Test
    void twoInstancesRefreshingOneGrantAtTheSameMomentAskTheProviderOnceAndKeepTheRotatedToken() throws Exception {
        Instant started = Instant.now();
        startPairAndSignIn(List.of("scans"));
        int before = refreshRequests().size();

        // the provider takes 2 s to answer a refresh: the second instance's request comes while the first is at it
        fake.fault(Fault.delay(Duration.ofSeconds(2)).forGrantType("refresh_token").always());
        CyclicBarrier together = new CyclicBarrier(2);
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> refreshNow("a", together));
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> refreshNow("b", together));
        CompletableFuture.allOf(a, b).join();
        fake.clearFaults();
        List<LoggedRequest> both = refreshRequests().subList(before, refreshRequests().size());
        System.out.println("cluster token refresh: two instances refreshing at once sent " + both.size()
                + " refresh request(s) to the token endpoint: " + both);
        assertThat(both).as("token requests for both instances' refresh").hasSize(1);
        assertThat(both.get(0).status()).isEqualTo(200);
        assertThat(cluster.process("a").count("another instance got new tokens while this one waited")
                + cluster.process("b").count("another instance got new tokens while this one waited"))
                .as("the instance that waited took the other's tokens").isEqualTo(1);
        assertThat(grantState()).isEqualTo("AUTHORIZED");

        // the rotated refresh token was kept: the old one is revoked, so these work only with it, whoever asks
        for (String id : List.of("b", "a", "b")) {
            int n = refreshRequests().size();
            cluster.sendBody(id, "direct:refresh-tokens");
            assertThat(refreshRequests()).hasSize(n + 1);
            assertThat(refreshRequests().get(n).status()).as("refresh from " + id).isEqualTo(200);
        }
        assertThat(grantState()).isEqualTo("AUTHORIZED");
        System.out.println("cluster token refresh test took " + Duration.between(started, Instant.now()).toSeconds()
                + " s");
    }

    /**
     * The on-demand path: each instance runs one mailbox of the connection, and access tokens live 12 s here (5 min 12 s,
     * less the 5 min both msal4j and the token service keep in hand), so both instances' polls need a new one in the
     * same second, again and again; the provider takes 2 s to answer. One refresh request per expiry, never one per
     * instance (a second one would come within those 2 s), each with the refresh token the last one rotated (the old
     * one is revoked), and both mailboxes import with the tokens.
     */
    @Test
    void twoInstancesWhoseMailboxesNeedATokenAtOnceAskTheProviderOncePerExpiry() throws Exception {
        Instant started = Instant.now();
        fake.tokenLifetime(Duration.ofMinutes(5).plusSeconds(12));
        startPairAndSignIn(List.of("scans", "orders"));
        cluster.stopRoute("a", "orders");
        await().atMost(Duration.ofSeconds(60)).until(() -> cluster.owned("b").contains("orders"));
        cluster.startRoute("a", "orders");
        assertThat(cluster.owned("a")).containsExactly("scans");
        fake.fault(Fault.delay(Duration.ofSeconds(2)).forGrantType("refresh_token").always());
        int before = refreshRequests().size();
        await().atMost(Duration.ofSeconds(150)).until(() -> refreshRequests().size() >= before + 2
                && refreshRequests().stream().allMatch(LoggedRequest::completed));
        fake.clearFaults();
        List<LoggedRequest> refreshes = refreshRequests().subList(before, refreshRequests().size());
        System.out.println("cluster token refresh on demand: " + refreshes.stream().map(r -> r.at() + " " + r.status())
                .toList());
        assertThat(refreshes).allSatisfy(r -> assertThat(r.status()).as(r.toString()).isEqualTo(200));
        for (int i = 1; i < refreshes.size(); i++) {
            assertThat(Duration.between(refreshes.get(i - 1).at(), refreshes.get(i).at()))
                    .as("refresh requests one per expiry, not one per instance: %s", refreshes)
                    .isGreaterThan(Duration.ofSeconds(5));
        }
        for (String name : List.of("scans", "orders")) {
            fake.mailbox(name + "@contoso.test").addMessage("inbox",
                    Mimes.pdfMessage("<" + name + "@example.com>", name, 200));
        }
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> List.of("scans", "orders").stream()
                .allMatch(n -> fake.mailbox(n + "@contoso.test").messagesIn("Inbox/Processed").size() == 1));
        assertThat(grantState()).isEqualTo("AUTHORIZED");
        System.out.println("cluster token refresh on demand test took "
                + Duration.between(started, Instant.now()).toSeconds() + " s");
    }

    private void refreshNow(String id, CyclicBarrier together) {
        try {
            together.await();
            cluster.sendBody(id, "direct:refresh-tokens");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

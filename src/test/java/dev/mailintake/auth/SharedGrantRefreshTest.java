package dev.mailintake.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.mailintake.config.ConfigLoader;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.StoreConfig;
import dev.mailintake.store.GrantStore;
import dev.mailintake.store.SecretBox;
import dev.mailintake.store.Store;
import dev.mailintake.testsupport.PgSchema;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances' token stacks (each its own store pool and token source, as two processes have) on one PostgreSQL
 * store, both needing a new access token of the same delegated connection at the same moment: the provider sees one
 * refresh, both get its token, and the rotated refresh token is the one kept.
 */
class SharedGrantRefreshTest {
    @TempDir
    Path tmp;

    @Test
    void twoInstancesRefreshingOneConnectionAtOnceAskTheProviderOnce() throws Exception {
        refreshAtOnce(false);
    }

    /**
     * Both forcing a refresh (the refresh round or "Refresh tokens now" on each): the one that waited for the other's
     * refresh takes its tokens, since the grant was refreshed after it asked.
     */
    @Test
    void twoInstancesForcingARefreshAtOnceAskTheProviderOnce() throws Exception {
        refreshAtOnce(true);
    }

    private void refreshAtOnce(boolean force) throws Exception {
        PgSchema schema = PgSchema.create("mi_grants");
        StoreConfig storeConfig = schema.storeConfig();

        // the provider: rotates the refresh token on every use, takes a while to answer
        AtomicInteger refreshes = new AtomicInteger();
        HttpServer provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        provider.createContext("/token", x -> {
            String form = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int n = refreshes.incrementAndGet();
            try {
                Thread.sleep(500); // the provider's latency, so that both instances are at it together
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = ("{\"access_token\":\"at-" + n + "\",\"expires_in\":3600,\"refresh_token\":\"rt-" + n
                    + "\",\"token_type\":\"Bearer\",\"used\":\"" + (form.contains("refresh_token=rt-0") ? "rt-0" : "?")
                    + "\"}").getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        provider.start();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Map<String, String> m = new HashMap<>();
            String k = "mailintake.connections.gmail.";
            m.put(k + "provider", "generic");
            m.put(k + "flow", "delegated");
            m.put(k + "client-id", "c1");
            m.put(k + "client-secret", "s1");
            m.put(k + "scopes", "https://mail.google.com/");
            m.put(k + "authorize-url", "http://127.0.0.1:" + provider.getAddress().getPort() + "/authorize");
            m.put(k + "token-url", "http://127.0.0.1:" + provider.getAddress().getPort() + "/token");
            ConnectionConfig connection = new ConfigLoader(m).load().connections().get("gmail");
            SecretBox box = SecretBox.load(null, tmp.resolve("store.key"));
            try (Store a = new Store(storeConfig); Store b = new Store(storeConfig)) {
                GrantStore grantsA = new GrantStore(a, box, Clock.systemUTC());
                GrantStore grantsB = new GrantStore(b, box, Clock.systemUTC());
                // a signed-in grant whose access token has expired
                grantsA.authorized("gmail", DelegatedGrant.fingerprint(connection), "ada@gmail.test",
                        "{\"access_token\":\"at-0\",\"expires_at\":" + Instant.now().minusSeconds(60).toEpochMilli()
                                + ",\"refresh_token\":\"rt-0\",\"account\":\"ada@gmail.test\"}");
                GenericOAuthTokenSource instanceA = new GenericOAuthTokenSource(connection, grantsA, Clock.systemUTC());
                GenericOAuthTokenSource instanceB = new GenericOAuthTokenSource(connection, grantsB, Clock.systemUTC());

                List<Future<AccessToken>> both = pool.invokeAll(List.<Callable<AccessToken>>of(
                        () -> instanceA.acquire(force), () -> instanceB.acquire(force)));
                assertThat(refreshes.get()).as("one token request for both instances").isEqualTo(1);
                assertThat(both.get(0).get().value()).isEqualTo("at-1");
                assertThat(both.get(1).get().value()).isEqualTo("at-1");
                assertThat(grantsB.cache("gmail").orElseThrow()).contains("\"refresh_token\":\"rt-1\"");
            }
        } finally {
            pool.shutdownNow();
            provider.stop(0);
            schema.close();
        }
    }
}

package dev.mailintake.auth;

import com.microsoft.aad.msal4j.AbstractClientApplicationBase;
import com.microsoft.aad.msal4j.AuthorizationCodeParameters;
import com.microsoft.aad.msal4j.DeviceCodeFlowParameters;
import com.microsoft.aad.msal4j.PublicClientApplication;
import com.microsoft.aad.msal4j.AuthorizationRequestUrlParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAccount;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.ITokenCacheAccessAspect;
import com.microsoft.aad.msal4j.ITokenCacheAccessContext;
import com.microsoft.aad.msal4j.Prompt;
import com.microsoft.aad.msal4j.ResponseMode;
import com.microsoft.aad.msal4j.SilentParameters;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Flow;
import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import dev.mailintake.store.GrantStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A delegated grant for a Microsoft connection: msal4j's authorization-code flow with PKCE, and silent refreshes
 * from msal4j's token cache, which is persisted encrypted in the {@link GrantStore} through
 * {@link ITokenCacheAccessAspect} (so rotated refresh tokens are always saved). A grant remembers a fingerprint of
 * what it was issued for; when the configuration no longer matches, the grant is not used.
 */
public final class DelegatedTokenSource implements TokenSource {
    private static final long TIMEOUT_SECONDS = 60;
    private static final Set<String> RESERVED = Set.of("openid", "profile", "offline_access");

    private final ConnectionConfig connection;
    private final GrantStore grants;
    private final AbstractClientApplicationBase app;
    private final Set<String> scopes;
    private final String fingerprint;

    public DelegatedTokenSource(ConnectionConfig connection, GrantStore grants) {
        this.connection = connection;
        this.grants = grants;
        this.app = connection.flow() == Flow.DEVICE_CODE ? Msal.publicClient(connection, new StoredCache())
                : Msal.client(connection, new StoredCache());
        this.scopes = new LinkedHashSet<>();
        connection.scopes().stream().filter(s -> !RESERVED.contains(s)).forEach(scopes::add);
        this.fingerprint = fingerprint(connection);
    }

    /** What a grant is issued for: provider, authority, tenant, client id and scopes. */
    static String fingerprint(ConnectionConfig c) {
        String text = c.provider() + "|" + c.authority() + "|" + c.clientId() + "|" + new TreeSet<>(c.scopes());
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public String connectionName() {
        return connection.name();
    }

    public boolean isDeviceCode() {
        return app instanceof PublicClientApplication;
    }

    /** The provider's authorization URL for a new sign-in (PKCE S256, one-time state, form_post answer). */
    public URI authorizationUrl(String redirectUri, String state, String codeVerifier) {
        if (!(app instanceof ConfidentialClientApplication)) {
            throw new TokenException(connection.name(), TokenException.Kind.ADMIN_MUST_FIX,
                    "this connection signs in with the device code flow (java -jar mail-intake.jar authorize "
                            + connection.name() + " --device-code)", null);
        }
        String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(sha256(codeVerifier));
        return URI.create(app.getAuthorizationRequestUrl(AuthorizationRequestUrlParameters
                .builder(redirectUri, scopes)
                .state(state)
                .codeChallenge(challenge)
                .codeChallengeMethod("S256")
                .responseMode(ResponseMode.FORM_POST)
                .prompt(Prompt.SELECT_ACCOUNT)
                .build()).toString());
    }

    /** Redeems the authorization code and stores the new grant; returns who signed in. */
    public String redeem(String code, String redirectUri, String codeVerifier) {
        if (!(app instanceof ConfidentialClientApplication confidential)) {
            throw new TokenException(connection.name(), TokenException.Kind.ADMIN_MUST_FIX,
                    "this connection signs in with the device code flow (java -jar mail-intake.jar authorize "
                            + connection.name() + " --device-code)", null);
        }
        return store(() -> confidential.acquireToken(AuthorizationCodeParameters.builder(code, URI.create(redirectUri))
                .scopes(scopes).codeVerifier(codeVerifier).build()), TIMEOUT_SECONDS);
    }

    /**
     * The device code flow for headless servers: {@code instructions} gets Entra's message (the URL to open and the
     * code to enter); returns who signed in once they did, after storing the grant.
     */
    public String authorizeWithDeviceCode(java.util.function.Consumer<String> instructions) {
        if (!(app instanceof PublicClientApplication publicClient)) {
            throw new IllegalStateException("connection '" + connection.name() + "' is not configured with"
                    + " flow=device-code");
        }
        return store(() -> publicClient.acquireToken(DeviceCodeFlowParameters.builder(scopes,
                code -> instructions.accept(code.message())).build()), 20 * 60);
    }

    private String store(java.util.function.Supplier<java.util.concurrent.CompletableFuture<IAuthenticationResult>> flow,
                         long timeoutSeconds) {
        IAuthenticationResult result;
        try {
            result = flow.get().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenException(connection.name(), TokenException.Kind.TRANSIENT, "interrupted", e);
        } catch (ExecutionException e) {
            throw TokenFailures.classify(connection.name(), e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw TokenFailures.classify(connection.name(), e);
        }
        String account = result.account() == null ? "unknown account" : result.account().username();
        grants.authorized(connection.name(), fingerprint, account, app.tokenCache().serialize());
        return account;
    }

    /** The grant's state as the status page and the refresh route see it. */
    public Optional<Grant> grant() {
        return grants.find(connection.name());
    }

    @Override
    public AccessToken acquire(boolean forceRefresh) {
        Grant grant = grants.find(connection.name()).orElseThrow(() -> new TokenException(connection.name(),
                TokenException.Kind.REAUTHORIZATION_REQUIRED, "not authorized yet: an administrator must sign in"
                + " once (open /oauth/start/" + connection.name() + " on the admin port)", null));
        if (grant.state() == GrantState.REAUTHORIZATION_REQUIRED) {
            throw new TokenException(connection.name(), TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    grant.reason().orElse("re-authorization required"), null);
        }
        if (!grant.fingerprint().equals(fingerprint)) {
            String reason = "re-authorization required: the connection's tenant, client id or scopes changed since "
                    + grant.account().orElse("the administrator") + " authorized it; sign in again";
            grants.state(connection.name(), GrantState.REAUTHORIZATION_REQUIRED, reason);
            throw new TokenException(connection.name(), TokenException.Kind.REAUTHORIZATION_REQUIRED, reason, null);
        }
        try {
            Set<IAccount> accounts = app.getAccounts().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (accounts.isEmpty()) {
                throw new TokenException(connection.name(), TokenException.Kind.REAUTHORIZATION_REQUIRED,
                        "the stored grant holds no account; sign in again", null);
            }
            IAuthenticationResult result = app.acquireTokenSilently(SilentParameters
                    .builder(scopes, accounts.iterator().next())
                    .authorityUrl(connection.authority())
                    .forceRefresh(forceRefresh)
                    .build()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new AccessToken(result.accessToken(), result.expiresOnDate().toInstant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenException(connection.name(), TokenException.Kind.TRANSIENT, "interrupted", e);
        } catch (ExecutionException e) {
            throw remember(TokenFailures.classify(connection.name(), e.getCause() == null ? e : e.getCause()));
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException("authority " + connection.authority() + " is not a URL", e);
        } catch (TimeoutException | RuntimeException e) {
            if (e instanceof TokenException te) {
                throw remember(te);
            }
            throw remember(TokenFailures.classify(connection.name(), e));
        }
    }

    /**
     * A grant the provider refused stays refused (no retry loop against a revoked grant) until someone signs in.
     * Problems of the app registration (an expired secret) are not the grant's: they are fixed in the configuration.
     */
    private TokenException remember(TokenException e) {
        if (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED) {
            grants.state(connection.name(), GrantState.REAUTHORIZATION_REQUIRED, e.getMessage());
        }
        return e;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** msal4j's token cache lives in the store, encrypted; a changed cache (rotated refresh token) is always saved. */
    private final class StoredCache implements ITokenCacheAccessAspect {
        @Override
        public void beforeCacheAccess(ITokenCacheAccessContext context) {
            grants.cache(connection.name()).ifPresent(context.tokenCache()::deserialize);
        }

        @Override
        public void afterCacheAccess(ITokenCacheAccessContext context) {
            if (context.hasCacheChanged()) {
                grants.cacheChanged(connection.name(), context.tokenCache().serialize(), true);
            }
        }
    }
}

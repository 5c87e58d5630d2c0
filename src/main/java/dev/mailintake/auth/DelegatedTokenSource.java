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
import dev.mailintake.store.GrantStore;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A delegated grant for a Microsoft connection: msal4j's authorization-code flow with PKCE, and silent refreshes
 * from msal4j's token cache, which is persisted encrypted in the {@link GrantStore} through
 * {@link ITokenCacheAccessAspect} (so rotated refresh tokens are always saved). A grant remembers a fingerprint of
 * what it was issued for; when the configuration no longer matches, the grant is not used.
 */
public final class DelegatedTokenSource implements DelegatedGrant {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DelegatedTokenSource.class);
    private static final long TIMEOUT_SECONDS = 60;
    private static final Set<String> RESERVED = Set.of("openid", "profile", "offline_access");

    private final ConnectionConfig connection;
    private final GrantStore grants;
    private final AbstractClientApplicationBase app;
    private final Set<String> scopes;
    private final String fingerprint;
    private final String redirectUri;

    /** @param redirectUri the app's redirect URI, named in the admin consent URL of a refusal for missing consent */
    public DelegatedTokenSource(ConnectionConfig connection, GrantStore grants, String redirectUri) {
        this.connection = connection;
        this.grants = grants;
        this.redirectUri = redirectUri;
        this.app = connection.flow() == Flow.DEVICE_CODE ? Msal.publicClient(connection, new StoredCache())
                : Msal.client(connection, new StoredCache());
        this.scopes = new LinkedHashSet<>();
        connection.scopes().stream().filter(s -> !RESERVED.contains(s)).forEach(scopes::add);
        this.fingerprint = DelegatedGrant.fingerprint(connection);
    }

    @Override
    public String connectionName() {
        return connection.name();
    }

    @Override
    public boolean isDeviceCode() {
        return app instanceof PublicClientApplication;
    }

    /** The provider's authorization URL for a new sign-in (PKCE S256, one-time state, form_post answer). */
    @Override
    public URI authorizationUrl(String redirectUri, String state, String codeVerifier) {
        if (!(app instanceof ConfidentialClientApplication)) {
            throw new TokenException(connection.name(), TokenException.Kind.ADMIN_MUST_FIX,
                    "this connection signs in with the device code flow (java -jar mail-intake.jar authorize "
                            + connection.name() + " --device-code)", null);
        }
        String challenge = DelegatedGrant.challenge(codeVerifier);
        return URI.create(app.getAuthorizationRequestUrl(AuthorizationRequestUrlParameters
                .builder(redirectUri, scopes)
                .state(state)
                .codeChallenge(challenge)
                .codeChallengeMethod("S256")
                .responseMode(ResponseMode.FORM_POST)
                .prompt(Prompt.SELECT_ACCOUNT)
                .build()).toString());
    }

    /**
     * {@code {authority-host}/{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri[&state]}, with the configured
     * scopes and those msal4j adds to every sign-in ({@code openid profile offline_access}), so that consent covers
     * what a sign-in asks for. Tenant {@code common} becomes {@code organizations}: Entra's admin consent needs a
     * work or school tenant.
     */
    @Override
    public Optional<URI> adminConsentUrl(String redirectUri, String state) {
        if (isDeviceCode()) {
            return Optional.empty();
        }
        Set<String> all = new LinkedHashSet<>(scopes);
        all.addAll(List.of("openid", "profile", "offline_access"));
        String host = connection.authorityHost().toString();
        String tenant = connection.tenantId().equalsIgnoreCase("common") ? "organizations" : connection.tenantId();
        return Optional.of(URI.create((host.endsWith("/") ? host : host + "/") + encode(tenant)
                + "/v2.0/adminconsent?client_id=" + encode(connection.clientId()) + "&scope="
                + encode(String.join(" ", all)) + "&redirect_uri=" + encode(redirectUri)
                + (state == null ? "" : "&state=" + encode(state))));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The admin consent URL (without a state) that refusals for missing consent name. */
    private Optional<URI> consentUrl() {
        return adminConsentUrl(redirectUri, null);
    }

    /** Redeems the authorization code and stores the new grant; returns who signed in. */
    @Override
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
        java.util.concurrent.atomic.AtomicBoolean shown = new java.util.concurrent.atomic.AtomicBoolean();
        try {
            return store(() -> publicClient.acquireToken(DeviceCodeFlowParameters.builder(scopes, code -> {
                shown.set(true);
                instructions.accept(code.message());
            }).build()), 20 * 60);
        } catch (TokenException e) {
            // failed before a code was shown: msal4j's own error may hide that the endpoint is not there at all
            throw shown.get() ? e : DeviceCodeProbe.explain(connection, String.join(" ", scopes), e);
        }
    }

    private String store(java.util.function.Supplier<java.util.concurrent.CompletableFuture<IAuthenticationResult>> flow,
                         long timeoutSeconds) {
        IAuthenticationResult result;
        try {
            result = Msal.await(connection.name(), scope(), flow.get(), timeoutSeconds, consentUrl());
        } catch (TokenException e) {
            throw e;
        } catch (RuntimeException e) {
            throw TokenFailures.classify(connection.name(), scope(), e, consentUrl());
        }
        String account = result.account() == null ? "unknown account" : result.account().username();
        grants.authorized(connection.name(), fingerprint, account, app.tokenCache().serialize());
        return account;
    }

    /** The grant's state as the status page and the refresh route see it. */
    @Override
    public Optional<Grant> grant() {
        return grants.find(connection.name());
    }

    @Override
    public AccessToken acquire(boolean forceRefresh) {
        return grants.acquireOnce(connection.name(), forceRefresh, this::acquireLocked);
    }

    private AccessToken acquireLocked(boolean forceRefresh) {
        GrantChecks.usable(grants, connection.name(), fingerprint, isDeviceCode());
        try {
            Set<IAccount> accounts = app.getAccounts().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (accounts.isEmpty()) {
                // e.g. the cache could not be decrypted: the store has already said why
                String reason = grants.find(connection.name())
                        .filter(g -> g.state() == dev.mailintake.store.GrantState.REAUTHORIZATION_REQUIRED)
                        .flatMap(Grant::reason).orElse("the stored grant holds no account; sign in again");
                throw new TokenException(connection.name(), TokenException.Kind.REAUTHORIZATION_REQUIRED, reason, null);
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
            throw GrantChecks.remember(grants, TokenFailures.classify(connection.name(), scope(),
                    e.getCause() == null ? e : e.getCause(), consentUrl()));
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException("authority " + connection.authority() + " is not a URL", e);
        } catch (TimeoutException | RuntimeException e) {
            if (e instanceof TokenException te) {
                throw GrantChecks.remember(grants, te);
            }
            throw GrantChecks.remember(grants, TokenFailures.classify(connection.name(), scope(), e, consentUrl()));
        }
    }

    private String scope() {
        return String.join(" ", scopes);
    }

    /** msal4j's token cache lives in the store, encrypted; a changed cache (rotated refresh token) is always saved. */
    private final class StoredCache implements ITokenCacheAccessAspect {
        /** The version of the grant the cache was last read at: written back over it only. */
        private final java.util.concurrent.atomic.AtomicLong readVersion = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public void beforeCacheAccess(ITokenCacheAccessContext context) {
            grants.versionedCache(connection.name()).ifPresent(c -> {
                readVersion.set(c.version());
                context.tokenCache().deserialize(c.value());
            });
        }

        @Override
        public void afterCacheAccess(ITokenCacheAccessContext context) {
            if (context.hasCacheChanged()
                    && !grants.cacheChanged(connection.name(), context.tokenCache().serialize(), readVersion.get())) {
                LOG.info("connection '{}': another instance saved a newer grant meanwhile; kept it", connection.name());
            }
        }
    }
}

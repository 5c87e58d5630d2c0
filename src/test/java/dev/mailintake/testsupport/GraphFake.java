package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;

/**
 * In-process fake of the Microsoft Graph mail API (plain HTTP on 127.0.0.1) plus an Entra-ID-shaped token endpoint
 * (HTTPS with a throw-away self-signed certificate for {@code localhost}). Stateful, thread-safe, one instance per
 * test (no static state).
 *
 * <pre>{@code
 * try (GraphFake fake = GraphFake.start()) {
 *     fake.registerClient("tenant-1", "client-1", "s3cret");
 *     FakeMailbox box = fake.mailbox("scans@contoso.example");
 *     String id = box.addMessage("Inbox/Scans", mimeBytes, Instant.parse("2026-11-22T10:15:30Z"));
 *     // point the client at fake.graphBaseUrl() and fake.authority("tenant-1"),
 *     // trusting fake.trustStore() / fake.trustStorePassword() for the token call
 * }
 * }</pre>
 *
 * <p>Delegated (user) flows, as Entra v2 runs them, for msal4j's {@code ConfidentialClientApplication} (authority
 * {@link #authority(String)}, {@code instanceDiscovery(false)}, {@code validateAuthority(false)}, an
 * {@code sslSocketFactory} from {@link #clientSslContext()}; pass {@code authorityUrl(authority)} to silent calls,
 * msal4j otherwise drops the port):
 *
 * <pre>{@code
 * fake.registerClient("tenant-1", "client-1", "s3cret")
 *     .registerRedirectUri("tenant-1", "client-1", "https://app.example/oauth/callback");
 * fake.registerUser("tenant-1", "alice@contoso.example", "Alice");        // the signed-in user (signInAs to change)
 * fake.mailbox("alice@contoso.example");
 * fake.grantMailboxAccess("alice@contoso.example", "scans@contoso.example");   // a shared mailbox
 * // GET authorizeEndpoint(...) answers with a code at once (no login page), by 302 or an auto-submitting form;
 * // POST tokenEndpoint(...) redeems it (PKCE S256/plain checked) and rotates refresh tokens
 * fake.revokeGrants("tenant-1", "alice@contoso.example", 50173);          // next refresh: invalid_grant AADSTS50173
 * }</pre>
 *
 * <p>Certificate credentials ({@code private_key_jwt}), as Entra checks them, for every grant; an app may have a
 * secret and/or any number of certificates:
 *
 * <pre>{@code
 * TestClientCertificate cert = TestClientCertificate.generate(tempDir);     // PKCS#12 file, PEM key + certificate
 * fake.registerCertificate("tenant-1", "client-1", cert.certificate());
 * ConfidentialClientApplication.builder("client-1",
 *         ClientCredentialFactory.createFromCertificate(cert.privateKey(), cert.certificate()))...
 * }</pre>
 *
 * <p>Delegated access tokens open {@code /v1.0/users/{address}/...} for the user's own mailbox (address = UPN) and
 * granted ones, and {@code /v1.0/me/...} (not attributed to a mailbox in the request log or per-mailbox counters);
 * anything else is 403 {@code ErrorAccessDenied}. There is no interactive login or consent page: {@code prompt} and
 * {@code login_hint} are accepted and ignored, and the signed-in user consents to whatever is asked, unless the
 * tenant allows no user consent ({@link #disableUserConsent}): then only a tenant administrator
 * ({@link #makeTenantAdmin}) may, for the whole tenant, at {@link #adminConsentEndpoint}.
 *
 * <p>Note: the JDK HTTP server writes the status line/headers and the body in separate TCP segments; with Nagle's
 * algorithm on, each response then stalls ~40 ms on the client's delayed ACK. {@link #start()} therefore sets the
 * system property {@code sun.net.httpserver.nodelay=true} if it is unset. The JDK reads it once per JVM, when the
 * first JDK HTTP server is created.
 */
public final class GraphFake implements AutoCloseable {

    private static final int GRAPH_THREADS = 32;
    private static final int TOKEN_THREADS = 8;
    private static final java.util.regex.Pattern SECRET_PARAMETERS = java.util.regex.Pattern.compile(
            "(?i)(^|&)(client_secret|client_assertion|code|code_verifier|refresh_token|access_token|id_token|password)"
                    + "=[^&]*");

    private final ObjectMapper json = new ObjectMapper();
    private final IdFactory ids = new IdFactory();
    private final Map<String, FakeMailbox> mailboxes = new ConcurrentHashMap<>();
    private final TokenEndpoint tokens = new TokenEndpoint(this, json);
    private final DeviceCodeGrant deviceCodes = new DeviceCodeGrant(this, json, tokens);
    private final GraphApi graphApi = new GraphApi(this, json, tokens);
    private final List<FaultHandle> faults = new ArrayList<>();
    private final List<RequestEntry> log = new ArrayList<>();
    private final AtomicLong requestSequence = new AtomicLong();
    private final Map<String, InFlight> inFlightByMailbox = new ConcurrentHashMap<>();
    private final InFlight inFlightGraph = new InFlight();
    private final List<Throwable> internalErrors = new ArrayList<>();
    private volatile Duration latency = Duration.ZERO;

    private Path tempDir;
    private SelfSignedCertificate certificate;
    private HttpServer graphServer;
    private HttpsServer tokenServer;
    private ExecutorService graphExecutor;
    private ExecutorService tokenExecutor;
    private volatile boolean closed;

    private GraphFake() {
    }

    /** Starts both servers on 127.0.0.1 with random ports. */
    public static GraphFake start() {
        GraphFake fake = new GraphFake();
        try {
            fake.startServers();
            return fake;
        } catch (IOException | RuntimeException e) {
            fake.close();
            if (e instanceof IOException) {
                throw new UncheckedIOException("cannot start GraphFake", (IOException) e);
            }
            throw (RuntimeException) e;
        }
    }

    private void startServers() throws IOException {
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        tempDir = Files.createTempDirectory("graph-fake-");
        certificate = SelfSignedCertificate.generate(tempDir);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");

        graphExecutor = Executors.newFixedThreadPool(GRAPH_THREADS, threads("graph-fake-graph-"));
        graphServer = HttpServer.create(new InetSocketAddress(loopback, 0), 128);
        graphServer.setExecutor(graphExecutor);
        graphServer.createContext("/", this::handleGraph);
        graphServer.start();

        tokenExecutor = Executors.newFixedThreadPool(TOKEN_THREADS, threads("graph-fake-token-"));
        tokenServer = HttpsServer.create(new InetSocketAddress(loopback, 0), 64);
        tokenServer.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
        tokenServer.setExecutor(tokenExecutor);
        tokenServer.createContext("/", this::handleToken);
        tokenServer.start();
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Stops both servers (in-flight requests are cut off) and deletes the temporary key stores. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (graphServer != null) {
            graphServer.stop(0);
        }
        if (tokenServer != null) {
            tokenServer.stop(0);
        }
        for (ExecutorService e : new ExecutorService[]{graphExecutor, tokenExecutor}) {
            if (e != null) {
                e.shutdownNow();
                try {
                    e.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (tempDir != null) {
            try (Stream<Path> files = Files.walk(tempDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    // ================================================================== endpoints

    /** {@code http://127.0.0.1:PORT/v1.0} */
    public String graphBaseUrl() {
        return graphOrigin() + "/v1.0";
    }

    /** {@code http://127.0.0.1:PORT} */
    public String graphOrigin() {
        return "http://127.0.0.1:" + graphServer.getAddress().getPort();
    }

    /** {@code https://localhost:PORT2}; the client builds the authority {@code {authorityHost}/{tenant}/}. */
    public String authorityHost() {
        return "https://localhost:" + tokenServer.getAddress().getPort();
    }

    /** {@code https://localhost:PORT2/{tenant}/} */
    public String authority(String tenant) {
        return authorityHost() + "/" + tenant + "/";
    }

    /** {@code https://localhost:PORT2/{tenant}/oauth2/v2.0/token} */
    public String tokenEndpoint(String tenant) {
        return authorityHost() + "/" + tenant + "/oauth2/v2.0/token";
    }

    /** {@code https://localhost:PORT2/{tenant}/oauth2/v2.0/authorize} */
    public String authorizeEndpoint(String tenant) {
        return authorityHost() + "/" + tenant + "/oauth2/v2.0/authorize";
    }

    /** {@code https://localhost:PORT2/{tenant}/v2.0/adminconsent} (see {@link #makeTenantAdmin}). */
    public String adminConsentEndpoint(String tenant) {
        return authorityHost() + "/" + tenant + "/v2.0/adminconsent";
    }

    /**
     * The tenant's id (a GUID derived from the name the tenant was registered with): {@code tid} in id tokens,
     * {@code utid} in {@code client_info}, part of the issuer {@code {authorityHost}/{tenantId}/v2.0}. The token
     * server accepts it in place of the tenant name in URLs.
     */
    public String tenantId(String tenant) {
        return tokens.tenantId(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")));
    }

    /** PKCS12 trust store containing the token server's certificate. */
    public Path trustStore() {
        return certificate.trustStore();
    }

    public String trustStorePassword() {
        return certificate.password();
    }

    /** A client SSLContext that trusts the token server. */
    public SSLContext clientSslContext() {
        return certificate.clientContext();
    }

    // ================================================================== token endpoint setup

    /**
     * Registers (or replaces the secret of) an app in a tenant. Tenant and client id are case-insensitive. A new
     * secret is valid again after {@link #expireClientSecret}.
     */
    public GraphFake registerClient(String tenant, String clientId, String secret) {
        tokens.registerClient(Objects.requireNonNull(tenant), Objects.requireNonNull(clientId),
                Objects.requireNonNull(secret));
        return this;
    }

    /**
     * The client's secret has expired: every grant of this client (client credentials, authorization code, refresh
     * token) now gets 401 {@code invalid_client} AADSTS7000222, even with the right secret, until
     * {@link #registerClient} gives it a new one. (A wrong secret still gets AADSTS7000215.)
     */
    public GraphFake expireClientSecret(String tenant, String clientId) {
        tokens.expireClientSecret(Objects.requireNonNull(tenant), Objects.requireNonNull(clientId));
        return this;
    }

    /**
     * Adds a certificate credential to an app (registering the app without a secret if it is new; a later
     * {@link #registerClient} adds a secret and keeps the certificates). Token requests may then authenticate with
     * {@code client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer} and a
     * {@code client_assertion} JWT, checked as Entra checks it:
     * <ul>
     * <li>header {@code alg} RS256 or PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32), and {@code x5t} (SHA-1)
     * and/or {@code x5t#S256} (SHA-256) thumbprint of a certificate registered for this app, base64url or (as msal4j
     * sends it) standard base64; {@code x5c} is ignored. No thumbprint or unsupported {@code alg}: 401
     * {@code invalid_client} AADSTS50027; unknown thumbprint, certificate outside its validity, or a signature that
     * does not verify with the certificate's key: AADSTS700027;</li>
     * <li>claims {@code iss} = {@code sub} = client id (else AADSTS700021); {@code aud} = this tenant's token endpoint,
     * {@code {authorityHost}/{tenant name or id}/oauth2/v2.0/token} or the v1 {@code .../oauth2/token} (else
     * AADSTS700023); {@code exp} in the future and {@code nbf}, if present, not (no clock skew allowed; else
     * AADSTS700024); {@code jti} present (missing claims: AADSTS50027).</li>
     * </ul>
     * Codes invented by the fake (Entra documents none): a {@code jti} used before, 401 {@code invalid_client}
     * AADSTS7000290 (see {@link #rejectReusedClientAssertions}); both a secret and an assertion, 400
     * {@code invalid_request} AADSTS7000291; a {@code client_assertion_type} other than jwt-bearer, 400
     * {@code invalid_request} AADSTS7000292. {@link #expireClientSecret} does not affect certificate credentials.
     */
    public GraphFake registerCertificate(String tenant, String clientId, X509Certificate certificate) {
        tokens.registerCertificate(Objects.requireNonNull(tenant, "tenant"), Objects.requireNonNull(clientId,
                "clientId"), Objects.requireNonNull(certificate, "certificate"));
        return this;
    }

    /**
     * On (default): a client assertion works once; a second token request with the same {@code jti} (per app) gets
     * 401 {@code invalid_client} AADSTS7000290 (invented; whether Entra refuses a replay is not documented). msal4j
     * signs a new assertion for every token call; its own retry after a 5xx/429 resends the same request, which
     * still works because an injected token {@link Fault} answers before the assertion is checked (and so does not
     * use up its {@code jti}). Off: assertions may be reused until they expire.
     */
    public GraphFake rejectReusedClientAssertions(boolean reject) {
        tokens.rejectReusedClientAssertions(reject);
        return this;
    }

    // ================================================================== delegated (user) flows

    /**
     * Registers a user (or renames one) and returns the user's object id ({@code oid}; the same GUID as
     * {@link FakeMailbox#userId()} of the mailbox with the UPN as address). The first user registered in a tenant is
     * its signed-in user until {@link #signInAs}. Does not create the user's mailbox: call {@link #mailbox(String)}.
     */
    public String registerUser(String tenant, String upn, String displayName) {
        return delegated().registerUser(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(upn, "upn"), Objects.requireNonNull(displayName, "displayName"));
    }

    /**
     * The user the authorize endpoint answers for (there is no interactive login): every authorize request for this
     * tenant is "signed in and consented" as this user. Defaults to the first user registered in the tenant.
     */
    public GraphFake signInAs(String tenant, String upn) {
        delegated().signInAs(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(upn, "upn"));
        return this;
    }

    /**
     * Adds a redirect URI to the app registration. The authorize endpoint requires an exact match (for
     * {@code http://localhost} the port is ignored, as in Entra); otherwise it shows an AADSTS50011 error page.
     */
    public GraphFake registerRedirectUri(String tenant, String clientId, String uri) {
        delegated().registerRedirectUri(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(clientId, "clientId"), Objects.requireNonNull(uri, "uri"));
        return this;
    }

    /**
     * Lets delegated tokens of this user open another mailbox (a shared mailbox, or a mailbox shared with the user)
     * through {@code /v1.0/users/{mailboxAddress}/...}; mail requests then also need {@code Mail.Read.Shared} or
     * {@code Mail.ReadWrite.Shared} (writes: {@code Mail.ReadWrite.Shared}).
     */
    public GraphFake grantMailboxAccess(String upn, String mailboxAddress) {
        delegated().grantMailboxAccess(Objects.requireNonNull(upn, "upn"),
                Objects.requireNonNull(mailboxAddress, "mailboxAddress"));
        return this;
    }

    /** Undoes {@link #grantMailboxAccess}. */
    public GraphFake revokeMailboxAccess(String upn, String mailboxAddress) {
        delegated().revokeMailboxAccess(Objects.requireNonNull(upn, "upn"),
                Objects.requireNonNull(mailboxAddress, "mailboxAddress"));
        return this;
    }

    /**
     * The next authorize request that passes client and redirect URI validation is answered (by redirect or form
     * post, as asked) with {@code error}, {@code error_description} and {@code state} instead of a code, e.g.
     * {@code failNextAuthorize("access_denied", "AADSTS65004: User declined to consent to access the app.")}.
     * The description is sent as given (URL-encoded, or HTML-escaped in the form post page).
     */
    public GraphFake failNextAuthorize(String error, String description) {
        delegated().failNextAuthorize(Objects.requireNonNull(error, "error"), description);
        return this;
    }

    /**
     * Makes a registered user an administrator who may consent for the whole tenant (Global, Application or Cloud
     * Application Administrator). Only such a signed-in user gets {@code admin_consent=True} from
     * {@link #adminConsentEndpoint}: {@code GET {tenant}/v2.0/adminconsent?client_id&redirect_uri&scope&state} checks
     * the client and the redirect URI (unregistered: the AADSTS50011 error page, as the authorize endpoint), records
     * consent to {@code scope} for every user of the tenant and redirects to {@code redirect_uri} with
     * {@code admin_consent=True&tenant=<tenant id>&scope=<scope>&state=<state>}. A signed-in user who is no
     * administrator is sent back with {@code admin_consent=True&error=access_denied} and AADSTS90093.
     */
    public GraphFake makeTenantAdmin(String tenant, String upn) {
        delegated().makeTenantAdmin(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(upn, "upn"));
        return this;
    }

    /**
     * The tenant's user consent setting becomes "Do not allow user consent": a user who is no tenant administrator
     * can sign in only to permissions an administrator consented to for the tenant ({@link #makeTenantAdmin}, the
     * admin consent endpoint). Otherwise the authorize endpoint answers (to the redirect URI, as the user returning
     * from Entra's "Need admin approval" page) {@code error=access_denied} with {@code AADSTS90094: <app> needs
     * permission to access resources in your organization that only an admin can grant. ...}.
     */
    public GraphFake disableUserConsent(String tenant) {
        delegated().disableUserConsent(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")));
        return this;
    }

    /**
     * The next admin consent request that passes client and redirect URI validation is answered with
     * {@code admin_consent=True&error=<error>&error_description=<description>&state=<state>} (the administrator
     * declined), e.g. Microsoft's documented {@code consent_required} with
     * {@code AADSTS65004: The resource owner or authorization server denied the request.}, or
     * {@code access_denied}. Nothing is consented.
     */
    public GraphFake failNextAdminConsent(String error, String description) {
        delegated().failNextAdminConsent(Objects.requireNonNull(error, "error"), description);
        return this;
    }

    /** The permissions (e.g. {@code https://graph.microsoft.com/Mail.ReadWrite}) admin-consented for the tenant. */
    public Set<String> adminConsentedScopes(String tenant, String clientId) {
        return delegated().tenantConsent(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(clientId, "clientId"));
    }

    /**
     * Withdraws every consent to the app in the tenant (the tenant's and each user's), as an administrator removing
     * the app's permissions: refreshing a grant then gets 400 {@code invalid_grant} AADSTS65001.
     */
    public GraphFake revokeConsents(String tenant, String clientId) {
        delegated().revokeConsents(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(clientId, "clientId"));
        return this;
    }

    /**
     * Off (default, as in Entra): a redeemed refresh token stays valid next to its rotated successor. On: a refresh
     * token works once; redeeming it again gets 400 {@code invalid_grant} AADSTS70008, which proves the client
     * saved the new one. Of two concurrent redemptions of one token only one succeeds.
     */
    public GraphFake revokeOldRefreshTokensOnRotation(boolean revoke) {
        delegated().revokeOnRotation(revoke);
        return this;
    }

    /**
     * Revokes every refresh token issued to the user so far (all clients): redeeming one gets 400
     * {@code invalid_grant} with {@code error_codes:[aadsts]} and Entra's {@code AADSTS<aadsts>: ...} description,
     * e.g. 50173 (grant revoked, password reset), 700082 (expired after inactivity), 70043, 50076, 53003. Access
     * tokens already issued stay valid until they expire, and a new authorization issues working tokens again.
     */
    public GraphFake revokeGrants(String tenant, String upn, int aadsts) {
        delegated().revokeGrants(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(upn, "upn"), aadsts);
        return this;
    }

    /** Every authorization code issued so far is expired (redeeming one gets {@code invalid_grant} AADSTS70008). */
    public void expireAuthorizationCodes() {
        delegated().expireCodes();
    }

    /** Successful {@code refresh_token} grants (failed attempts are in {@link #tokenRequests()}). */
    public int refreshRedemptions() {
        return delegated().refreshRedemptions();
    }

    /** Successful {@code authorization_code} grants. */
    public int authorizationCodeRedemptions() {
        return delegated().codeRedemptions();
    }

    /** The refresh token most recently issued to this user (code redemption or rotation), for assertions only. */
    public Optional<String> lastRefreshTokenIssued(String upn) {
        return delegated().lastRefreshTokenIssued(Objects.requireNonNull(upn, "upn"));
    }

    /**
     * A valid delegated Graph access token for a registered user, issued without HTTP, with Graph permissions such
     * as {@code Mail.ReadWrite} or {@code Mail.ReadWrite.Shared} (not counted in {@link #tokensIssued()}).
     */
    public String mintDelegatedToken(String tenant, String upn, String... scopes) {
        return delegated().mint(tokens.tenantKey(Objects.requireNonNull(tenant, "tenant")),
                Objects.requireNonNull(upn, "upn"), List.of(scopes));
    }

    DelegatedAuth delegatedAccess() {
        return tokens.delegated();
    }

    private DelegatedAuth delegated() {
        return tokens.delegated();
    }

    /** Lifetime ({@code expires_in}) of tokens issued from now on; default 3600 s. */
    public GraphFake tokenLifetime(Duration lifetime) {
        tokens.lifetime(lifetime);
        return this;
    }

    /**
     * An access token as issued, for resource servers outside the fake (the IMAP server of the tests).
     *
     * @param upn      the signed-in user, or null for an app-only (client credentials) token
     * @param resource e.g. {@code https://outlook.office365.com} or {@code https://graph.microsoft.com}
     */
    public record IssuedToken(String token, String clientId, String upn, String resource, Instant expiresAt) {
    }

    /** Calls {@code listener} for every access token issued from now on (by any flow, also minted ones). */
    public GraphFake onAccessTokenIssued(java.util.function.Consumer<IssuedToken> listener) {
        tokens.onIssued(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Every token issued so far is expired now (Graph answers 401 InvalidAuthenticationToken). */
    public void expireAllTokens() {
        tokens.expireAll();
    }

    /** Number of tokens issued by the token endpoint (not counting {@link #mintAccessToken()}). */
    public int tokensIssued() {
        return tokens.issued();
    }

    /** A valid Graph access token, issued directly without HTTP (for tests that do not care about auth). */
    public String mintAccessToken() {
        return tokens.mint("direct", "direct");
    }

    // ================================================================== device code flow (public clients)

    /**
     * Turns on the app registration's "Allow public client flows": the device code flow
     * ({@code POST /{tenant}/oauth2/v2.0/devicecode}, then {@code grant_type=device_code} polling) and
     * {@code refresh_token} without client credentials. Without it, device code and device code grant requests get
     * 400 {@code invalid_client} AADSTS7000218; with it, such a request that presents a secret or assertion gets 400
     * {@code invalid_client} AADSTS700025. Registers the app (with a secret nobody knows) if it is not registered.
     */
    public GraphFake allowPublicClientFlows(String tenant, String clientId) {
        deviceCodes.allowPublicClientFlows(Objects.requireNonNull(tenant, "tenant"),
                Objects.requireNonNull(clientId, "clientId"));
        return this;
    }

    /**
     * The user signs in at the verification URI, enters this user code (case-insensitive, dashes ignored) and
     * consents: the next poll gets tokens for this registered user. Throws if the code is unknown, expired, or no
     * longer pending.
     */
    public GraphFake approveDeviceCode(String userCode, String upn) {
        deviceCodes.approve(Objects.requireNonNull(userCode, "userCode"), Objects.requireNonNull(upn, "upn"));
        return this;
    }

    /** The user enters the code and declines: the next poll gets 400 {@code authorization_declined}. */
    public GraphFake declineDeviceCode(String userCode) {
        deviceCodes.decline(Objects.requireNonNull(userCode, "userCode"));
        return this;
    }

    /** The newest pending (not approved, declined or expired) user code issued to this client. */
    public Optional<String> pendingUserCode(String tenant, String clientId) {
        return deviceCodes.pendingUserCode(Objects.requireNonNull(tenant, "tenant"),
                Objects.requireNonNull(clientId, "clientId"));
    }

    /** {@link #pendingUserCode}, waiting up to {@code timeout} for one to be issued. */
    public Optional<String> awaitPendingUserCode(String tenant, String clientId, Duration timeout)
            throws InterruptedException {
        return deviceCodes.awaitPendingUserCode(Objects.requireNonNull(tenant, "tenant"),
                Objects.requireNonNull(clientId, "clientId"), Objects.requireNonNull(timeout, "timeout"));
    }

    /** The {@code interval} (whole seconds) of device codes issued from now on; default 1 s (Entra: 5 s). */
    public GraphFake deviceCodePollingInterval(Duration interval) {
        deviceCodes.interval(Objects.requireNonNull(interval, "interval"));
        return this;
    }

    /** The {@code expires_in} (whole seconds) of device codes issued from now on; default 900 s. */
    public GraphFake deviceCodeLifetime(Duration lifetime) {
        deviceCodes.lifetime(Objects.requireNonNull(lifetime, "lifetime"));
        return this;
    }

    /** Every device code issued so far is expired: polling gets 400 {@code expired_token} AADSTS70019. */
    public void expireDeviceCodes() {
        deviceCodes.expireAll();
    }

    /** Successful device code grants. */
    public int deviceCodeRedemptions() {
        return deviceCodes.redemptions();
    }

    DeviceCodeGrant deviceCodes() {
        return deviceCodes;
    }

    // ================================================================== graph setup

    /** The mailbox for this address (case-insensitive), created with the default folders if needed. */
    public FakeMailbox mailbox(String address) {
        Objects.requireNonNull(address, "address");
        return mailboxes.computeIfAbsent(address.toLowerCase(Locale.ROOT), k -> new FakeMailbox(address, ids));
    }

    public Optional<FakeMailbox> findMailbox(String address) {
        return Optional.ofNullable(existingMailbox(address));
    }

    FakeMailbox existingMailbox(String address) {
        return address == null ? null : mailboxes.get(address.toLowerCase(Locale.ROOT));
    }

    /** Delay every Graph response by this much (before the status line). Other requests are served meanwhile. */
    public GraphFake latency(Duration latency) {
        this.latency = Objects.requireNonNull(latency, "latency");
        return this;
    }

    // ================================================================== faults

    /** Queues a fault; faults are checked in the order they were queued and at most one acts on a request. */
    public FaultHandle fault(Fault fault) {
        FaultHandle handle = new FaultHandle(Objects.requireNonNull(fault, "fault"));
        synchronized (faults) {
            faults.add(handle);
        }
        return handle;
    }

    /** Cancels all queued faults. */
    public void clearFaults() {
        synchronized (faults) {
            faults.forEach(FaultHandle::cancel);
            faults.clear();
        }
    }

    private FaultHandle pickFault(Fault.Target target, String method, String path, String mailbox,
                                  String grantType) {
        synchronized (faults) {
            faults.removeIf(FaultHandle::usedUp);
            for (FaultHandle h : faults) {
                if (h.fault().matches(target, method, path, mailbox, grantType) && h.consume()) {
                    return h;
                }
            }
            return null;
        }
    }

    /** Applies a matching fault. Returns true if the fault already sent the response. */
    boolean applyFault(FakeExchange x, Fault.Target target, String path, String mailbox) throws IOException {
        FaultHandle handle = pickFault(target, x.method, path, mailbox, x.entry.grantType);
        if (handle == null) {
            return false;
        }
        Fault f = handle.fault();
        x.entry.fault = f.toString();
        switch (f.kind()) {
            case DELAY:
                x.addDelay(f.delayAmount());
                return false;
            case RESET_MID_BODY:
                x.truncateBody();
                return false;
            default:
                break;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        if (f.retryAfterSeconds() != null) {
            headers.put("Retry-After", String.valueOf(f.retryAfterSeconds()));
        }
        if (f.rawBody() != null) {
            byte[] body = f.rawBody().getBytes(StandardCharsets.UTF_8);
            x.respond(f.status(), f.contentType(), headers, FakeExchange.Body.of(body));
        } else if (target == Fault.Target.TOKEN) {
            tokens.entraError(x, f.status(), f.tokenErrorCode(), f.tokenAadsts(), f.tokenMessage(),
                    f.retryAfterSeconds());
        } else {
            if (f.status() == 401) {
                headers.putAll(graphApi.unauthorized(f.graphMessage()).headers);
            }
            graphApi.sendError(x, f.status(), f.graphCode(), f.graphMessage(), headers);
        }
        return true;
    }

    // ================================================================== request log

    /** Snapshot of all requests (Graph and token) in arrival order; in-flight ones have status 0. */
    public List<LoggedRequest> requests() {
        synchronized (log) {
            return log.stream().map(RequestEntry::toRecord).collect(Collectors.toUnmodifiableList());
        }
    }

    /** Graph requests only. */
    public List<LoggedRequest> graphRequests() {
        return requests().stream().filter(r -> !r.tokenRequest()).collect(Collectors.toUnmodifiableList());
    }

    /** Token-server requests only. */
    public List<LoggedRequest> tokenRequests() {
        return requests().stream().filter(LoggedRequest::tokenRequest).collect(Collectors.toUnmodifiableList());
    }

    public void clearRequests() {
        synchronized (log) {
            log.clear();
        }
    }

    /** Maximum number of Graph requests to this mailbox that were in flight at the same time (entry to completion). */
    public int peakConcurrency(String address) {
        InFlight f = inFlightByMailbox.get(address.toLowerCase(Locale.ROOT));
        return f == null ? 0 : f.peak.get();
    }

    /** Maximum number of Graph requests (all mailboxes) in flight at the same time. */
    public int peakConcurrency() {
        return inFlightGraph.peak.get();
    }

    /** Graph requests to this mailbox in flight right now. */
    public int inFlight(String address) {
        InFlight f = inFlightByMailbox.get(address.toLowerCase(Locale.ROOT));
        return f == null ? 0 : f.current.get();
    }

    /** Resets all peaks to the current in-flight counts. */
    public void resetPeakConcurrency() {
        inFlightGraph.resetPeak();
        inFlightByMailbox.values().forEach(InFlight::resetPeak);
    }

    /** Unexpected exceptions inside the fake's handlers (answered with 500); a test can assert this is empty. */
    public List<Throwable> internalErrors() {
        synchronized (internalErrors) {
            return List.copyOf(internalErrors);
        }
    }

    // ================================================================== handlers

    private void handleGraph(HttpExchange http) {
        Instant at = Instant.now();
        List<String> segments;
        String path;
        try {
            segments = FakeHttp.decodePath(http.getRequestURI().getRawPath());
            path = "/" + String.join("/", segments);
        } catch (IllegalArgumentException e) {
            segments = null;
            path = http.getRequestURI().getRawPath();
        }
        String mailbox = segments != null && segments.size() >= 3 && segments.get(0).equals("v1.0")
                && segments.get(1).equalsIgnoreCase("users") ? segments.get(2).toLowerCase(Locale.ROOT) : null;
        List<String> prefer = http.getRequestHeaders().get("Prefer");
        RequestEntry entry = arrive(at, http, path, prefer == null ? null : String.join(", ", prefer), mailbox, false);
        InFlight perMailbox = mailbox == null ? null : inFlightByMailbox.computeIfAbsent(mailbox, k -> new InFlight());
        inFlightGraph.enter();
        if (perMailbox != null) {
            perMailbox.enter();
        }
        FakeExchange x = null;
        try {
            if (segments == null) {
                x = new FakeExchange(http, entry, List.of());
                x.addDelay(latency);
                graphApi.sendError(x, 400, "BadRequest", "Malformed percent-encoding in the URL path.", null);
                return;
            }
            x = new FakeExchange(http, entry, segments);
            x.onComplete(() -> {
                if (perMailbox != null) {
                    perMailbox.exit();
                }
                inFlightGraph.exit();
                entry.completedAt = Instant.now();
            });
            x.addDelay(latency);
            x.body = http.getRequestBody().readAllBytes();
            graphApi.handle(x);
        } catch (GraphError e) {
            respondGraphError(x, http, entry, e);
        } catch (IllegalArgumentException e) {        // e.g. malformed percent-encoding in the query
            respondGraphError(x, http, entry, GraphError.badRequest("Malformed request: " + e.getMessage()));
        } catch (IOException e) {
            // client went away or the connection was cut on purpose
        } catch (RuntimeException | Error e) {
            recordInternalError(e);
            respondGraphError(x, http, entry, new GraphError(500, "InternalServerError",
                    "GraphFake internal error: " + e));
        } finally {
            if (x != null && x.hasCompletionHook()) {
                x.finish();                      // settles the counters if the response did not already
            } else {
                if (x != null) {
                    x.finish();
                } else {
                    http.close();
                }
                if (perMailbox != null) {
                    perMailbox.exit();
                }
                inFlightGraph.exit();
                entry.completedAt = Instant.now();
            }
        }
    }

    private void respondGraphError(FakeExchange x, HttpExchange http, RequestEntry entry, GraphError e) {
        try {
            FakeExchange exchange = x != null ? x : new FakeExchange(http, entry, List.of());
            if (!exchange.responded()) {
                graphApi.sendError(exchange, e.status, e.code, e.getMessage(), e.headers);
            }
        } catch (IOException | RuntimeException ignored) {
            // nothing more we can do
        }
    }

    private void handleToken(HttpExchange http) {
        Instant at = Instant.now();
        List<String> segments;
        String path;
        try {
            segments = FakeHttp.decodePath(http.getRequestURI().getRawPath());
            path = "/" + String.join("/", segments);
        } catch (IllegalArgumentException e) {
            segments = List.of();
            path = http.getRequestURI().getRawPath();
        }
        RequestEntry entry = arrive(at, http, path, null, null, true);
        FakeExchange x = null;
        try {
            x = new FakeExchange(http, entry, segments);
            x.onComplete(() -> entry.completedAt = Instant.now());
            x.body = http.getRequestBody().readAllBytes();
            tokens.handle(x);
        } catch (IOException e) {
            // client went away
        } catch (RuntimeException | Error e) {
            recordInternalError(e);
            try {
                if (x != null && !x.responded()) {
                    tokens.entraError(x, 500, "server_error", 50000, "GraphFake internal error: " + e);
                }
            } catch (IOException | RuntimeException ignored) {
                // nothing more we can do
            }
        } finally {
            if (x != null) {
                x.finish();
            } else {
                http.close();
                entry.completedAt = Instant.now();
            }
        }
    }

    private void recordInternalError(Throwable e) {
        synchronized (internalErrors) {
            internalErrors.add(e);
        }
        System.err.println("GraphFake internal error:");
        e.printStackTrace();
    }

    private RequestEntry arrive(Instant at, HttpExchange http, String path, String prefer, String mailbox,
                                boolean token) {
        synchronized (log) {
            String query = http.getRequestURI().getRawQuery();
            if (token && query != null) {              // credentials belong in the body; never log them anyway
                query = SECRET_PARAMETERS.matcher(query).replaceAll("$1$2=***");
            }
            RequestEntry e = new RequestEntry(requestSequence.incrementAndGet(), at,
                    http.getRequestMethod().toUpperCase(Locale.ROOT), path, query, prefer, mailbox, token);
            log.add(e);
            return e;
        }
    }

    /** Mutable log entry, filled in while the request is handled. */
    static final class RequestEntry {
        final long sequence;
        final Instant at;
        final String method;
        final String path;
        final String query;
        final String prefer;
        final String mailbox;
        final boolean token;
        volatile Instant completedAt;
        volatile int status;
        volatile String grantType;
        volatile String clientId;
        volatile String fault;

        RequestEntry(long sequence, Instant at, String method, String path, String query, String prefer,
                     String mailbox, boolean token) {
            this.sequence = sequence;
            this.at = at;
            this.method = method;
            this.path = path;
            this.query = query;
            this.prefer = prefer;
            this.mailbox = mailbox;
            this.token = token;
        }

        LoggedRequest toRecord() {
            Instant done = completedAt;
            return new LoggedRequest(sequence, at, done, method, path, query, prefer, done == null ? 0 : status,
                    mailbox, token, grantType, clientId, fault);
        }
    }

    private static final class InFlight {
        final AtomicInteger current = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        void enter() {
            int now = current.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
        }

        void exit() {
            current.decrementAndGet();
        }

        void resetPeak() {
            peak.set(current.get());
        }
    }
}

package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Entra-ID-shaped token server: client registry and client authentication, access-token bookkeeping, the
 * {@code client_credentials} grant, discovery documents; the delegated flows (authorize endpoint,
 * {@code authorization_code}, {@code refresh_token}) are in {@link DelegatedAuth}.
 */
final class TokenEndpoint {

    static final String GRAPH_RESOURCE = "https://graph.microsoft.com";
    static final Set<String> GRANT_TYPES = Set.of("client_credentials", "authorization_code", "refresh_token");

    enum Validity { VALID, EXPIRED, WRONG_AUDIENCE, UNKNOWN }

    /**
     * Who a valid access token speaks for. {@code upn} is null for app-only (client credentials) tokens;
     * {@code permissions} are the delegated permissions in lower case without the resource, e.g.
     * {@code mail.readwrite}.
     */
    record Caller(String tenant, String clientId, String upn, Set<String> permissions) {
        boolean delegated() {
            return upn != null;
        }

        boolean has(String permission) {
            return permissions.contains(permission.toLowerCase(Locale.ROOT));
        }
    }

    private record Issued(String tenant, String clientId, String resource, Instant expiresAt, String upn,
                          Set<String> permissions) {
        Issued expiredAt(Instant t) {
            return new Issued(tenant, clientId, resource, t, upn, permissions);
        }
    }

    private final GraphFake fake;
    private final ObjectMapper json;
    private final SecureRandom random = new SecureRandom();
    private final IdTokenSigner signer;
    private final DelegatedAuth delegated;
    private final ClientAssertions assertions;
    /** tenant (lower-case) → client id (lower-case) → secret ("" for an app with certificate credentials only). */
    private final Map<String, Map<String, String>> clients = new ConcurrentHashMap<>();
    /** "tenant|client" (lower-case) of clients whose secret has expired. */
    private final Set<String> expiredSecrets = ConcurrentHashMap.newKeySet();
    private final Map<String, Issued> tokens = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<GraphFake.IssuedToken>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger issuedCount = new AtomicInteger();
    private volatile Duration lifetime = Duration.ofHours(1);

    TokenEndpoint(GraphFake fake, ObjectMapper json) {
        this.fake = fake;
        this.json = json;
        this.signer = new IdTokenSigner(json);
        this.delegated = new DelegatedAuth(fake, this, json, signer);
        this.assertions = new ClientAssertions(json);
    }

    DelegatedAuth delegated() {
        return delegated;
    }

    // ------------------------------------------------------------------ state

    void registerClient(String tenant, String clientId, String secret) {
        clients.computeIfAbsent(tenant.toLowerCase(Locale.ROOT), t -> new ConcurrentHashMap<>())
                .put(clientId.toLowerCase(Locale.ROOT), secret);
        expiredSecrets.remove(clientKey(tenantKey(tenant), clientId));
    }

    /** Adds a certificate credential; registers the app (without a secret) if it is new. */
    void registerCertificate(String tenant, String clientId, X509Certificate certificate) {
        String t = tenantKey(tenant);
        clients.computeIfAbsent(t, k -> new ConcurrentHashMap<>()).putIfAbsent(clientId.toLowerCase(Locale.ROOT), "");
        assertions.register(t, clientId, certificate);
    }

    void rejectReusedClientAssertions(boolean reject) {
        assertions.rejectReplays(reject);
    }

    void expireClientSecret(String tenant, String clientId) {
        String t = resolveTenant(tenant);
        if (t == null || !clientExists(t, clientId)) {
            throw new IllegalArgumentException("no client '" + clientId + "' registered in tenant '" + tenant + "'");
        }
        expiredSecrets.add(clientKey(t, clientId));
    }

    boolean clientExists(String tenantKey, String clientId) {
        Map<String, String> c = clients.get(tenantKey);
        return c != null && clientId != null && c.containsKey(clientId.toLowerCase(Locale.ROOT));
    }

    /**
     * The registered tenant a path segment names: its name (case-insensitive) or its tenant id (see
     * {@link #tenantId}); null if none.
     */
    String resolveTenant(String segment) {
        String lower = segment.toLowerCase(Locale.ROOT);
        if (clients.containsKey(lower)) {
            return lower;
        }
        for (String t : clients.keySet()) {
            if (tenantId(t).equals(lower)) {
                return t;
            }
        }
        return null;
    }

    /** {@link #resolveTenant} or, for tenants without clients yet, the lower-cased name. */
    String tenantKey(String tenant) {
        String t = resolveTenant(tenant);
        return t != null ? t : tenant.toLowerCase(Locale.ROOT);
    }

    /** The tenant's id (a GUID derived from its name), used in {@code tid}, {@code utid} and {@code iss}. */
    String tenantId(String tenant) {
        return UUID.nameUUIDFromBytes(tenant.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static String clientKey(String tenantKey, String clientId) {
        return tenantKey + "|" + clientId.toLowerCase(Locale.ROOT);
    }

    Duration lifetime() {
        return lifetime;
    }

    void countIssued() {
        issuedCount.incrementAndGet();
    }

    void lifetime(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative lifetime");
        }
        lifetime = d;
    }

    void expireAll() {
        Instant now = Instant.now();
        tokens.replaceAll((token, issued) -> issued.expiresAt().isAfter(now) ? issued.expiredAt(now) : issued);
    }

    int issued() {
        return issuedCount.get();
    }

    /** A valid Graph token without an HTTP round trip (not counted in {@link #issued()}). */
    String mint(String tenant, String clientId) {
        return newToken(tenant, clientId, GRAPH_RESOURCE, lifetime);
    }

    /** Who a token speaks for, or null if it is unknown. */
    Caller caller(String token) {
        Issued issued = token == null ? null : tokens.get(token);
        return issued == null ? null : new Caller(issued.tenant(), issued.clientId(), issued.upn(),
                issued.permissions());
    }

    Validity validate(String token) {
        Issued issued = token == null ? null : tokens.get(token);
        if (issued == null) {
            return Validity.UNKNOWN;
        }
        if (!Instant.now().isBefore(issued.expiresAt())) {
            return Validity.EXPIRED;
        }
        return GRAPH_RESOURCE.equalsIgnoreCase(issued.resource()) ? Validity.VALID : Validity.WRONG_AUDIENCE;
    }

    private String newToken(String tenant, String clientId, String resource, Duration life) {
        return store(new Issued(tenant, clientId, resource, Instant.now().plus(life), null, Set.of()));
    }

    /** A delegated access token for the user (not counted; see {@link #countIssued()}). */
    String newDelegatedToken(String tenant, String clientId, String resource, DelegatedAuth.User user,
                             Set<String> permissions, Duration life) {
        return store(new Issued(tenant, clientId, resource, Instant.now().plus(life), user.upn(),
                Set.copyOf(permissions)));
    }

    private String store(Issued issued) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String token = "fake-at-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        tokens.put(token, issued);
        GraphFake.IssuedToken event = new GraphFake.IssuedToken(token, issued.clientId(), issued.upn(),
                issued.resource(), issued.expiresAt());
        listeners.forEach(l -> l.accept(event));
        return token;
    }

    void onIssued(java.util.function.Consumer<GraphFake.IssuedToken> listener) {
        listeners.add(listener);
    }

    // ------------------------------------------------------------------ HTTP

    void handle(FakeExchange x) throws IOException {
        List<String> s = x.segments;
        String path = "/" + String.join("/", s);
        if (x.method.equals("POST")) {               // log who asked, even if a fault answers
            Map<String, String> form = FakeHttp.parseForm(x.body);
            x.entry.grantType = form.get("grant_type");
            x.entry.clientId = form.get("client_id");
        } else {
            x.entry.clientId = x.option("client_id");
        }
        if (fake.applyFault(x, Fault.Target.TOKEN, path, null)) {
            return;
        }
        if (fake.deviceCodes().handle(x, s)) {     // device code flow and public-client refresh (DeviceCodeGrant)
            return;
        }
        if (s.size() == 4 && s.get(1).equals("oauth2") && s.get(2).equals("v2.0") && s.get(3).equals("authorize")) {
            delegated.authorize(x, s.get(0));
        } else if (s.size() == 3 && s.get(1).equals("v2.0") && s.get(2).equals("adminconsent")) {
            delegated.adminConsent(x, s.get(0));
        } else if (s.size() == 4 && s.get(1).equals("oauth2") && s.get(2).equals("v2.0")
                && s.get(3).equals("token")) {
            if (!x.method.equals("POST")) {
                entraError(x, 405, "invalid_request", 900561,
                        "The endpoint only accepts POST requests. Received a " + x.method + " request.");
                return;
            }
            token(x, s.get(0));
        } else if (x.method.equals("GET") && s.size() == 4 && s.get(1).equals("v2.0")
                && s.get(2).equals(".well-known") && s.get(3).equals("openid-configuration")
                || x.method.equals("GET") && s.size() == 3 && s.get(1).equals(".well-known")
                && s.get(2).equals("openid-configuration")) {
            openIdConfiguration(x, s.get(0));
        } else if (x.method.equals("GET") && s.size() == 3 && s.get(1).equals("discovery")
                && s.get(2).equals("instance")) {
            instanceDiscovery(x);
        } else if (x.method.equals("GET") && s.size() == 4 && s.get(1).equals("discovery")
                && s.get(3).equals("keys")) {
            String tenant = resolveTenant(s.get(0));
            send(x, 200, signer.jwks(fake.authorityHost() + "/" + tenantId(tenant != null ? tenant : s.get(0))
                    + "/v2.0"));
        } else {
            entraError(x, 404, "invalid_request", 90027, "The request path " + path + " is not supported by the fake.");
        }
    }

    private void token(FakeExchange x, String tenantSegment) throws IOException {
        Map<String, String> form = FakeHttp.parseForm(x.body);
        String grantType = form.get("grant_type");
        String clientId = form.get("client_id");
        String secret = form.get("client_secret");
        String basic = x.header("Authorization");
        if (basic != null && basic.regionMatches(true, 0, "Basic ", 0, 6)) {      // client_secret_basic
            String decoded = new String(Base64.getDecoder().decode(basic.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            if (colon > 0) {
                clientId = clientId != null ? clientId
                        : URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8);
                secret = URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8);
            }
        }
        x.entry.grantType = grantType;
        x.entry.clientId = clientId;

        if (grantType == null) {
            missing(x, "grant_type");
            return;
        }
        String tenant = resolveTenant(tenantSegment);
        if (tenant == null) {
            entraError(x, 400, "invalid_request", 90002, "Tenant '" + tenantSegment + "' not found. Check to make "
                    + "sure you have the correct tenant ID and are signing into the correct cloud. Check with your "
                    + "subscription administrator, this may happen if there are no active subscriptions for the "
                    + "tenant.");
            return;
        }
        if (!GRANT_TYPES.contains(grantType)) {
            entraError(x, 400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type '" + grantType + "'.");
            return;
        }
        if (clientId == null) {
            missing(x, "client_id");
            return;
        }
        String expected = clients.get(tenant).get(clientId.toLowerCase(Locale.ROOT));
        if (expected == null) {
            entraError(x, 400, "unauthorized_client", 700016, "Application with identifier '" + clientId
                    + "' was not found in the directory '" + tenantSegment + "'. This can happen if the application "
                    + "has not been installed by the administrator of the tenant or consented to by any user in the "
                    + "tenant. You may have sent your authentication request to the wrong tenant.");
            return;
        }
        String assertion = form.get("client_assertion");
        String assertionType = form.get("client_assertion_type");
        if (assertion != null || assertionType != null) {
            if (secret != null && !secret.isEmpty()) {
                entraError(x, 400, "invalid_request", ClientAssertions.TWO_CREDENTIALS, "(GraphFake) The request "
                        + "contains both 'client_secret' and 'client_assertion': authenticate the client with exactly "
                        + "one credential.");
                return;
            }
            if (!authenticateWithAssertion(x, tenant, clientId, assertion, assertionType)) {
                return;
            }
        } else if (secret == null || secret.isEmpty()) {
            entraError(x, 401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is "
                    + "required for the '" + grantType + "' grant type.");
            return;
        } else if (!expected.equals(secret)) {
            entraError(x, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                    + "sent in the request is the client secret value, not the client secret ID, for a secret added "
                    + "to app '" + clientId + "'.");
            return;
        } else if (expiredSecrets.contains(clientKey(tenant, clientId))) {
            entraError(x, 401, "invalid_client", 7000222, "The provided client secret keys for app '" + clientId
                    + "' are expired. Visit the Azure portal to create new keys for your app: "
                    + "https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: "
                    + "https://aka.ms/certCreds.");
            return;
        }
        switch (grantType) {
            case "authorization_code":
                delegated.redeemCode(x, tenant, clientId, form);
                return;
            case "refresh_token":
                delegated.redeemRefreshToken(x, tenant, clientId, form);
                return;
            default:
                clientCredentials(x, tenant, clientId, form);
        }
    }

    /**
     * {@code client_assertion_type} + {@code client_assertion} ({@code private_key_jwt}); sends the error and returns
     * false unless the assertion is good.
     */
    private boolean authenticateWithAssertion(FakeExchange x, String tenant, String clientId, String assertion,
                                              String assertionType) throws IOException {
        if (assertionType == null || assertionType.isEmpty()) {
            missing(x, "client_assertion_type");
            return false;
        }
        if (assertion == null || assertion.isEmpty()) {
            missing(x, "client_assertion");
            return false;
        }
        if (!assertionType.equals(ClientAssertions.JWT_BEARER)) {
            entraError(x, 400, "invalid_request", ClientAssertions.BAD_ASSERTION_TYPE, "(GraphFake) The value '"
                    + assertionType + "' of the parameter 'client_assertion_type' is not supported; use '"
                    + ClientAssertions.JWT_BEARER + "'.");
            return false;
        }
        ClientAssertions.Failure failure = assertions.verify(tenant, Set.of(tenant, tenantId(tenant)),
                fake.authorityHost(), clientId, assertion);
        if (failure != null) {
            entraError(x, failure.status(), failure.error(), failure.aadsts(), failure.description());
            return false;
        }
        return true;
    }

    private void clientCredentials(FakeExchange x, String tenant, String clientId, Map<String, String> form)
            throws IOException {
        String scope = form.get("scope");
        if (scope == null || scope.isBlank()) {
            missing(x, "scope");
            return;
        }
        String resource = null;
        for (String s : scope.trim().split("\\s+")) {
            if (s.endsWith("/.default")) {
                resource = s.substring(0, s.length() - "/.default".length());
            }
        }
        if (resource == null) {
            entraError(x, 400, "invalid_scope", 1002012, "The provided value for scope " + scope + " is not valid. "
                    + "Client credential flows must have a scope value with /.default suffixed to the resource "
                    + "identifier (application ID URI).");
            return;
        }
        Duration life = lifetime;
        String token = newToken(tenant, clientId, resource, life);
        issuedCount.incrementAndGet();
        ObjectNode body = json.createObjectNode();
        body.put("token_type", "Bearer");
        body.put("expires_in", life.getSeconds());
        body.put("ext_expires_in", life.getSeconds());
        body.put("access_token", token);
        sendToken(x, body);
    }

    /** 200 with a token response body and Entra's no-cache headers. */
    void sendToken(FakeExchange x, ObjectNode body) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Cache-Control", "no-store, no-cache");
        headers.put("Pragma", "no-cache");
        headers.put("x-ms-request-id", x.requestId);
        x.respond(200, FakeHttp.ENTRA_JSON, headers, FakeExchange.Body.of(json.writeValueAsBytes(body)));
    }

    void missing(FakeExchange x, String parameter) throws IOException {
        entraError(x, 400, "invalid_request", 900144,
                "The request body must contain the following parameter: '" + parameter + "'.");
    }

    private void openIdConfiguration(FakeExchange x, String tenant) throws IOException {
        String base = fake.authorityHost() + "/" + tenant;
        String resolved = resolveTenant(tenant);
        String tenantId = tenantId(resolved != null ? resolved : tenant);
        ObjectNode c = json.createObjectNode();
        c.put("token_endpoint", base + "/oauth2/v2.0/token");
        c.putArray("token_endpoint_auth_methods_supported")
                .add("client_secret_post").add("private_key_jwt").add("client_secret_basic");
        c.put("jwks_uri", base + "/discovery/v2.0/keys");
        c.putArray("response_modes_supported").add("query").add("fragment").add("form_post");
        c.putArray("subject_types_supported").add("pairwise");
        c.putArray("id_token_signing_alg_values_supported").add("RS256");
        c.putArray("response_types_supported").add("code").add("id_token").add("code id_token").add("id_token token");
        c.putArray("scopes_supported").add("openid").add("profile").add("email").add("offline_access");
        c.put("issuer", fake.authorityHost() + "/" + tenantId + "/v2.0");
        c.put("request_uri_parameter_supported", false);
        c.put("userinfo_endpoint", "https://graph.microsoft.com/oidc/userinfo");
        c.put("authorization_endpoint", base + "/oauth2/v2.0/authorize");
        c.put("device_authorization_endpoint", base + "/oauth2/v2.0/devicecode");
        c.put("http_logout_supported", true);
        c.put("frontchannel_logout_supported", true);
        c.put("end_session_endpoint", base + "/oauth2/v2.0/logout");
        ArrayNode claims = c.putArray("claims_supported");
        for (String claim : new String[]{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}) {
            claims.add(claim);
        }
        c.put("kerberos_endpoint", base + "/kerberos");
        c.put("tenant_region_scope", "EU");
        c.put("cloud_instance_name", "microsoftonline.com");
        c.put("cloud_graph_host_name", "graph.windows.net");
        c.put("msgraph_host", "graph.microsoft.com");
        c.put("rbac_url", "https://pas.windows.net");
        send(x, 200, c);
    }

    private void instanceDiscovery(FakeExchange x) throws IOException {
        String tenant = "common";
        String authorizationEndpoint = x.option("authorization_endpoint");
        if (authorizationEndpoint != null) {
            try {
                List<String> p = FakeHttp.decodePath(java.net.URI.create(authorizationEndpoint).getRawPath());
                if (!p.isEmpty()) {
                    tenant = p.get(0);
                }
            } catch (IllegalArgumentException ignored) {
                // keep "common"
            }
        }
        ObjectNode d = json.createObjectNode();
        d.put("tenant_discovery_endpoint",
                fake.authorityHost() + "/" + tenant + "/v2.0/.well-known/openid-configuration");
        d.put("api-version", "1.1");
        ObjectNode entry = d.putArray("metadata").addObject();
        entry.put("preferred_network", "localhost");
        entry.put("preferred_cache", "localhost");
        entry.putArray("aliases").add("localhost");
        send(x, 200, d);
    }

    private void send(FakeExchange x, int status, ObjectNode body) throws IOException {
        x.respond(status, FakeHttp.ENTRA_JSON, Map.of("x-ms-request-id", x.requestId),
                FakeExchange.Body.of(json.writeValueAsBytes(body)));
    }

    /** Entra v2 error shape. */
    void entraError(FakeExchange x, int status, String error, int aadsts, String description) throws IOException {
        entraError(x, status, error, aadsts, description, null);
    }

    void entraError(FakeExchange x, int status, String error, int aadsts, String description, Integer retryAfter)
            throws IOException {
        Instant now = Instant.now();
        String traceId = x.requestId;
        String correlationId = x.header("client-request-id") != null ? x.header("client-request-id")
                : UUID.randomUUID().toString();
        String timestamp = FakeHttp.entraTimestamp(now);
        ObjectNode body = json.createObjectNode();
        body.put("error", error);
        body.put("error_description", "AADSTS" + aadsts + ": " + description + "\r\nTrace ID: " + traceId
                + "\r\nCorrelation ID: " + correlationId + "\r\nTimestamp: " + timestamp);
        body.putArray("error_codes").add(aadsts);
        body.put("timestamp", timestamp);
        body.put("trace_id", traceId);
        body.put("correlation_id", correlationId);
        body.put("error_uri", "https://login.microsoftonline.com/error?code=" + aadsts);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-request-id", traceId);
        headers.put("Cache-Control", "no-store, no-cache");
        if (retryAfter != null) {
            headers.put("Retry-After", String.valueOf(retryAfter));
        }
        x.respond(status, FakeHttp.ENTRA_JSON, headers, FakeExchange.Body.of(json.writeValueAsBytes(body)));
    }
}

package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The delegated (user) side of the Entra v2 fake: users and their mailbox grants, the authorize endpoint, the admin
 * consent endpoint (tenant-wide consent by a tenant administrator; tenants where users may not consent), and the
 * {@code authorization_code} and {@code refresh_token} grants. Client authentication and access-token bookkeeping
 * stay in {@link TokenEndpoint}. No secret, code or token is ever written to a log or an exception message.
 */
final class DelegatedAuth {

    static final Set<String> OIDC_SCOPES = Set.of("openid", "profile", "offline_access", "email");
    static final Duration CODE_LIFETIME = Duration.ofMinutes(10);
    static final Set<String> RESPONSE_MODES = Set.of("query", "fragment", "form_post");

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final String GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

    /** A user in a tenant; the object id is the one {@link FakeMailbox#userId()} gives the user's mailbox. */
    record User(String tenant, String upn, String displayName, String oid) {
    }

    /** A delegated permission on a resource, e.g. ({@code https://graph.microsoft.com}, {@code Mail.ReadWrite}). */
    record Scope(String resource, String permission) {
        String key() {
            return resource + "/" + permission.toLowerCase(Locale.ROOT);
        }

        String full() {
            return resource + "/" + permission;
        }
    }

    private static final class AuthCode {
        final String tenant;
        final String clientId;
        final String redirectUri;
        final String scope;
        final String challenge;
        final String challengeMethod;
        final String nonce;
        final User user;
        volatile Instant expiresAt;
        final AtomicBoolean used = new AtomicBoolean();

        AuthCode(String tenant, String clientId, String redirectUri, String scope, String challenge,
                 String challengeMethod, String nonce, User user, Instant expiresAt) {
            this.tenant = tenant;
            this.clientId = clientId;
            this.redirectUri = redirectUri;
            this.scope = scope;
            this.challenge = challenge;
            this.challengeMethod = challengeMethod;
            this.nonce = nonce;
            this.user = user;
            this.expiresAt = expiresAt;
        }
    }

    private static final class RefreshGrant {
        final String tenant;
        final String clientId;
        final User user;
        final String scope;
        final long generation;
        final Instant issuedAt;
        final AtomicBoolean rotatedAway = new AtomicBoolean();

        RefreshGrant(String tenant, String clientId, User user, String scope, long generation, Instant issuedAt) {
            this.tenant = tenant;
            this.clientId = clientId;
            this.user = user;
            this.scope = scope;
            this.generation = generation;
            this.issuedAt = issuedAt;
        }
    }

    private record Revocation(int aadsts, long generation, Instant at) {
    }

    /** What a token request was granted: one resource, its permissions, and the OIDC extras. */
    private record Granted(String resource, Set<String> permissions, String scope, boolean openid,
                           boolean offlineAccess) {
    }

    private final GraphFake fake;
    private final TokenEndpoint tokens;
    private final ObjectMapper json;
    private final IdTokenSigner signer;
    private final SecureRandom random = new SecureRandom();

    /** tenant → upn (lower-case) → user, in registration order. Guarded by itself. */
    private final Map<String, LinkedHashMap<String, User>> users = new LinkedHashMap<>();
    /** tenant → upn (lower-case) of the signed-in user. */
    private final Map<String, String> signedIn = new ConcurrentHashMap<>();
    /** "tenant|client" → redirect URIs. */
    private final Map<String, Set<String>> redirectUris = new ConcurrentHashMap<>();
    /** upn (lower-case) → mailbox addresses (lower-case) the user may open besides their own. */
    private final Map<String, Set<String>> mailboxGrants = new ConcurrentHashMap<>();
    /** "tenant|client|upn" → consented scopes by {@link Scope#key()}. */
    private final Map<String, Map<String, Scope>> consents = new ConcurrentHashMap<>();
    /** "tenant|client" → scopes an administrator consented to for every user of the tenant (admin consent). */
    private final Map<String, Map<String, Scope>> tenantConsents = new ConcurrentHashMap<>();
    /** "tenant|upn" of users who may grant consent for the whole tenant (e.g. Global or Application Administrator). */
    private final Set<String> tenantAdmins = ConcurrentHashMap.newKeySet();
    /** Tenants whose user consent setting is "Do not allow user consent". */
    private final Set<String> userConsentDisabled = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String[]> nextAdminConsentFailure = new AtomicReference<>();
    private final Map<String, AuthCode> codes = new ConcurrentHashMap<>();
    private final Map<String, RefreshGrant> refreshTokens = new ConcurrentHashMap<>();
    /** "tenant|upn" → current grant generation; refresh tokens of older generations are revoked. */
    private final Map<String, Revocation> revocations = new ConcurrentHashMap<>();
    private final AtomicLong generations = new AtomicLong();
    private final Map<String, String> lastRefreshToken = new ConcurrentHashMap<>();
    private final AtomicReference<String[]> nextAuthorizeFailure = new AtomicReference<>();
    private final AtomicInteger refreshRedemptions = new AtomicInteger();
    private final AtomicInteger codeRedemptions = new AtomicInteger();
    private volatile boolean revokeOnRotation;

    DelegatedAuth(GraphFake fake, TokenEndpoint tokens, ObjectMapper json, IdTokenSigner signer) {
        this.fake = fake;
        this.tokens = tokens;
        this.json = json;
        this.signer = signer;
    }

    // ================================================================== state (test API)

    String registerUser(String tenant, String upn, String displayName) {
        String t = lower(tenant);
        String oid = UUID.nameUUIDFromBytes(lower(upn).getBytes()).toString();
        synchronized (users) {
            users.computeIfAbsent(t, k -> new LinkedHashMap<>()).put(lower(upn), new User(t, upn, displayName, oid));
        }
        return oid;
    }

    Optional<User> user(String tenant, String upn) {
        synchronized (users) {
            Map<String, User> byUpn = users.get(lower(tenant));
            return Optional.ofNullable(byUpn == null ? null : byUpn.get(lower(upn)));
        }
    }

    User requireUser(String tenant, String upn) {
        return user(tenant, upn).orElseThrow(() -> new IllegalArgumentException(
                "no user '" + upn + "' registered in tenant '" + tenant + "' (call registerUser first)"));
    }

    void signInAs(String tenant, String upn) {
        requireUser(tenant, upn);
        signedIn.put(lower(tenant), lower(upn));
    }

    /** The signed-in user: the one chosen with {@link #signInAs}, else the first registered one. */
    Optional<User> signedInUser(String tenant) {
        String t = lower(tenant);
        String upn = signedIn.get(t);
        synchronized (users) {
            Map<String, User> byUpn = users.get(t);
            if (byUpn == null || byUpn.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(upn != null && byUpn.containsKey(upn) ? byUpn.get(upn)
                    : byUpn.values().iterator().next());
        }
    }

    void registerRedirectUri(String tenant, String clientId, String uri) {
        redirectUris.computeIfAbsent(clientKey(tenant, clientId), k -> ConcurrentHashMap.newKeySet()).add(uri);
    }

    void grantMailboxAccess(String upn, String mailbox) {
        mailboxGrants.computeIfAbsent(lower(upn), k -> ConcurrentHashMap.newKeySet()).add(lower(mailbox));
    }

    void revokeMailboxAccess(String upn, String mailbox) {
        Set<String> granted = mailboxGrants.get(lower(upn));
        if (granted != null) {
            granted.remove(lower(mailbox));
        }
    }

    /** The user's own mailbox (address = UPN) or one granted with {@link #grantMailboxAccess}. */
    boolean mayOpen(String upn, String mailbox) {
        if (upn == null || mailbox == null) {
            return false;
        }
        if (lower(upn).equals(lower(mailbox))) {
            return true;
        }
        Set<String> granted = mailboxGrants.get(lower(upn));
        return granted != null && granted.contains(lower(mailbox));
    }

    void makeTenantAdmin(String tenant, String upn) {
        requireUser(tenant, upn);
        tenantAdmins.add(lower(tenant) + "|" + lower(upn));
    }

    boolean isTenantAdmin(User user) {
        return tenantAdmins.contains(user.tenant() + "|" + lower(user.upn()));
    }

    void disableUserConsent(String tenant) {
        userConsentDisabled.add(lower(tenant));
    }

    void failNextAdminConsent(String error, String description) {
        nextAdminConsentFailure.set(new String[]{error, description});
    }

    /** The scopes (resource + permission) an administrator consented to for the whole tenant. */
    Set<String> tenantConsent(String tenant, String clientId) {
        Set<String> out = new LinkedHashSet<>();
        tenantConsents.getOrDefault(clientKey(tenant, clientId), Map.of()).values().forEach(s -> out.add(s.full()));
        return out;
    }

    /** Removes every consent (the tenant's and each user's) to the app: its next refreshes answer AADSTS65001. */
    void revokeConsents(String tenant, String clientId) {
        tenantConsents.remove(clientKey(tenant, clientId));
        String prefix = clientKey(tenant, clientId) + "|";
        consents.keySet().removeIf(k -> k.startsWith(prefix));
    }

    void failNextAuthorize(String error, String description) {
        nextAuthorizeFailure.set(new String[]{error, description});
    }

    void revokeOnRotation(boolean revoke) {
        revokeOnRotation = revoke;
    }

    void revokeGrants(String tenant, String upn, int aadsts) {
        requireUser(tenant, upn);
        revocations.put(lower(tenant) + "|" + lower(upn),
                new Revocation(aadsts, generations.incrementAndGet(), Instant.now()));
    }

    void expireCodes() {
        Instant now = Instant.now();
        codes.values().forEach(c -> c.expiresAt = now);
    }

    int refreshRedemptions() {
        return refreshRedemptions.get();
    }

    int codeRedemptions() {
        return codeRedemptions.get();
    }

    Optional<String> lastRefreshTokenIssued(String upn) {
        return Optional.ofNullable(lastRefreshToken.get(lower(upn)));
    }

    /** A delegated Graph access token without HTTP (scopes such as {@code Mail.ReadWrite}). */
    String mint(String tenant, String upn, List<String> scopes) {
        User user = requireUser(tenant, upn);
        Set<String> permissions = new LinkedHashSet<>();
        for (String s : scopes) {
            Scope scope = parseScope(s);
            if (scope != null && scope.resource().equals(TokenEndpoint.GRAPH_RESOURCE)) {
                permissions.add(lower(scope.permission()));
            }
        }
        return tokens.newDelegatedToken(user.tenant(), "direct", TokenEndpoint.GRAPH_RESOURCE, user, permissions,
                tokens.lifetime());
    }

    // ================================================================== authorize endpoint

    void authorize(FakeExchange x, String tenantSegment) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : x.query) {
            p.putIfAbsent(e.getKey(), e.getValue());
        }
        if (x.method.equals("POST")) {
            FakeHttp.parseForm(x.body).forEach(p::putIfAbsent);
        } else if (!x.method.equals("GET")) {
            htmlError(x, 405, 900561, "The endpoint only accepts GET and POST requests. Received a " + x.method
                    + " request.");
            return;
        }
        String clientId = p.get("client_id");
        x.entry.clientId = clientId;
        String tenant = tokens.resolveTenant(tenantSegment);
        if (tenant == null) {
            htmlError(x, 400, 90002, "Tenant '" + tenantSegment + "' not found. Check to make sure you have the "
                    + "correct tenant ID and are signing into the correct cloud.");
            return;
        }
        if (clientId == null || clientId.isBlank()) {
            htmlError(x, 400, 900144, "The request body must contain the following parameter: 'client_id'.");
            return;
        }
        if (!tokens.clientExists(tenant, clientId)) {
            htmlError(x, 400, 700016, "Application with identifier '" + clientId + "' was not found in the "
                    + "directory '" + tenantSegment + "'. This can happen if the application has not been installed "
                    + "by the administrator of the tenant or consented to by any user in the tenant. You may have "
                    + "sent your authentication request to the wrong tenant.");
            return;
        }
        Set<String> registered = redirectUris.getOrDefault(clientKey(tenant, clientId), Set.of());
        String redirectUri = p.get("redirect_uri");
        if (registered.isEmpty()) {
            htmlError(x, 400, 500113, "No reply address is registered for the application.");
            return;
        }
        if (redirectUri == null || redirectUri.isEmpty()) {
            if (registered.size() != 1) {
                htmlError(x, 400, 900971, "No reply address provided.");
                return;
            }
            redirectUri = registered.iterator().next();
        } else if (registered.stream().noneMatch(r -> redirectMatches(r, p.get("redirect_uri")))) {
            htmlError(x, 400, 50011, "The redirect URI '" + redirectUri + "' specified in the request does not "
                    + "match the redirect URIs configured for the application '" + clientId + "'. Make sure the "
                    + "redirect URI sent in the request matches one added to your application in the Azure portal. "
                    + "Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.");
            return;
        }

        // From here on, errors go back to the (validated) redirect URI.
        String state = p.get("state");
        String mode = p.get("response_mode");
        String responseType = p.get("response_type");
        if (mode == null || mode.isEmpty()) {
            mode = "query";
        } else if (!RESPONSE_MODES.contains(mode)) {
            authorizeError(x, "query", redirectUri, state, "invalid_request", "AADSTS900144: The value '" + mode
                    + "' of the parameter 'response_mode' is not valid.");
            return;
        }
        String[] failure = nextAuthorizeFailure.getAndSet(null);
        if (failure != null) {
            authorizeError(x, mode, redirectUri, state, failure[0], failure[1]);
            return;
        }
        if (responseType == null || responseType.isEmpty()) {
            authorizeError(x, mode, redirectUri, state, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'response_type'.");
            return;
        }
        if (!responseType.equals("code")) {
            authorizeError(x, mode, redirectUri, state, "unsupported_response_type", "AADSTS700054: "
                    + "response_type '" + responseType + "' is not enabled for the application (GraphFake issues "
                    + "only 'code').");
            return;
        }
        String scope = p.get("scope");
        if (scope == null || scope.isBlank()) {
            authorizeError(x, mode, redirectUri, state, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'scope'.");
            return;
        }
        String challenge = emptyToNull(p.get("code_challenge"));
        String method = emptyToNull(p.get("code_challenge_method"));
        if (challenge != null) {
            if (method == null) {
                method = "plain";
            }
            if (!method.equals("S256") && !method.equals("plain")) {
                authorizeError(x, mode, redirectUri, state, "invalid_request", "AADSTS9002313: Invalid request. "
                        + "Request is malformed or invalid. (code_challenge_method '" + method + "')");
                return;
            }
            if (challenge.length() < 43 || challenge.length() > 128) {
                authorizeError(x, mode, redirectUri, state, "invalid_request",
                        "AADSTS501491: Invalid size of Code_Challenge parameter.");
                return;
            }
        } else if (method != null) {
            authorizeError(x, mode, redirectUri, state, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'code_challenge'.");
            return;
        }
        Optional<User> user = signedInUser(tenant);
        if (user.isEmpty()) {
            if ("none".equals(p.get("prompt"))) {
                authorizeError(x, mode, redirectUri, state, "login_required",
                        "AADSTS50058: A silent sign-in request was sent but no user is signed in.");
            } else {
                htmlError(x, 400, 50058, "GraphFake has no signed-in user in tenant '" + tenantSegment
                        + "': call registerUser(...) first.");
            }
            return;
        }
        User u = user.get();
        if (userConsentDisabled.contains(tenant) && !isTenantAdmin(u) && !consentedAlready(tenant, clientId, u, scope)) {
            // Entra shows "Need admin approval" with this message; the user can only go back to the app without
            // consenting, which sends the error to the redirect URI (the fake skips the page, as it skips every page)
            authorizeError(x, mode, redirectUri, state, "access_denied", "AADSTS90094: " + clientId + " needs "
                    + "permission to access resources in your organization that only an admin can grant. Ask an admin "
                    + "to grant permission to this app before you can use it.");
            return;
        }
        Map<String, Scope> consent = consents.computeIfAbsent(consentKey(tenant, clientId, u.upn()),
                k -> new ConcurrentHashMap<>());
        for (String s : scope.trim().split("\\s+")) {
            Scope parsed = parseScope(s);
            if (parsed != null && !parsed.permission().equals(".default")) {
                consent.putIfAbsent(parsed.key(), parsed);
            }
        }
        String code = "fake-ac-" + randomToken(48);
        codes.put(code, new AuthCode(tenant, clientId, redirectUri, scope, challenge, method,
                emptyToNull(p.get("nonce")), u, Instant.now().plus(CODE_LIFETIME)));
        Map<String, String> params = new LinkedHashMap<>();
        params.put("code", code);
        if ("1".equals(p.get("client_info"))) {
            params.put("client_info", clientInfo(u));
        }
        if (state != null) {
            params.put("state", state);
        }
        params.put("session_state", UUID.nameUUIDFromBytes((u.oid() + "|session").getBytes()).toString());
        respondToRedirect(x, mode, redirectUri, params);
    }

    /** Whether every permission asked for is consented already, by the user or for the whole tenant. */
    private boolean consentedAlready(String tenant, String clientId, User user, String scope) {
        Map<String, Scope> mine = consents.getOrDefault(consentKey(tenant, clientId, user.upn()), Map.of());
        Map<String, Scope> tenantWide = tenantConsents.getOrDefault(clientKey(tenant, clientId), Map.of());
        for (String s : scope.trim().split("\\s+")) {
            Scope parsed = parseScope(s);
            if (parsed != null && !parsed.permission().equals(".default") && !mine.containsKey(parsed.key())
                    && !tenantWide.containsKey(parsed.key())) {
                return false;
            }
        }
        return true;
    }

    // ================================================================== admin consent endpoint

    /**
     * {@code GET /{tenant}/v2.0/adminconsent?client_id&redirect_uri&scope&state} (Entra's v2-admin-consent page):
     * the signed-in user, if a tenant administrator, consents to {@code scope} for every user of the tenant, and the
     * browser is redirected to {@code redirect_uri} with {@code admin_consent=True&tenant=<tenant id>&scope&state}.
     * Errors after the redirect URI is validated go there too, with {@code admin_consent=True&error&error_description
     * &state}, as Microsoft documents them; an unknown client or redirect URI gets Entra's error page instead.
     * {@code .default} is accepted and recorded as nothing (the fake keeps no list of the app's required permissions).
     */
    void adminConsent(FakeExchange x, String tenantSegment) throws IOException {
        if (!x.method.equals("GET")) {
            htmlError(x, 405, 900561, "The endpoint only accepts GET requests. Received a " + x.method + " request.");
            return;
        }
        Map<String, String> p = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : x.query) {
            p.putIfAbsent(e.getKey(), e.getValue());
        }
        String clientId = p.get("client_id");
        x.entry.clientId = clientId;
        String tenant = tokens.resolveTenant(tenantSegment);
        if (tenant == null) {
            htmlError(x, 400, 90002, "Tenant '" + tenantSegment + "' not found. Check to make sure you have the "
                    + "correct tenant ID and are signing into the correct cloud.");
            return;
        }
        if (clientId == null || clientId.isBlank()) {
            htmlError(x, 400, 900144, "The request body must contain the following parameter: 'client_id'.");
            return;
        }
        if (!tokens.clientExists(tenant, clientId)) {
            htmlError(x, 400, 700016, "Application with identifier '" + clientId + "' was not found in the "
                    + "directory '" + tenantSegment + "'.");
            return;
        }
        Set<String> registered = redirectUris.getOrDefault(clientKey(tenant, clientId), Set.of());
        String redirectUri = p.get("redirect_uri");
        if (registered.isEmpty()) {
            htmlError(x, 400, 500113, "No reply address is registered for the application.");
            return;
        }
        if (redirectUri == null || redirectUri.isEmpty()) {
            htmlError(x, 400, 900144, "The request body must contain the following parameter: 'redirect_uri'.");
            return;
        }
        if (registered.stream().noneMatch(r -> redirectMatches(r, redirectUri))) {
            htmlError(x, 400, 50011, "The redirect URI '" + redirectUri + "' specified in the request does not "
                    + "match the redirect URIs configured for the application '" + clientId + "'. Make sure the "
                    + "redirect URI sent in the request matches one added to your application in the Azure portal. "
                    + "Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.");
            return;
        }
        String state = p.get("state");
        String[] failure = nextAdminConsentFailure.getAndSet(null);
        if (failure != null) {
            adminConsentError(x, redirectUri, state, failure[0], failure[1]);
            return;
        }
        String scope = p.get("scope");
        if (scope == null || scope.isBlank()) {
            adminConsentError(x, redirectUri, state, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'scope'.");
            return;
        }
        Optional<User> user = signedInUser(tenant);
        if (user.isEmpty()) {
            htmlError(x, 400, 50058, "GraphFake has no signed-in user in tenant '" + tenantSegment
                    + "': call registerUser(...) first.");
            return;
        }
        if (!isTenantAdmin(user.get())) {
            adminConsentError(x, redirectUri, state, "access_denied", "AADSTS90093: Calling principal cannot "
                    + "consent due to lack of permissions. (GraphFake: " + user.get().upn() + " is no tenant "
                    + "administrator; see GraphFake.makeTenantAdmin)");
            return;
        }
        Map<String, Scope> consent = tenantConsents.computeIfAbsent(clientKey(tenant, clientId),
                k -> new ConcurrentHashMap<>());
        for (String s : scope.trim().split("\\s+")) {
            Scope parsed = parseScope(s);
            if (parsed != null && !parsed.permission().equals(".default")) {
                consent.putIfAbsent(parsed.key(), parsed);
            }
        }
        Map<String, String> params = new LinkedHashMap<>();
        params.put("admin_consent", "True");
        params.put("tenant", tokens.tenantId(tenant));
        params.put("scope", String.join(" ", scope.trim().split("\\s+")));
        if (state != null) {
            params.put("state", state);
        }
        respondToRedirect(x, "query", redirectUri, params);
    }

    private void adminConsentError(FakeExchange x, String redirectUri, String state, String error,
                                   String description) throws IOException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("admin_consent", "True");
        params.put("error", error);
        if (description != null) {
            params.put("error_description", description);
        }
        if (state != null) {
            params.put("state", state);
        }
        respondToRedirect(x, "query", redirectUri, params);
    }

    /** Exact match, except that the port of an {@code http://localhost} URI is ignored (as Entra does). */
    static boolean redirectMatches(String registered, String requested) {
        if (registered.equals(requested)) {
            return true;
        }
        String r = stripLocalhostPort(registered);
        return r != null && r.equals(stripLocalhostPort(requested));
    }

    private static String stripLocalhostPort(String uri) {
        String prefix = "http://localhost:";
        if (uri == null || !uri.startsWith(prefix)) {
            return uri != null && uri.startsWith("http://localhost") ? uri : null;
        }
        int i = prefix.length();
        while (i < uri.length() && Character.isDigit(uri.charAt(i))) {
            i++;
        }
        return "http://localhost" + uri.substring(i);
    }

    private void authorizeError(FakeExchange x, String mode, String redirectUri, String state, String error,
                                String description) throws IOException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("error", error);
        if (description != null) {
            params.put("error_description", description);
        }
        if (state != null) {
            params.put("state", state);
        }
        respondToRedirect(x, mode, redirectUri, params);
    }

    private void respondToRedirect(FakeExchange x, String mode, String redirectUri, Map<String, String> params)
            throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Cache-Control", "no-store, no-cache");
        headers.put("Pragma", "no-cache");
        headers.put("x-ms-request-id", x.requestId);
        if (mode.equals("form_post")) {
            StringBuilder html = new StringBuilder("<html><head><title>Working...</title></head><body>"
                    + "<form method=\"POST\" name=\"hiddenform\" action=\"").append(html(redirectUri)).append("\">");
            params.forEach((k, v) -> html.append("<input type=\"hidden\" name=\"").append(html(k))
                    .append("\" value=\"").append(html(v)).append("\" />"));
            html.append("<noscript><p>Script is disabled. Click Submit to continue.</p>"
                    + "<input type=\"submit\" value=\"Submit\" /></noscript></form>"
                    + "<script language=\"javascript\">document.forms[0].submit();</script></body></html>");
            x.respond(200, "text/html; charset=utf-8", headers,
                    FakeExchange.Body.of(html.toString().getBytes(StandardCharsets.UTF_8)));
            return;
        }
        StringBuilder query = new StringBuilder();
        params.forEach((k, v) -> query.append(query.length() == 0 ? "" : "&").append(FakeHttp.encode(k)).append('=')
                .append(FakeHttp.encode(v)));
        String location;
        if (mode.equals("fragment")) {
            location = redirectUri + "#" + query;
        } else {
            int hash = redirectUri.indexOf('#');
            String base = hash < 0 ? redirectUri : redirectUri.substring(0, hash);
            location = base + (base.contains("?") ? "&" : "?") + query;
        }
        headers.put("Location", location);
        x.respond(302, null, headers, null);
    }

    /** Entra's sign-in error page: the error is shown to the user, nothing is sent to the redirect URI. */
    private void htmlError(FakeExchange x, int status, int aadsts, String message) throws IOException {
        String text = "AADSTS" + aadsts + ": " + message;
        String page = "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>"
                + "<div id=\"login_workload_logo_text\">Sorry, but we're having trouble signing you in.</div>"
                + "<div id=\"exceptionMessageContainer\"><span>" + html(text) + "</span></div>"
                + "<div><span>Request Id: </span><span>" + html(x.requestId) + "</span></div>"
                + "<div><span>Correlation Id: </span><span>" + html(x.clientRequestId) + "</span></div>"
                + "<div><span>Timestamp: </span><span>" + html(FakeHttp.entraTimestamp(Instant.now()))
                + "</span></div></body></html>";
        x.respond(status, "text/html; charset=utf-8", Map.of("x-ms-request-id", x.requestId),
                FakeExchange.Body.of(page.getBytes(StandardCharsets.UTF_8)));
    }

    static String html(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&': b.append("&amp;"); break;
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '"': b.append("&quot;"); break;
                case '\'': b.append("&#39;"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }

    // ================================================================== token grants

    /** {@code grant_type=authorization_code}; the client is already authenticated. */
    void redeemCode(FakeExchange x, String tenant, String clientId, Map<String, String> form) throws IOException {
        String code = form.get("code");
        if (code == null || code.isEmpty()) {
            tokens.missing(x, "code");
            return;
        }
        AuthCode c = codes.get(code);
        if (c == null || !c.tenant.equals(tenant) || !Instant.now().isBefore(c.expiresAt)) {
            tokens.entraError(x, 400, "invalid_grant", 70008, "The provided authorization code or refresh token "
                    + "has expired due to inactivity. Send a new interactive authorization request for this user "
                    + "and resource.");
            return;
        }
        if (!c.clientId.equalsIgnoreCase(clientId)) {
            tokens.entraError(x, 400, "invalid_grant", 70000, "The provided value for the input parameter 'code' "
                    + "is not valid. The code was issued to a different client.");
            return;
        }
        if (!c.used.compareAndSet(false, true)) {
            tokens.entraError(x, 400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, "
                    + "please retry with a new valid code or use an existing refresh token.");
            return;
        }
        String redirectUri = form.get("redirect_uri");
        if (redirectUri == null || !redirectMatches(c.redirectUri, redirectUri)) {
            tokens.entraError(x, 400, "invalid_client", 500112, "The reply address '" + redirectUri + "' does "
                    + "not match the reply address '" + c.redirectUri + "' provided when requesting Authorization "
                    + "code.");
            return;
        }
        if (c.challenge != null && !pkceMatches(c, form.get("code_verifier"))) {
            tokens.entraError(x, 400, "invalid_grant", 501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
            return;
        }
        String scope = form.get("scope");
        Granted granted = grant(x, tenant, clientId, c.user, scope == null || scope.isBlank() ? c.scope : scope);
        if (granted == null) {
            return;
        }
        codeRedemptions.incrementAndGet();
        issue(x, tenant, clientId, c.user, granted, c.nonce, form);
    }

    private static boolean pkceMatches(AuthCode c, String verifier) {
        if (verifier == null || verifier.isEmpty()) {
            return false;
        }
        if (c.challengeMethod.equals("plain")) {
            return MessageDigest.isEqual(verifier.getBytes(StandardCharsets.US_ASCII),
                    c.challenge.getBytes(StandardCharsets.US_ASCII));
        }
        byte[] expected = B64URL.encodeToString(sha256(verifier.getBytes(StandardCharsets.US_ASCII)))
                .getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, c.challenge.getBytes(StandardCharsets.US_ASCII));
    }

    /** {@code grant_type=refresh_token}; the client is already authenticated. */
    void redeemRefreshToken(FakeExchange x, String tenant, String clientId, Map<String, String> form)
            throws IOException {
        String token = form.get("refresh_token");
        if (token == null || token.isEmpty()) {
            tokens.missing(x, "refresh_token");
            return;
        }
        RefreshGrant g = refreshTokens.get(token);
        if (g == null || !g.tenant.equals(tenant)) {
            tokens.entraError(x, 400, "invalid_grant", 70000,
                    "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.");
            return;
        }
        if (!g.clientId.equalsIgnoreCase(clientId)) {
            tokens.entraError(x, 400, "invalid_grant", 70000, "The provided value for the input parameter "
                    + "'refresh_token' or 'assertion' is not valid. The refresh token was issued to a different "
                    + "client.");
            return;
        }
        Revocation revoked = revocations.get(tenant + "|" + lower(g.user.upn()));
        if (revoked != null && g.generation < revoked.generation()) {
            tokens.entraError(x, 400, "invalid_grant", revoked.aadsts(),
                    revocationMessage(revoked, g, tenant, clientId));
            return;
        }
        if (g.rotatedAway.get()) {
            rotatedAway(x);
            return;
        }
        String scope = form.get("scope");
        Granted granted = grant(x, tenant, clientId, g.user, scope == null || scope.isBlank() ? g.scope : scope);
        if (granted == null) {
            return;
        }
        if (revokeOnRotation && !g.rotatedAway.compareAndSet(false, true)) {   // lost a race with another refresh
            rotatedAway(x);
            return;
        }
        refreshRedemptions.incrementAndGet();
        // a refresh token exists only if offline_access was granted, so the rotated one always comes back
        issue(x, tenant, clientId, g.user, new Granted(granted.resource(), granted.permissions(), granted.scope(),
                granted.openid(), true), null, form);
    }

    private void rotatedAway(FakeExchange x) throws IOException {
        tokens.entraError(x, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has "
                + "expired due to inactivity. Send a new interactive authorization request for this user and "
                + "resource. (GraphFake: this refresh token was already redeemed and revokeOldRefreshTokensOnRotation "
                + "is on.)");
    }

    private static String revocationMessage(Revocation r, RefreshGrant g, String tenant, String clientId) {
        String issued = FakeHttp.entraTimestamp(g.issuedAt);
        switch (r.aadsts()) {
            case 50173:
                return "The provided grant has expired due to it being revoked, a fresh auth token is needed. The "
                        + "user might have changed or reset their password. The grant was issued on '" + issued
                        + "' and the TokensValidFrom date (before which tokens are not valid) for this user is '"
                        + FakeHttp.entraTimestamp(r.at()) + "'.";
            case 700082:
                return "The refresh token has expired due to inactivity. The token was issued on " + issued
                        + " and was inactive for 90.00:00:00.";
            case 700084:
                return "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited "
                        + "lifetime of 1.00:00:00, which can't be extended. It is now expired and a new sign in "
                        + "request must be sent by the SPA to the sign in page. The token was issued on " + issued
                        + ".";
            case 70008:
                return "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                        + "interactive authorization request for this user and resource.";
            case 70043:
                return "The refresh token has expired or is invalid due to sign-in frequency checks by conditional "
                        + "access. The token was issued on " + issued + " and the maximum allowed lifetime for this "
                        + "request is 3600.";
            case 50076:
                return "Due to a configuration change made by your administrator, or because you moved to a new "
                        + "location, you must use multi-factor authentication to access '" + GRAPH_APP_ID + "'.";
            case 50057:
                return "The user account is disabled.";
            case 50055:
                return "The password is expired.";
            case 53003:
                return "Access has been blocked by Conditional Access policies. The access policy does not allow "
                        + "token issuance.";
            case 65001:
                return "The user or administrator has not consented to use the application with ID '" + clientId
                        + "'. Send an interactive authorization request for this user and resource.";
            case 700003:
                return "Device object was not found in the tenant '" + tenant + "' directory.";
            default:
                return "The refresh token is no longer valid (GraphFake.revokeGrants).";
        }
    }

    /**
     * Checks the requested scopes against the user's consent for this client (or the tenant's admin consent): one resource per token (AADSTS28000),
     * every permission consented (AADSTS65001; {@code .default} = everything consented for the resource). Sends the
     * error and returns null if the scopes cannot be granted.
     */
    private Granted grant(FakeExchange x, String tenant, String clientId, User user, String requested)
            throws IOException {
        Map<String, Scope> consented = new LinkedHashMap<>(tenantConsents.getOrDefault(clientKey(tenant, clientId),
                Map.of()));
        consented.putAll(consents.getOrDefault(consentKey(tenant, clientId, user.upn()), Map.of()));
        Set<String> oidc = new LinkedHashSet<>();
        List<Scope> asked = new ArrayList<>();
        String resource = null;
        for (String s : requested.trim().split("\\s+")) {
            if (s.isEmpty()) {
                continue;
            }
            Scope scope = parseScope(s);
            if (scope == null) {
                oidc.add(lower(s));
                continue;
            }
            if (resource != null && !resource.equals(scope.resource())) {
                tokens.entraError(x, 400, "invalid_scope", 28000, "Provided value for the input parameter scope "
                        + "is not valid because it contains more than one resource. Scope " + requested.trim()
                        + " is not valid.");
                return null;
            }
            resource = scope.resource();
            asked.add(scope);
        }
        if (resource == null) {
            resource = TokenEndpoint.GRAPH_RESOURCE;
        }
        String res = resource;
        List<Scope> forResource = consented.values().stream().filter(s -> s.resource().equals(res)).toList();
        LinkedHashMap<String, Scope> granted = new LinkedHashMap<>();
        for (Scope s : asked) {
            if (s.permission().equals(".default")) {
                if (forResource.isEmpty()) {
                    tokens.entraError(x, 400, "invalid_grant", 65001, notConsented(clientId));
                    return null;
                }
                forResource.forEach(c -> granted.putIfAbsent(c.key(), c));
            } else if (!consented.containsKey(s.key())) {
                tokens.entraError(x, 400, "invalid_grant", 65001, notConsented(clientId));
                return null;
            } else {
                granted.putIfAbsent(s.key(), s);
            }
        }
        if (asked.isEmpty()) {
            forResource.forEach(c -> granted.putIfAbsent(c.key(), c));
        }
        Set<String> permissions = new LinkedHashSet<>();
        List<String> scopeWords = new ArrayList<>();
        for (Scope s : granted.values()) {
            permissions.add(lower(s.permission()));
            scopeWords.add(s.full());
        }
        scopeWords.addAll(oidc);
        return new Granted(resource, Collections.unmodifiableSet(permissions), String.join(" ", scopeWords),
                oidc.contains("openid"), oidc.contains("offline_access"));
    }

    private static String notConsented(String clientId) {
        return "The user or administrator has not consented to use the application with ID '" + clientId
                + "'. Send an interactive authorization request for this user and resource.";
    }

    /** Writes Entra's success response for a delegated grant. */
    private void issue(FakeExchange x, String tenant, String clientId, User user, Granted granted, String nonce,
                       Map<String, String> form) throws IOException {
        Duration life = tokens.lifetime();
        Instant now = Instant.now();
        String accessToken = tokens.newDelegatedToken(tenant, clientId, granted.resource(), user,
                granted.permissions(), life);
        tokens.countIssued();
        ObjectNode body = json.createObjectNode();
        body.put("token_type", "Bearer");
        body.put("scope", granted.scope());
        body.put("expires_in", life.getSeconds());
        body.put("ext_expires_in", life.getSeconds());
        body.put("access_token", accessToken);
        if (granted.offlineAccess()) {
            String refreshToken = "fake-rt-" + randomToken(64);
            Revocation r = revocations.get(tenant + "|" + lower(user.upn()));
            refreshTokens.put(refreshToken, new RefreshGrant(tenant, clientId, user, granted.scope(),
                    r == null ? 0 : r.generation(), now));
            lastRefreshToken.put(lower(user.upn()), refreshToken);
            body.put("refresh_token", refreshToken);
        }
        if (granted.openid()) {
            body.put("id_token", idToken(tenant, clientId, user, nonce, now));
        }
        if ("1".equals(form.get("client_info"))) {
            body.put("client_info", clientInfo(user));
        }
        tokens.sendToken(x, body);
    }

    private String idToken(String tenant, String clientId, User user, String nonce, Instant now) {
        String tenantId = tokens.tenantId(tenant);
        long iat = now.getEpochSecond();
        ObjectNode claims = json.createObjectNode();
        claims.put("aud", clientId);
        claims.put("iss", fake.authorityHost() + "/" + tenantId + "/v2.0");
        claims.put("iat", iat);
        claims.put("nbf", iat);
        claims.put("exp", iat + 3600);
        claims.put("name", user.displayName());
        if (nonce != null) {
            claims.put("nonce", nonce);
        }
        claims.put("oid", user.oid());
        claims.put("preferred_username", user.upn());
        claims.put("rh", "0.fake." + randomToken(8));
        claims.put("sub", B64URL.encodeToString(sha256((clientId.toLowerCase(Locale.ROOT) + "|" + user.oid())
                .getBytes(StandardCharsets.UTF_8))));
        claims.put("tid", tenantId);
        claims.put("uti", randomToken(16));
        claims.put("ver", "2.0");
        return signer.sign(claims);
    }

    /** base64url of {@code {"uid":"<oid>","utid":"<tenant id>"}}: msal4j builds its account from this. */
    private String clientInfo(User user) {
        ObjectNode info = json.createObjectNode();
        info.put("uid", user.oid());
        info.put("utid", tokens.tenantId(user.tenant()));
        return B64URL.encodeToString(info.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ================================================================== device code flow (see DeviceCodeGrant)

    /** The user approved a device code in the browser: records consent to its scopes, as the authorize endpoint does. */
    void consentDeviceCode(String tenant, String clientId, User user, String scope) {
        Map<String, Scope> consent = consents.computeIfAbsent(consentKey(tenant, clientId, user.upn()),
                k -> new ConcurrentHashMap<>());
        for (String s : scope.trim().split("\\s+")) {
            Scope parsed = parseScope(s);
            if (parsed != null && !parsed.permission().equals(".default")) {
                consent.putIfAbsent(parsed.key(), parsed);
            }
        }
    }

    /**
     * The token response for an approved device code (the same shape as for {@code authorization_code}). Returns
     * false if the scopes cannot be granted (the error is sent).
     */
    boolean redeemDeviceCode(FakeExchange x, String tenant, String clientId, User user, String scope,
                             Map<String, String> form) throws IOException {
        Granted granted = grant(x, tenant, clientId, user, scope);
        if (granted == null) {
            return false;
        }
        issue(x, tenant, clientId, user, granted, null, form);
        return true;
    }

    // ================================================================== helpers

    /** null for the OpenID Connect scopes; otherwise resource + permission (no prefix = Microsoft Graph). */
    static Scope parseScope(String s) {
        if (OIDC_SCOPES.contains(lower(s))) {
            return null;
        }
        int slash = s.lastIndexOf('/');
        if (slash < 0) {
            return new Scope(TokenEndpoint.GRAPH_RESOURCE, s);
        }
        String resource = lower(s.substring(0, slash));
        while (resource.endsWith("/")) {
            resource = resource.substring(0, resource.length() - 1);
        }
        if (resource.equals(GRAPH_APP_ID) || resource.equals(TokenEndpoint.GRAPH_RESOURCE)) {
            resource = TokenEndpoint.GRAPH_RESOURCE;
        }
        return new Scope(resource, s.substring(slash + 1));
    }

    private String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return B64URL.encodeToString(b);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String clientKey(String tenant, String clientId) {
        return lower(tenant) + "|" + lower(clientId);
    }

    private static String consentKey(String tenant, String clientId, String upn) {
        return lower(tenant) + "|" + lower(clientId) + "|" + lower(upn);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}

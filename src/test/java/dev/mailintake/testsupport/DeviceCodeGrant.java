package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Entra's device code flow (OAuth 2.0 device authorization grant, RFC 8628) for public clients, and the
 * {@code refresh_token} grant without client credentials for them.
 *
 * <ul>
 *   <li>{@code POST /{tenant}/oauth2/v2.0/devicecode} ({@code client_id}, {@code scope}) answers with a
 *       {@code user_code}, a {@code device_code}, {@code verification_uri}, {@code expires_in}, {@code interval} and
 *       {@code message}; only for apps with {@link #allowPublicClientFlows public client flows allowed}, else
 *       400 {@code invalid_client} AADSTS7000218.</li>
 *   <li>{@code POST /{tenant}/oauth2/v2.0/token} with {@code grant_type=urn:ietf:params:oauth:grant-type:device_code}
 *       (or {@code device_code}, which msal4j sends) answers 400 {@code authorization_pending} (AADSTS70016) until the
 *       test {@link #approve approves} the user code as a user; then the same success response as the
 *       {@code authorization_code} grant. {@link #decline Declined}: {@code authorization_declined}; expired:
 *       {@code expired_token} (AADSTS70019); unknown device code: {@code bad_verification_code} (AADSTS70018).</li>
 *   <li>{@code grant_type=refresh_token} without {@code client_secret}, {@code client_assertion} or Basic
 *       authorization, for a client with public client flows allowed: redeemed as for confidential clients
 *       (rotation, revocation) by {@link DelegatedAuth#redeemRefreshToken}.</li>
 * </ul>
 *
 * Everything else on the token endpoint goes on to {@link TokenEndpoint}. No code or token is ever written to a log
 * or an exception message (user codes are: a user reads them off a screen).
 */
final class DeviceCodeGrant {

    static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";
    /** The short form Entra also accepts; msal4j 1.26 sends this one. */
    static final String GRANT_TYPE_SHORT = "device_code";
    static final String VERIFICATION_URI = "https://microsoft.com/devicelogin";

    private static final Set<String> GRANT_TYPES = Set.of(GRANT_TYPE, GRANT_TYPE_SHORT);
    /** Upper-case letters and digits without the look-alikes 0/O and 1/I. */
    private static final String USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private static final int USER_CODE_LENGTH = 9;

    enum State { PENDING, APPROVED, DECLINED, REDEEMED }

    private static final class DeviceCode {
        final long sequence;
        final String tenant;
        final String clientId;
        final String scope;
        final String userCode;
        final String deviceCode;
        volatile Instant expiresAt;
        State state = State.PENDING;           // guarded by this
        DelegatedAuth.User user;               // guarded by this

        DeviceCode(long sequence, String tenant, String clientId, String scope, String userCode, String deviceCode,
                   Instant expiresAt) {
            this.sequence = sequence;
            this.tenant = tenant;
            this.clientId = clientId;
            this.scope = scope;
            this.userCode = userCode;
            this.deviceCode = deviceCode;
            this.expiresAt = expiresAt;
        }

        boolean expired() {
            return !Instant.now().isBefore(expiresAt);
        }
    }

    private final GraphFake fake;
    private final ObjectMapper json;
    private final TokenEndpoint tokens;
    private final SecureRandom random = new SecureRandom();
    /** "tenant|client" (lower-case) of apps with "Allow public client flows" on. */
    private final Set<String> publicClients = ConcurrentHashMap.newKeySet();
    private final Map<String, DeviceCode> byDeviceCode = new ConcurrentHashMap<>();
    /** user code (upper-case) → device code. */
    private final Map<String, DeviceCode> byUserCode = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicInteger redemptions = new AtomicInteger();
    private volatile Duration interval = Duration.ofSeconds(1);
    private volatile Duration lifetime = Duration.ofSeconds(900);

    DeviceCodeGrant(GraphFake fake, ObjectMapper json, TokenEndpoint tokens) {
        this.fake = fake;
        this.json = json;
        this.tokens = tokens;
    }

    private DelegatedAuth delegated() {
        return tokens.delegated();
    }

    // ================================================================== state (test API)

    /** Turns "Allow public client flows" on; registers the app (with a secret nobody knows) if it is unknown. */
    void allowPublicClientFlows(String tenant, String clientId) {
        String t = tokens.tenantKey(tenant);
        if (!tokens.clientExists(t, clientId)) {
            fake.registerClient(tenant, clientId, "unusable-" + randomToken(24));
        }
        publicClients.add(key(tokens.tenantKey(tenant), clientId));
    }

    boolean isPublic(String tenantKey, String clientId) {
        return clientId != null && publicClients.contains(key(tenantKey, clientId));
    }

    void interval(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative interval");
        }
        interval = d;
    }

    void lifetime(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("device code lifetime must be positive");
        }
        lifetime = d;
    }

    /** The user signed in at the verification URI, entered the code and consented to the requested scopes. */
    void approve(String userCode, String upn) {
        DeviceCode c = requirePending(userCode);
        DelegatedAuth.User user = delegated().requireUser(c.tenant, upn);
        synchronized (c) {
            requireState(c, State.PENDING);
            delegated().consentDeviceCode(c.tenant, c.clientId, user, c.scope);
            c.user = user;
            c.state = State.APPROVED;
        }
    }

    /** The user entered the code and then chose not to sign in ("Cancel" / declined consent). */
    void decline(String userCode) {
        DeviceCode c = requirePending(userCode);
        synchronized (c) {
            requireState(c, State.PENDING);
            c.state = State.DECLINED;
        }
    }

    /** The newest user code of this client that is pending (neither approved, declined nor expired). */
    Optional<String> pendingUserCode(String tenant, String clientId) {
        String t = tokens.tenantKey(tenant);
        return byUserCode.values().stream()
                .filter(c -> c.tenant.equals(t) && c.clientId.equalsIgnoreCase(clientId) && !c.expired())
                .filter(c -> {
                    synchronized (c) {
                        return c.state == State.PENDING;
                    }
                })
                .max(Comparator.comparingLong(c -> c.sequence))
                .map(c -> c.userCode);
    }

    Optional<String> awaitPendingUserCode(String tenant, String clientId, Duration timeout)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            Optional<String> code = pendingUserCode(tenant, clientId);
            if (code.isPresent() || !Instant.now().isBefore(deadline)) {
                return code;
            }
            Thread.sleep(10);
        }
    }

    /** Every device code issued so far is expired (polling gets {@code expired_token}). */
    void expireAll() {
        Instant now = Instant.now();
        byDeviceCode.values().forEach(c -> c.expiresAt = now);
    }

    int redemptions() {
        return redemptions.get();
    }

    private DeviceCode requirePending(String userCode) {
        DeviceCode c = userCode == null ? null : byUserCode.get(normalizeUserCode(userCode));
        if (c == null) {
            throw new IllegalArgumentException("no device code with user code '" + userCode + "'");
        }
        if (c.expired()) {
            throw new IllegalStateException("user code '" + userCode + "' has expired");
        }
        return c;
    }

    private static void requireState(DeviceCode c, State expected) {
        if (c.state != expected) {
            throw new IllegalStateException("user code '" + c.userCode + "' is " + c.state.name().toLowerCase(
                    Locale.ROOT) + ", not " + expected.name().toLowerCase(Locale.ROOT));
        }
    }

    /** Upper case, without the separators a user might type ({@code ABCD-EFGH}). */
    private static String normalizeUserCode(String userCode) {
        return userCode.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
    }

    // ================================================================== HTTP

    /**
     * Handles the device authorization endpoint, device code redemption, and refresh without client credentials
     * for public clients. Returns false if the request is for {@link TokenEndpoint} (nothing sent then).
     */
    boolean handle(FakeExchange x, List<String> s) throws IOException {
        if (s.size() != 4 || !s.get(1).equals("oauth2") || !s.get(2).equals("v2.0")) {
            return false;
        }
        if (s.get(3).equals("devicecode")) {
            deviceAuthorization(x, s.get(0));
            return true;
        }
        if (!s.get(3).equals("token") || !x.method.equals("POST")) {
            return false;
        }
        Map<String, String> form = FakeHttp.parseForm(x.body);
        String grantType = form.get("grant_type");
        if (grantType != null && GRANT_TYPES.contains(grantType)) {
            redeem(x, s.get(0), form);
            return true;
        }
        if ("refresh_token".equals(grantType) && !presentsClientCredentials(x, form)) {
            String tenant = tokens.resolveTenant(s.get(0));
            String clientId = form.get("client_id");
            if (tenant != null && isPublic(tenant, clientId)) {
                delegated().redeemRefreshToken(x, tenant, clientId, form);
                return true;
            }
        }
        return false;
    }

    private void deviceAuthorization(FakeExchange x, String tenantSegment) throws IOException {
        if (!x.method.equals("POST")) {
            tokens.entraError(x, 405, "invalid_request", 900561,
                    "The endpoint only accepts POST requests. Received a " + x.method + " request.");
            return;
        }
        Map<String, String> form = FakeHttp.parseForm(x.body);
        String clientId = form.get("client_id");
        x.entry.clientId = clientId;
        String tenant = checkPublicClient(x, tenantSegment, clientId, form);
        if (tenant == null) {
            return;
        }
        String scope = form.get("scope");
        if (scope == null || scope.isBlank()) {
            tokens.missing(x, "scope");
            return;
        }
        Duration life = lifetime;
        DeviceCode c;
        synchronized (byUserCode) {
            String userCode;
            do {
                userCode = randomUserCode();
            } while (byUserCode.containsKey(userCode));
            c = new DeviceCode(sequence.incrementAndGet(), tenant, clientId, scope.trim(), userCode,
                    "fake-dc-" + randomToken(96), Instant.now().plus(life));
            byUserCode.put(userCode, c);
        }
        byDeviceCode.put(c.deviceCode, c);
        ObjectNode body = json.createObjectNode();
        body.put("user_code", c.userCode);
        body.put("device_code", c.deviceCode);
        body.put("verification_uri", VERIFICATION_URI);
        body.put("expires_in", life.getSeconds());
        body.put("interval", interval.getSeconds());
        body.put("message", "To sign in, use a web browser to open the page " + VERIFICATION_URI
                + " and enter the code " + c.userCode + " to authenticate.");
        tokens.sendToken(x, body);
    }

    private void redeem(FakeExchange x, String tenantSegment, Map<String, String> form) throws IOException {
        String clientId = form.get("client_id");
        String tenant = checkPublicClient(x, tenantSegment, clientId, form);
        if (tenant == null) {
            return;
        }
        String code = form.get("device_code");
        if (code == null || code.isEmpty()) {
            tokens.missing(x, "device_code");
            return;
        }
        DeviceCode c = byDeviceCode.get(code);
        if (c == null || !c.tenant.equals(tenant) || !c.clientId.equalsIgnoreCase(clientId)) {
            tokens.entraError(x, 400, "bad_verification_code", 70018, "The provided value for the input parameter "
                    + "'device_code' is not valid." + (c == null ? "" : " The device code was issued to a different "
                    + (c.tenant.equals(tenant) ? "client." : "tenant.")));
            return;
        }
        DelegatedAuth.User user;
        synchronized (c) {
            if (c.state == State.DECLINED) {
                tokens.entraError(x, 400, "authorization_declined", 70000, "The user declined the authorization "
                        + "request. (GraphFake: declineDeviceCode.)");
                return;
            }
            if (c.state == State.REDEEMED) {
                tokens.entraError(x, 400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, "
                        + "please retry with a new valid code or use an existing refresh token.");
                return;
            }
            if (c.expired()) {
                tokens.entraError(x, 400, "expired_token", 70019, "Verification code expired.");
                return;
            }
            if (c.state == State.PENDING) {
                tokens.entraError(x, 400, "authorization_pending", 70016, "The provided request has not yet been "
                        + "authorized by the user. The user must input their code.");
                return;
            }
            c.state = State.REDEEMED;
            user = c.user;
        }
        if (delegated().redeemDeviceCode(x, tenant, clientId, user, c.scope, form)) {
            redemptions.incrementAndGet();
        }
    }

    /**
     * Tenant, client and "Allow public client flows" checks shared by both endpoints; returns the tenant key, or null
     * after sending the error.
     */
    private String checkPublicClient(FakeExchange x, String tenantSegment, String clientId, Map<String, String> form)
            throws IOException {
        String tenant = tokens.resolveTenant(tenantSegment);
        if (tenant == null) {
            tokens.entraError(x, 400, "invalid_request", 90002, "Tenant '" + tenantSegment + "' not found. Check to "
                    + "make sure you have the correct tenant ID and are signing into the correct cloud.");
            return null;
        }
        if (clientId == null || clientId.isEmpty()) {
            tokens.missing(x, "client_id");
            return null;
        }
        if (!tokens.clientExists(tenant, clientId)) {
            tokens.entraError(x, 400, "unauthorized_client", 700016, "Application with identifier '" + clientId
                    + "' was not found in the directory '" + tenantSegment + "'. This can happen if the application "
                    + "has not been installed by the administrator of the tenant or consented to by any user in the "
                    + "tenant. You may have sent your authentication request to the wrong tenant.");
            return null;
        }
        if (!isPublic(tenant, clientId)) {
            tokens.entraError(x, 400, "invalid_client", 7000218, "The request body must contain the following "
                    + "parameter: 'client_assertion' or 'client_secret'.");
            return null;
        }
        if (presentsClientCredentials(x, form)) {
            tokens.entraError(x, 400, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor "
                    + "'client_secret' should be presented.");
            return null;
        }
        return tenant;
    }

    private static boolean presentsClientCredentials(FakeExchange x, Map<String, String> form) {
        String basic = x.header("Authorization");
        return notEmpty(form.get("client_secret")) || notEmpty(form.get("client_assertion"))
                || basic != null && basic.regionMatches(true, 0, "Basic ", 0, 6);
    }

    // ================================================================== helpers

    private String randomUserCode() {
        StringBuilder b = new StringBuilder(USER_CODE_LENGTH);
        for (int i = 0; i < USER_CODE_LENGTH; i++) {
            b.append(USER_CODE_ALPHABET.charAt(random.nextInt(USER_CODE_ALPHABET.length())));
        }
        return b.toString();
    }

    private String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static boolean notEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    private static String key(String tenantKey, String clientId) {
        return tenantKey + "|" + clientId.toLowerCase(Locale.ROOT);
    }
}

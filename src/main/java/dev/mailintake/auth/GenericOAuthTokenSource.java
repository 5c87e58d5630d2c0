package dev.mailintake.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantStore;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A delegated grant from any OAuth2 provider ({@code provider=generic}: authorize URL, token URL, scopes and their
 * separator), e.g. Google for Gmail IMAP: authorization code with PKCE S256, refresh with the refresh token (a
 * rotated one is always saved), tokens kept encrypted in the {@link GrantStore}. Errors are classified from the
 * standard {@code error} field (and Entra's AADSTS codes when the provider is Entra).
 */
public final class GenericOAuthTokenSource implements DelegatedGrant {
    private static final Duration MARGIN = Duration.ofMinutes(5);

    private final ConnectionConfig connection;
    private final GrantStore grants;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final TokenRequests requests;
    private final String fingerprint;

    public GenericOAuthTokenSource(ConnectionConfig connection, GrantStore grants, Clock clock) {
        this.connection = connection;
        this.grants = grants;
        this.clock = clock;
        this.requests = new TokenRequests(connection, json);
        this.fingerprint = DelegatedGrant.fingerprint(connection);
    }

    @Override
    public String connectionName() {
        return connection.name();
    }

    @Override
    public boolean isDeviceCode() {
        return false;
    }

    @Override
    public URI authorizationUrl(String redirectUri, String state, String codeVerifier) {
        Map<String, String> q = new LinkedHashMap<>();
        q.put("response_type", "code");
        q.put("client_id", connection.clientId());
        q.put("redirect_uri", redirectUri);
        q.put("scope", scope());
        q.put("state", state);
        q.put("code_challenge", DelegatedGrant.challenge(codeVerifier));
        q.put("code_challenge_method", "S256");
        String extra = connection.generic().authorizeParams();
        String base = connection.authorizeUrl().orElseThrow().toString();
        return URI.create(base + (base.contains("?") ? "&" : "?") + form(q) + (extra.isEmpty() ? "" : "&" + extra));
    }

    @Override
    public String redeem(String code, String redirectUri, String codeVerifier) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "authorization_code");
        f.put("code", code);
        f.put("redirect_uri", redirectUri);
        f.put("code_verifier", codeVerifier);
        f.put("scope", scope());
        JsonNode answer = tokenRequest(f);
        String account = account(answer);
        grants.authorized(connection.name(), fingerprint, account, stored(answer, null, account).toString());
        return account;
    }

    @Override
    public Optional<Grant> grant() {
        return grants.find(connection.name());
    }

    @Override
    public AccessToken acquire(boolean forceRefresh) {
        return grants.acquireOnce(connection.name(), forceRefresh, this::acquireLocked);
    }

    private AccessToken acquireLocked(boolean forceRefresh) {
        GrantChecks.usable(grants, connection.name(), fingerprint, false);
        Optional<GrantStore.Cache> stored = grants.versionedCache(connection.name());
        JsonNode tokens = read(stored);
        Instant expiresAt = Instant.ofEpochMilli(tokens.path("expires_at").asLong(0));
        if (!forceRefresh && tokens.hasNonNull("access_token") && clock.instant().plus(MARGIN).isBefore(expiresAt)) {
            return new AccessToken(tokens.get("access_token").asText(), expiresAt);
        }
        String refreshToken = tokens.path("refresh_token").asText(null);
        if (refreshToken == null) {
            throw GrantChecks.remember(grants, new TokenException(connection.name(),
                    TokenException.Kind.REAUTHORIZATION_REQUIRED, "the provider gave no refresh token (ask for offline"
                    + " access, e.g. authorize-params=access_type=offline&prompt=consent for Google); sign in again", null));
        }
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "refresh_token");
        f.put("refresh_token", refreshToken);
        f.put("scope", scope());
        JsonNode answer;
        try {
            answer = tokenRequest(f);
        } catch (TokenException e) {
            throw GrantChecks.remember(grants, e);
        }
        ObjectNode next = stored(answer, refreshToken, tokens.path("account").asText(null));
        grants.cacheChanged(connection.name(), next.toString(), stored.map(GrantStore.Cache::version).orElse(0L));
        return new AccessToken(next.get("access_token").asText(), Instant.ofEpochMilli(next.get("expires_at").asLong()));
    }

    private JsonNode read(Optional<GrantStore.Cache> stored) {
        try {
            return json.readTree(stored.map(GrantStore.Cache::value).orElse("{}"));
        } catch (IOException e) {
            throw new TokenException(connection.name(), TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    "the stored grant cannot be read; sign in again", e);
        }
    }

    /** What is kept (encrypted): tokens, expiry as a UTC instant, and who signed in. A rotated refresh token wins. */
    private ObjectNode stored(JsonNode answer, String previousRefreshToken, String account) {
        ObjectNode o = json.createObjectNode();
        o.put("access_token", answer.path("access_token").asText());
        o.put("expires_at", clock.instant().plusSeconds(answer.path("expires_in").asLong(3600)).toEpochMilli());
        String refresh = answer.hasNonNull("refresh_token") ? answer.get("refresh_token").asText() : previousRefreshToken;
        if (refresh != null) {
            o.put("refresh_token", refresh);
        }
        if (account != null) {
            o.put("account", account);
        }
        return o;
    }

    private JsonNode tokenRequest(Map<String, String> form) {
        return requests.post(form);
    }

    /** Who signed in, from the id_token's claims if the provider sent one (for display only). */
    private String account(JsonNode answer) {
        String idToken = answer.path("id_token").asText(null);
        if (idToken != null && idToken.split("\\.").length >= 2) {
            try {
                JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(idToken.split("\\.")[1]));
                for (String claim : new String[] {"preferred_username", "email", "upn", "sub"}) {
                    if (claims.hasNonNull(claim)) {
                        return claims.get(claim).asText();
                    }
                }
            } catch (IOException | IllegalArgumentException ignored) {
                // not a JWT we can read: fall through
            }
        }
        return "the signed-in user";
    }

    private String scope() {
        return String.join(connection.generic().scopeSeparator(), connection.scopes());
    }

    private static String form(Map<String, String> f) {
        return TokenRequests.form(f);
    }
}

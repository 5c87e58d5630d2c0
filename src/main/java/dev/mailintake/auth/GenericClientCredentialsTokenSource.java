package dev.mailintake.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.config.ConnectionConfig;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * App tokens from any OAuth2 provider ({@code provider=generic}, {@code flow=client-credentials}): a
 * {@code client_credentials} grant to the token URL with the connection's scopes and {@code token-params.*}; the
 * client authenticates in the form or with HTTP Basic ({@code client-auth}). Nothing is stored: the
 * {@link TokenService} caches the token until shortly before it expires.
 */
public final class GenericClientCredentialsTokenSource implements TokenSource {
    private final ConnectionConfig connection;
    private final Clock clock;
    private final TokenRequests requests;

    public GenericClientCredentialsTokenSource(ConnectionConfig connection, Clock clock) {
        this.connection = connection;
        this.clock = clock;
        this.requests = new TokenRequests(connection, new ObjectMapper());
    }

    @Override
    public AccessToken acquire(boolean skipCache) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        if (!connection.scopes().isEmpty()) {
            form.put("scope", String.join(connection.generic().scopeSeparator(), connection.scopes()));
        }
        JsonNode answer = requests.post(form);
        return new AccessToken(answer.get("access_token").asText(),
                clock.instant().plusSeconds(answer.path("expires_in").asLong(3600)));
    }
}

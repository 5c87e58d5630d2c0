package dev.mailintake.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Secret;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * POSTs token requests to a {@code provider=generic} connection's token URL: the client authenticates in the form
 * ({@code client-auth=post}) or with HTTP Basic ({@code basic}), the connection's {@code token-params.*} are added,
 * and an answer without an access token comes back as a classified {@link TokenException}. Nothing sent or received
 * is logged.
 */
final class TokenRequests {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final ConnectionConfig connection;
    private final ObjectMapper json;
    private final HttpClient http;

    TokenRequests(ConnectionConfig connection, ObjectMapper json) {
        this.connection = connection;
        this.json = json;
        this.http = client(connection);
    }

    /** An HTTP client for the connection's authority or provider: its trust store, no redirects followed. */
    static HttpClient client(ConnectionConfig connection) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NEVER);
        connection.trustStore().ifPresent(ts -> b.sslContext(TrustStores.context(ts,
                connection.trustStorePassword().map(Secret::value).orElse(""))));
        return b.build();
    }

    /** The provider's answer (with an {@code access_token}) to {@code form} plus client authentication. */
    JsonNode post(Map<String, String> form) {
        HttpRequest.Builder req = HttpRequest.newBuilder(connection.tokenUrl().orElseThrow()).timeout(TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json");
        Map<String, String> f = new LinkedHashMap<>(form);
        connection.generic().tokenParams().forEach((name, value) -> f.putIfAbsent(name, value.value()));
        String secret = connection.clientSecret().map(Secret::value).orElse(null);
        if (connection.generic().basicAuth() && secret != null) {
            // RFC 6749 §2.3.1: both parts form-urlencoded before Base64
            String pair = URLEncoder.encode(connection.clientId(), StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(secret, StandardCharsets.UTF_8);
            req.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
        } else {
            f.put("client_id", connection.clientId());
            if (secret != null) {
                f.put("client_secret", secret);
            }
        }
        HttpResponse<String> response;
        try {
            response = http.send(req.POST(HttpRequest.BodyPublishers.ofString(form(f))).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TokenException(connection.name(), TokenException.Kind.TRANSIENT, "token endpoint "
                    + connection.tokenUrl().orElseThrow() + " unreachable (" + e.getClass().getSimpleName() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenException(connection.name(), TokenException.Kind.TRANSIENT, "interrupted", e);
        }
        JsonNode body;
        try {
            body = json.readTree(response.body().isEmpty() ? "{}" : response.body());
        } catch (IOException e) {
            body = json.createObjectNode();
        }
        if (response.statusCode() / 100 != 2 || !body.hasNonNull("access_token")) {
            throw TokenFailures.classify(connection.name(), form.get("scope"), response.statusCode(),
                    body.path("error").asText(null), body.path("error_description").asText(null), null);
        }
        return body;
    }

    static String form(Map<String, String> f) {
        return f.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }
}

package dev.mailintake.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The permissions an Entra access token carries, read from its claims ({@code roles} for app-only tokens,
 * {@code scp} for delegated ones) without checking its signature — only to name a missing permission. Tokens that are
 * not JWTs (other providers, test servers) say nothing here.
 */
public record TokenClaims(Set<String> roles, Set<String> scopes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The claims of a JWT access token, or empty when the token is opaque. */
    public static Optional<TokenClaims> of(String accessToken) {
        String[] parts = accessToken.split("\\.");
        if (parts.length != 3) {
            return Optional.empty();
        }
        try {
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            Set<String> roles = new LinkedHashSet<>();
            claims.path("roles").forEach(r -> roles.add(r.asText()));
            Set<String> scopes = new LinkedHashSet<>();
            for (String s : claims.path("scp").asText("").split(" ")) {
                if (!s.isBlank()) {
                    scopes.add(s);
                }
            }
            return Optional.of(new TokenClaims(Set.copyOf(roles), Set.copyOf(scopes)));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Whether the token grants {@code permission}, as an application role or a delegated scope. */
    public boolean grants(String permission) {
        return roles.contains(permission) || scopes.contains(permission);
    }
}

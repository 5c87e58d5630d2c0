package dev.mailintake.auth;

import java.time.Instant;

/** A bearer token and the UTC instant it expires at. Never printed. */
public record AccessToken(String value, Instant expiresAt) {
    /** Whether the token is still good at {@code now} with {@code margin} to spare (both UTC instants). */
    public boolean validAt(Instant now, java.time.Duration margin) {
        return now.plus(margin).isBefore(expiresAt);
    }

    @Override
    public String toString() {
        return "AccessToken[****, expiresAt=" + expiresAt + "]";
    }
}

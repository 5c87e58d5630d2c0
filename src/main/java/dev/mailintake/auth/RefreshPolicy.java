package dev.mailintake.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * When the refresh-tokens route redeems a connection's refresh token: when the access token in use expires within
 * the window (or none is known), and at least once a day so that Entra's 90-day inactivity limit never bites. All
 * comparisons are between UTC {@link Instant}s: no time zone can make an expired token look valid.
 */
public record RefreshPolicy(Duration window, Duration maxAge) {
    public static RefreshPolicy of(Duration window) {
        return new RefreshPolicy(window, Duration.ofHours(23));
    }

    public boolean due(Instant now, Optional<Instant> accessTokenExpiry, Optional<Instant> lastRefresh) {
        if (accessTokenExpiry.isEmpty() || !now.plus(window).isBefore(accessTokenExpiry.get())) {
            return true;
        }
        return lastRefresh.isEmpty() || !now.minus(maxAge).isBefore(lastRefresh.get());
    }
}

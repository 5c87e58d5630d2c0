package dev.mailintake.auth;

import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code refresh-tokens} route's work: for every delegated connection whose grant is authorized and due, redeem
 * the refresh token (msal4j saves the rotated one). Transient failures are retried with backoff and the old access
 * token stays in use while valid; a revoked grant or a broken app registration changes the connection's state,
 * logged once with what to do. One connection's failure never stops another's.
 */
public final class TokenRefresher {
    private static final Logger LOG = LoggerFactory.getLogger(TokenRefresher.class);

    private final Map<String, DelegatedGrant> connections;
    private final TokenService tokens;
    private final RefreshPolicy policy;
    private final Clock clock;
    private final Duration backoff;
    private final int attempts;

    public TokenRefresher(Map<String, DelegatedGrant> connections, TokenService tokens, RefreshPolicy policy,
                          Clock clock, Duration backoff, int attempts) {
        this.connections = Map.copyOf(connections);
        this.tokens = tokens;
        this.policy = policy;
        this.clock = clock;
        this.backoff = backoff;
        this.attempts = attempts;
    }

    /** The scheduled round: every delegated connection that is due. */
    public void refreshDue() {
        refreshAll(false);
    }

    /** The on-demand round ("Refresh tokens now"): every authorized delegated connection, due or not. */
    public void refreshNow() {
        refreshAll(true);
    }

    private void refreshAll(boolean force) {
        connections.forEach((name, source) -> {
            try {
                refresh(name, source, force);
            } catch (RuntimeException e) {
                LOG.warn("connection '{}': token refresh failed unexpectedly: {}", name, e.getMessage());
            }
        });
    }

    private void refresh(String name, DelegatedGrant source, boolean force) {
        Optional<Grant> grant = source.grant();
        if (grant.isEmpty() || grant.get().state() != GrantState.AUTHORIZED) {
            LOG.debug("connection '{}': not refreshed ({})", name, grant.map(g -> g.state().name()).orElse("never authorized"));
            return;
        }
        if (!force && !policy.due(clock.instant(), tokens.cached(name).map(AccessToken::expiresAt),
                grant.get().refreshedAt())) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                AccessToken token = tokens.refresh(name);
                LOG.info("connection '{}': tokens refreshed; access token valid until {}", name, token.expiresAt());
                return;
            } catch (TokenException e) {
                if (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED) {
                    LOG.error("{} — its mailboxes pause once their access token expires, until someone signs in at"
                            + " /oauth/start/{}", e.getMessage(), name);
                    return;
                }
                if (e.kind() == TokenException.Kind.ADMIN_MUST_FIX) {
                    LOG.error("{} — an administrator must fix the app registration or mailintake.connections.{}.*",
                            e.getMessage(), name);
                    return;
                }
                if (attempt >= attempts) {
                    LOG.warn("{} (after {} attempts); the current access token stays in use, next try at the next run",
                            e.getMessage(), attempt);
                    return;
                }
                sleep(backoff.multipliedBy(1L << (attempt - 1)));
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

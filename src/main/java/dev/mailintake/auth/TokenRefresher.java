package dev.mailintake.auth;

import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The {@code refresh-tokens} route's work: for every delegated connection whose grant is authorized and due, redeem
 * the refresh token (msal4j saves the rotated one). Transient failures are retried with backoff and the old access
 * token stays in use while valid; a revoked grant or a broken app registration changes the connection's state,
 * logged once with what to do. One connection's failure never stops another's.
 *
 * <p>One round at a time, whoever asks (the cron, {@code direct:refresh-tokens} from JMX, the status page's button):
 * a request during a round joins it instead of starting another. Rounds run on their own thread; the schedule and
 * {@code direct:refresh-tokens} wait for the round, the status page does not ({@link #requestNow()}).
 */
public final class TokenRefresher {
    private static final Logger LOG = LoggerFactory.getLogger(TokenRefresher.class);

    private final Map<String, DelegatedGrant> connections;
    private final TokenService tokens;
    private final RefreshPolicy policy;
    private final Clock clock;
    private final Duration backoff;
    private final int attempts;
    private final Executor executor;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private CompletableFuture<Void> current = CompletableFuture.completedFuture(null);
    /** Guarded by {@link #lock}. */
    private RefreshRun running;
    /** Guarded by {@link #lock}. */
    private RefreshRun last;

    /** @param executor where rounds run (one thread is enough: there is never more than one round) */
    public TokenRefresher(Map<String, DelegatedGrant> connections, TokenService tokens, RefreshPolicy policy,
                          Clock clock, Duration backoff, int attempts, Executor executor) {
        this.connections = new LinkedHashMap<>(connections);
        this.tokens = tokens;
        this.policy = policy;
        this.clock = clock;
        this.backoff = backoff;
        this.attempts = attempts;
        this.executor = executor;
    }

    /** The scheduled round: every delegated connection that is due. Waits for the round (or the one running). */
    public void refreshDue() {
        await(begin(false, "schedule"));
    }

    /** The on-demand round ("Refresh tokens now", JMX): every authorized delegated connection, due or not. Waits. */
    public void refreshNow() {
        await(begin(true, "on demand"));
    }

    /** The status page's button: starts an on-demand round, or joins the one running; returns at once. */
    public void requestNow() {
        begin(true, "status page");
    }

    public RefreshRun.Status status() {
        synchronized (lock) {
            return new RefreshRun.Status(Optional.ofNullable(running), Optional.ofNullable(last));
        }
    }

    private CompletableFuture<Void> begin(boolean force, String trigger) {
        synchronized (lock) {
            if (running != null) {
                LOG.info("token refresh ({}) joins the round running since {}", trigger, running.startedAt());
                return current;
            }
            RefreshRun run = new RefreshRun(trigger, clock.instant(), Optional.empty(), Map.of());
            running = run;
            current = CompletableFuture.runAsync(() -> round(run, force), executor);
            return current;
        }
    }

    private void round(RefreshRun run, boolean force) {
        Map<String, RefreshRun.Outcome> outcomes = new LinkedHashMap<>();
        try {
            connections.forEach((name, source) -> {
                RefreshRun.Outcome outcome;
                MDC.put("connection", name);
                try {
                    outcome = refresh(name, source, force);
                } catch (RuntimeException e) {
                    LOG.warn("connection '{}': token refresh failed unexpectedly: {}", name, String.valueOf(e));
                    outcome = new RefreshRun.Outcome(false, "failed unexpectedly: " + e.getMessage());
                } finally {
                    MDC.remove("connection");
                }
                outcomes.put(name, outcome);
            });
        } finally {
            synchronized (lock) {
                last = new RefreshRun(run.trigger(), run.startedAt(), Optional.of(clock.instant()), outcomes);
                running = null;
            }
        }
    }

    private static void await(CompletableFuture<Void> round) {
        try {
            round.join();
        } catch (CompletionException | CancellationException e) {
            throw new IllegalStateException("the token refresh round failed: " + e.getMessage(), e);
        }
    }

    private RefreshRun.Outcome refresh(String name, DelegatedGrant source, boolean force) {
        Optional<Grant> grant = source.grant();
        if (grant.isEmpty() || grant.get().state() != GrantState.AUTHORIZED) {
            String state = grant.map(g -> g.state().name().toLowerCase().replace('_', ' ')).orElse("never authorized");
            LOG.debug("connection '{}': not refreshed ({})", name, state);
            return new RefreshRun.Outcome(false, "not refreshed: " + state);
        }
        if (!force && !policy.due(clock.instant(), tokens.cached(name).map(AccessToken::expiresAt),
                grant.get().refreshedAt())) {
            return new RefreshRun.Outcome(true, "not due yet");
        }
        for (int attempt = 1; ; attempt++) {
            try {
                AccessToken token = tokens.refresh(name);
                LOG.info("connection '{}': tokens refreshed; access token valid until {}", name, token.expiresAt());
                return new RefreshRun.Outcome(true, "refreshed; access token valid until " + token.expiresAt());
            } catch (TokenException e) {
                if (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED) {
                    LOG.error("{} — its mailboxes pause once their access token expires, until someone signs in at"
                            + " /oauth/start/{}", e.getMessage(), name);
                    return new RefreshRun.Outcome(false, e.getMessage());
                }
                if (e.kind() == TokenException.Kind.ADMIN_MUST_FIX) {
                    LOG.error("{} — an administrator must fix the app registration or mailintake.connections.{}.*",
                            e.getMessage(), name);
                    return new RefreshRun.Outcome(false, e.getMessage());
                }
                if (attempt >= attempts) {
                    LOG.warn("{} (after {} attempts); the current access token stays in use, next try at the next run",
                            e.getMessage(), attempt);
                    return new RefreshRun.Outcome(false, e.getMessage() + " (after " + attempt
                            + " attempts); the current access token stays in use");
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

package dev.mailintake.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out access tokens per connection, cached until shortly before they expire. Expiry is compared as UTC
 * {@link java.time.Instant}s from an injected {@link Clock}, so the JVM's or the server's time zone never matters.
 * Acquisition is serialized per connection.
 */
public final class TokenService {
    private static final Logger LOG = LoggerFactory.getLogger(TokenService.class);

    private final Map<String, TokenSource> sources;
    private final Clock clock;
    private final Duration margin;
    private final Map<String, AccessToken> cache = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final Map<String, TokenException> problems = new ConcurrentHashMap<>();
    private final Map<String, TokenException> signInProblems = new ConcurrentHashMap<>();

    /** @param margin how long before expiry a token is no longer handed out (e.g. 5 minutes) */
    public TokenService(Map<String, TokenSource> sources, Clock clock, Duration margin) {
        this.sources = Map.copyOf(sources);
        this.clock = clock;
        this.margin = margin;
    }

    /**
     * A token valid for at least the margin. A connection whose last token request showed that someone must act (a
     * revoked grant) gets no cached token: its mailboxes pause now rather than when the cached token expires.
     */
    public AccessToken token(String connection) {
        AccessToken cached = cache.get(connection);
        if (cached != null && cached.validAt(clock.instant(), margin)) {
            return cached;
        }
        return withLock(connection, () -> {
            AccessToken again = cache.get(connection);
            if (again != null && again.validAt(clock.instant(), margin)) {
                return again;
            }
            return fetch(connection, false);
        });
    }

    /**
     * A new token after the resource server rejected {@code rejected} (401). If another thread already replaced it,
     * that newer token is returned instead of asking the provider again.
     */
    public AccessToken renew(String connection, AccessToken rejected) {
        return withLock(connection, () -> {
            AccessToken current = cache.get(connection);
            if (current != null && !current.value().equals(rejected.value()) && current.validAt(clock.instant(), margin)) {
                return current;
            }
            return fetch(connection, true);
        });
    }

    /** Forces a refresh now (the refresh-tokens route), replacing the cached token. */
    public AccessToken refresh(String connection) {
        return withLock(connection, () -> fetch(connection, true));
    }

    /** The token handed out now, if any. */
    public java.util.Optional<AccessToken> cached(String connection) {
        return java.util.Optional.ofNullable(cache.get(connection));
    }

    /**
     * A sign-in that failed for a reason someone must act on (e.g. an administrator must consent first), for a
     * connection without a usable grant: the status page shows it until a sign-in succeeds ({@link #forget}).
     */
    public void signInFailed(TokenException e) {
        signInProblems.put(e.connection(), e);
    }

    /** Why the last sign-in of a connection without a usable grant failed, until a sign-in succeeds. */
    public java.util.Optional<TokenException> signInProblem(String connection) {
        return java.util.Optional.ofNullable(signInProblems.get(connection));
    }

    /** Drops the cached token and any known problem (after a new authorization). */
    public void forget(String connection) {
        cache.remove(connection);
        problems.remove(connection);
        signInProblems.remove(connection);
    }

    /**
     * What the last token request of the connection said that a person must fix (re-authorization required, or the
     * app registration / credentials are wrong); empty once a token was issued again. Transient failures are not
     * problems.
     */
    public java.util.Optional<TokenException> problem(String connection) {
        return java.util.Optional.ofNullable(problems.get(connection));
    }

    /** The connections that have a {@link #problem} now. */
    public java.util.Set<String> problemConnections() {
        return java.util.Set.copyOf(problems.keySet());
    }

    private AccessToken fetch(String connection, boolean skipCache) {
        TokenSource source = sources.get(connection);
        if (source == null) {
            throw new IllegalArgumentException("no connection named '" + connection + "'");
        }
        AccessToken token;
        try {
            token = source.acquire(skipCache);
        } catch (TokenException e) {
            if (e.kind() != TokenException.Kind.TRANSIENT) {
                problems.put(connection, e);
            }
            if (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED) {
                // the grant is known revoked or expired: the access token issued from it is not handed out again
                cache.remove(connection);
            }
            throw e;
        }
        problems.remove(connection);
        cache.put(connection, token);
        LOG.debug("connection '{}': new access token, expires at {}", connection, token.expiresAt());
        return token;
    }

    private AccessToken withLock(String connection, java.util.function.Supplier<AccessToken> action) {
        ReentrantLock lock = locks.computeIfAbsent(connection, c -> new ReentrantLock());
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }
}

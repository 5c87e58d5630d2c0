package dev.mailintake.auth;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One token refresh round: who started it, when, and (once finished) what happened to each delegated connection.
 *
 * @param trigger  {@code schedule}, {@code on demand} (direct:refresh-tokens, e.g. JMX) or {@code status page}
 * @param outcomes per connection, in configuration order: a short text (never a token)
 */
public record RefreshRun(String trigger, Instant startedAt, Optional<Instant> finishedAt, Map<String, Outcome> outcomes) {
    /** What a round did with one connection. */
    public record Outcome(boolean ok, String text) {
    }

    public RefreshRun {
        outcomes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(outcomes));
    }

    /** The round now running and the last finished one, for the status page. */
    public record Status(Optional<RefreshRun> running, Optional<RefreshRun> last) {
    }
}

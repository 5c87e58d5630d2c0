package dev.mailintake.ops;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.Credential;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenException;
import dev.mailintake.auth.TokenService;
import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * {@code /observe/health}: one check per connection. DOWN, with the reason and what to do, while a delegated
 * connection is not authorized or must be authorized again, and for any connection as soon as a token request said
 * that a person must act (a revoked grant, an expired client secret) — not only once a mailbox needs a new token.
 * Details say who authorized it and when tokens were last refreshed; never a token.
 */
public final class ConnectionHealthCheck extends AbstractHealthCheck {
    private final String connection;
    private final Optional<DelegatedGrant> delegated;
    private final TokenService tokens;
    private final Credential credential;
    private final Clock clock;

    public ConnectionHealthCheck(String connection, Optional<DelegatedGrant> delegated, TokenService tokens,
                                 Credential credential, Clock clock) {
        super("mailintake", "connection-" + connection);
        this.connection = connection;
        this.delegated = delegated;
        this.tokens = tokens;
        this.credential = credential;
        this.clock = clock;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("connection", connection);
        tokens.cached(connection).map(AccessToken::expiresAt)
                .ifPresent(t -> builder.detail("access.token.expires", t.toString()));
        Optional<TokenException> problem = tokens.problem(connection);
        credential.expiresAt().ifPresent(t -> {
            builder.detail("credential", credential.kind());
            builder.detail("credential.expires", t.toString());
            builder.detail("credential.days.left", credential.left(clock).orElseThrow().toDays());
        });
        Optional<String> expiry = credential.warning(clock);
        if (expiry.isPresent() && credential.left(clock).orElseThrow().isNegative()) {
            builder.detail("state", "CREDENTIAL_EXPIRED");
            builder.message(expiry.get());
            builder.down();
            return;
        }
        if (delegated.isPresent()) {
            DelegatedGrant source = delegated.get();
            Optional<Grant> grant = source.grant();
            if (grant.isEmpty()) {
                builder.detail("state", "NEVER_AUTHORIZED");
                builder.message("not authorized yet: " + (source.isDeviceCode()
                        ? "run java -jar mail-intake.jar authorize " + connection + " --device-code"
                        : "press Authorize on the status page"));
                builder.down();
                return;
            }
            Grant g = grant.get();
            g.account().ifPresent(a -> builder.detail("authorized.as", a));
            g.refreshedAt().ifPresent(t -> builder.detail("refreshed.at", t.toString()));
            if (g.state() != GrantState.AUTHORIZED) {
                builder.detail("state", g.state().name());
                builder.message(g.reason().orElse(g.state().name()));
                builder.down();
                return;
            }
        }
        if (problem.isPresent()) {
            builder.detail("state", problem.get().kind().name());
            builder.message(problem.get().getMessage());
            builder.down();
            return;
        }
        builder.detail("state", "AUTHORIZED");
        expiry.ifPresent(builder::message); // a warning while it still works: expires within 30 days
        builder.up();
    }
}

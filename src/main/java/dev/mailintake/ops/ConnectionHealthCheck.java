package dev.mailintake.ops;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenService;
import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * {@code /observe/health}: one check per delegated connection, DOWN while it is not authorized or must be authorized
 * again (with the reason and what to do); details say who authorized it and when tokens were last refreshed.
 */
public final class ConnectionHealthCheck extends AbstractHealthCheck {
    private final DelegatedGrant connection;
    private final TokenService tokens;

    public ConnectionHealthCheck(DelegatedGrant connection, TokenService tokens) {
        super("mailintake", "connection-" + connection.connectionName());
        this.connection = connection;
        this.tokens = tokens;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("connection", connection.connectionName());
        Optional<Grant> grant = connection.grant();
        tokens.cached(connection.connectionName()).map(AccessToken::expiresAt)
                .ifPresent(t -> builder.detail("access.token.expires", t.toString()));
        if (grant.isEmpty()) {
            builder.detail("state", "NEVER_AUTHORIZED");
            builder.message("not authorized yet: " + (connection.isDeviceCode()
                    ? "run java -jar mail-intake.jar authorize " + connection.connectionName() + " --device-code"
                    : "press Authorize on the status page"));
            builder.down();
            return;
        }
        Grant g = grant.get();
        builder.detail("state", g.state().name());
        g.account().ifPresent(a -> builder.detail("authorized.as", a));
        g.refreshedAt().ifPresent(t -> builder.detail("refreshed.at", t.toString()));
        if (g.state() == GrantState.AUTHORIZED) {
            builder.up();
        } else {
            builder.message(g.reason().orElse(g.state().name()));
            builder.down();
        }
    }
}

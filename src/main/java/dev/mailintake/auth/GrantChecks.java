package dev.mailintake.auth;

import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import dev.mailintake.store.GrantStore;

/** What every delegated token source checks before using a stored grant, and remembers after a refusal. */
final class GrantChecks {
    private GrantChecks() {
    }

    /** The grant if it may be used now; a grant that no longer matches the configuration is marked. */
    static Grant usable(GrantStore grants, String connection, String fingerprint, boolean deviceCode) {
        String how = deviceCode ? "run java -jar mail-intake.jar authorize " + connection + " --device-code"
                : "Authorize on the status page, /oauth/start/" + connection;
        Grant grant = grants.find(connection).orElseThrow(() -> new TokenException(connection,
                TokenException.Kind.REAUTHORIZATION_REQUIRED, "not authorized yet: an administrator must sign in"
                + " once (" + how + ")", null));
        if (grant.state() == GrantState.REAUTHORIZATION_REQUIRED) {
            throw new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    grant.reason().orElse("re-authorization required"), null);
        }
        if (!grant.fingerprint().equals(fingerprint)) {
            String reason = "re-authorization required: the connection's provider, tenant, client id or scopes changed"
                    + " since " + grant.account().orElse("the administrator") + " authorized it; sign in again";
            grants.state(connection, GrantState.REAUTHORIZATION_REQUIRED, reason);
            throw new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED, reason, null);
        }
        return grant;
    }

    /**
     * A grant the provider refused stays refused (no retry loop against a revoked grant) until someone signs in.
     * Problems of the app registration (an expired secret) are not the grant's: they are fixed in the configuration.
     */
    static TokenException remember(GrantStore grants, TokenException e) {
        if (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED) {
            grants.state(e.connection(), GrantState.REAUTHORIZATION_REQUIRED, e.getMessage());
        }
        return e;
    }
}

package dev.mailintake.store;

import java.time.Instant;
import java.util.Optional;

/**
 * A connection's delegated grant as stored (the token cache itself stays encrypted inside {@link GrantStore}).
 *
 * @param account who authorized (user principal name), for the status page
 */
public record Grant(String connection, String fingerprint, Optional<String> account, GrantState state,
                    Optional<String> reason, Optional<Instant> authorizedAt, Optional<Instant> refreshedAt) {
}

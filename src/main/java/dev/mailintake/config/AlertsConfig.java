package dev.mailintake.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Where alerts go and how often the conditions are checked.
 *
 * @param endpoint      a Camel endpoint URI (a webhook {@code https://…}, {@code smtp:…}, {@code direct:} of a user
 *                      route); empty: alerts are only logged
 * @param checkInterval how often the conditions are evaluated
 * @param stallPolls    an interval-polled mailbox that has not completed a poll for this many intervals has stalled
 */
public record AlertsConfig(Optional<String> endpoint, Duration checkInterval, int stallPolls) {
}

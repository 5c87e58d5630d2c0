package dev.mailintake.store;

import java.time.Instant;
import java.util.Optional;

/** One row of the ledger. */
public record LedgerEntry(
        String mailbox,
        String messageKey,
        Optional<String> internetMessageId,
        LedgerState state,
        Optional<String> reason,
        int attempts,
        Optional<Instant> firstFailureAt,
        Optional<Instant> deliveredAt,
        Optional<String> location) {
}

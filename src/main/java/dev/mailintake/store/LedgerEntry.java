package dev.mailintake.store;

import java.time.Instant;
import java.util.Optional;

/** One row of the ledger; {@code contentSha256} is the hash of the raw message, when it was read;
 * {@code contentSize} its size in bytes, when known. */
public record LedgerEntry(
        String mailbox,
        String messageKey,
        Optional<String> internetMessageId,
        LedgerState state,
        Optional<String> reason,
        int attempts,
        Optional<Instant> firstFailureAt,
        Optional<Instant> deliveredAt,
        Optional<String> location,
        Optional<String> contentSha256,
        Optional<Long> contentSize) {
}

package dev.mailintake.intake;

import java.util.ArrayList;
import java.util.List;

/**
 * One poll's messages that are recorded in the ledger and wait to leave the Inbox together (see
 * {@link MailboxGateway#moveBatchSize()}): a batch is moved once it is full, the rest when the poll's messages are all
 * handled. Until then the ledger holds each as delivered (or rejected), so after a crash the next poll only moves it.
 */
final class PendingMoves {
    /** A message delivered (location) or delivered before (null), on its way to Processed. */
    record Processed(MessageRef ref, String location) {
    }

    /** A message on its way to Error, with the reason (recorded) and the log line's detail. */
    record Rejected(MessageRef ref, String reason, String detail) {
    }

    private final int size;
    private final PollProgress progress;
    private List<Processed> processed = new ArrayList<>();
    private List<Rejected> rejected = new ArrayList<>();

    PendingMoves(int size, PollProgress progress) {
        this.size = size;
        this.progress = progress;
    }

    PollProgress progress() {
        return progress;
    }

    /** @return a full batch to move now (taken out), or an empty list */
    synchronized List<Processed> toProcessed(Processed p) {
        processed.add(p);
        return processed.size() >= size ? takeProcessed() : List.of();
    }

    /** @return a full batch to move now (taken out), or an empty list */
    synchronized List<Rejected> toError(Rejected r) {
        rejected.add(r);
        return rejected.size() >= size ? takeRejected() : List.of();
    }

    synchronized List<Processed> takeProcessed() {
        List<Processed> out = processed;
        processed = new ArrayList<>();
        return out;
    }

    synchronized List<Rejected> takeRejected() {
        List<Rejected> out = rejected;
        rejected = new ArrayList<>();
        return out;
    }
}

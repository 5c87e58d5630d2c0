package dev.mailintake.imap;

import dev.mailintake.intake.MessageRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.eclipse.angus.mail.iap.ByteArray;

/**
 * One poll's batching of small messages into one {@code UID FETCH} each: the exchange that comes first for a message
 * fetches it together with the messages listed after it that nobody asked for yet, up to {@code batchSize} messages
 * and {@code budget} bytes by their listed sizes (the answer is read into memory whole); their exchanges then wait for
 * that answer instead of asking the server again. A message not yet listed, of unknown size or larger than the budget
 * is fetched on its own, as before. Only listing order decides what goes into a batch: a message that turns out not to
 * need its bytes (the ledger says it was delivered) is forgotten when it is moved, the rest at the end of the poll.
 */
final class BatchedFetches {
    /** A batch to fetch: the caller's message first; {@code result} is completed with what arrived (empty on failure). */
    record Batch(long[] uids, CompletableFuture<Map<Long, ByteArray>> result) {
    }

    /**
     * What the caller does for its message: fetch {@code batch} (which holds it), wait for another exchange's batch
     * ({@code waiting}), or (both null) fetch it on its own.
     */
    record Claim(Batch batch, CompletableFuture<Map<Long, ByteArray>> waiting) {
        static final Claim ALONE = new Claim(null, null);
    }

    private final int batchSize;
    private final long budget;
    private final List<MessageRef> listed = new ArrayList<>();
    private final Map<Long, Integer> position = new HashMap<>();
    /** Messages in a batch whose own exchange has not come for them yet. */
    private final Map<Long, CompletableFuture<Map<Long, ByteArray>>> pending = new HashMap<>();
    /** Messages fetched or being fetched in this poll. */
    private final Set<Long> requested = new HashSet<>();

    BatchedFetches(int batchSize, long budget) {
        this.batchSize = batchSize;
        this.budget = budget;
    }

    /** A new poll (or its end): forgets the listing and any bytes nobody came for. */
    synchronized void reset() {
        listed.clear();
        position.clear();
        pending.clear();
        requested.clear();
    }

    /** The listing handed out {@code ref} (in listing order). */
    synchronized void listed(MessageRef ref) {
        position.put(ImapMailbox.uid(ref), listed.size());
        listed.add(ref);
    }

    /** The message leaves the Inbox without being fetched (the ledger knew it): its bytes are not kept. */
    synchronized void forget(MessageRef ref) {
        pending.remove(ImapMailbox.uid(ref));
    }

    /** @param maxBytes the mailbox's rules.max-size: a larger message is not fetched along with others */
    synchronized Claim claim(MessageRef ref, long maxBytes) {
        long uid = ImapMailbox.uid(ref);
        CompletableFuture<Map<Long, ByteArray>> waiting = pending.remove(uid);
        if (waiting != null) {
            return new Claim(null, waiting);
        }
        requested.add(uid);
        Integer at = position.get(uid);
        if (batchSize <= 1 || at == null || ref.size() < 0 || ref.size() >= budget
                || pending.size() >= batchSize) { // bytes of earlier batches still wait for their exchanges
            return Claim.ALONE;
        }
        List<Long> uids = new ArrayList<>(List.of(uid));
        long bytes = ref.size();
        for (int i = at + 1; i < listed.size() && uids.size() < batchSize; i++) {
            MessageRef next = listed.get(i);
            long u = ImapMailbox.uid(next);
            if (requested.contains(u)) {
                continue;
            }
            if (next.size() < 0 || next.size() > maxBytes || bytes + next.size() >= budget) {
                break;
            }
            uids.add(u);
            bytes += next.size();
        }
        if (uids.size() == 1) {
            return Claim.ALONE;
        }
        CompletableFuture<Map<Long, ByteArray>> result = new CompletableFuture<>();
        for (long u : uids.subList(1, uids.size())) {
            requested.add(u);
            pending.put(u, result);
        }
        return new Claim(new Batch(uids.stream().mapToLong(Long::longValue).toArray(), result), null);
    }
}

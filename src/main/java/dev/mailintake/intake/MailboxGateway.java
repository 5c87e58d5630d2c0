package dev.mailintake.intake;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What differs between protocols: how a mailbox's messages are listed, fetched and moved. Rules, delivery, the
 * ledger and error handling are shared ({@link MessageIntake}).
 */
public interface MailboxGateway {
    /** Resolves folders (once); a {@link MailboxFailure} stops the mailbox. */
    void prepare();

    /**
     * Up to {@code max} messages in the Inbox, oldest first, listed lazily: the import of the first ones starts while
     * later pages are still being read, and moving imported messages away must not make the listing skip any.
     */
    Iterator<MessageRef> listNew(int max);

    /**
     * Streams the raw MIME of a message into {@code file} (replacing its content).
     *
     * @return the SHA-256 (hex) of the bytes written
     * @throws PermanentMessageFailure if the message is larger than {@code maxBytes}
     */
    String fetch(MessageRef ref, Path file, long maxBytes);

    void moveToProcessed(MessageRef ref);

    /** Marks the message with the reason where the protocol allows it, then moves it to the Error folder. */
    void moveToError(MessageRef ref, String reason);

    /**
     * How many messages {@link #moveAllToProcessed} and {@link #moveAllToError} move in one go (IMAP: a UID set in one
     * {@code UID MOVE}); 1: every message is moved on its own, right after it was handled.
     */
    default int moveBatchSize() {
        return 1;
    }

    /** Moves these messages to Processed, all or none (as far as the protocol tells). */
    default void moveAllToProcessed(List<MessageRef> refs) {
        refs.forEach(this::moveToProcessed);
    }

    /** Marks and moves these messages to Error (each with its reason). */
    default void moveAllToError(Map<MessageRef, String> reasons) {
        reasons.forEach(this::moveToError);
    }

    /**
     * The status page's Test: signs in, resolves the folders and opens the Inbox without importing or moving
     * anything, on a connection of its own (a running poll is not disturbed).
     *
     * @return one line for people, e.g. {@code Inbox holds 12 messages}
     * @throws RuntimeException with the reason if the mailbox cannot be read
     */
    String check();

    /** The poll and all its messages are done: release what the poll held (an IMAP connection). */
    default void endPoll() {
    }
}

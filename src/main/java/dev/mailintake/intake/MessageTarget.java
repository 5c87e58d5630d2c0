package dev.mailintake.intake;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Where a mailbox's imported messages go. */
public interface MessageTarget {
    /** A new, empty directory to spool a message into, on the same file system as the final place if possible. */
    Path newSpoolDir() throws IOException;

    /**
     * Removes the spool directories an interrupted import left behind (never a delivered message); called at start-up
     * before any import runs. Touches nothing outside the spool and follows no symbolic link.
     */
    SweptLeftovers sweepLeftovers() throws IOException;

    /** The same, sparing entries changed at or after {@code before} (another instance's imports under way). */
    SweptLeftovers sweepLeftovers(java.time.Instant before) throws IOException;

    /**
     * Hands the spooled message over; idempotent for the same message key where the target allows it.
     *
     * @return where it went, for the ledger and the log
     * @throws TargetUnavailableException when the target cannot take it now
     */
    String deliver(SpooledMessage message, Map<String, Object> metadata);

    /**
     * True when a second {@link #deliver} of the same message key is recognised by the target itself and writes
     * nothing (the built-in folder target: the message's folder name derives from its key). Such a target needs no
     * {@code DELIVERING} ledger write before the hand-over: after a crash between the hand-over and the ledger, the
     * next delivery finds the message already there. Endpoint targets and user routes are not: for them the ledger
     * records {@code DELIVERING}, and the next delivery is flagged as a possible duplicate.
     */
    default boolean idempotentByKey() {
        return false;
    }
}

package dev.mailintake.intake;

import java.time.Instant;
import java.util.List;

/**
 * A message found in a mailbox's Inbox, before it is fetched.
 *
 * @param key               the protocol's stable id: the Graph immutable id (or {@code UIDVALIDITY/UID} for IMAP)
 * @param internetMessageId the RFC 5322 Message-ID, or null
 * @param categories        the labels it carries now (Graph categories)
 * @param size              the size of the raw message in bytes as listed (IMAP RFC822.SIZE), or {@link #UNKNOWN_SIZE}
 * @param attachments       what the listing says about attachments (Graph {@code hasAttachments})
 */
public record MessageRef(String mailbox, String key, String internetMessageId, Instant receivedAt, List<String> categories,
                         long size, Attachments attachments) {
    /** {@link #size()} when the listing does not tell. */
    public static final long UNKNOWN_SIZE = -1;

    /** What a listing says about a message's attachments. */
    public enum Attachments {
        /** The listing does not tell (IMAP). */
        UNKNOWN,
        /**
         * No attachment other than inline ones (Graph {@code hasAttachments=false}: "doesn't include inline
         * attachments, so if a message contains only inline attachments, this property is false").
         */
        NONE,
        /** At least one attachment, maybe only inline ones or a signature: proves nothing for the rules. */
        SOME
    }

    /** A short form of the key for log lines. */
    public String shortKey() {
        return key.length() <= 16 ? key : "…" + key.substring(key.length() - 16);
    }
}

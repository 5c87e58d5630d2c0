package dev.mailintake.imap;

import dev.mailintake.config.MailboxConfig;
import dev.mailintake.intake.LimitedCopy;
import dev.mailintake.intake.MailboxGateway;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.MessageRef;
import dev.mailintake.intake.PagedCursor;
import dev.mailintake.intake.PermanentMessageFailure;
import dev.mailintake.intake.TransientFailure;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.angus.mail.iap.ByteArray;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mailbox read over IMAP with XOAUTH2: lists the Inbox oldest first (messages not flagged {@code \Deleted}),
 * streams each message with partial {@code BODY.PEEK} fetches (never setting {@code \Seen}), and moves it with
 * {@code MOVE} (RFC 6851), else {@code COPY} + {@code \Deleted} + {@code UID EXPUNGE} of that message only
 * (RFC 4315). Never expunges a whole folder. Message keys are {@code UIDVALIDITY/UID}; every command after the
 * listing addresses messages by UID, so up to {@code concurrency} connections work on the Inbox at once
 * ({@link ImapSessions}).
 */
public final class ImapMailbox implements MailboxGateway {
    private static final Logger LOG = LoggerFactory.getLogger(ImapMailbox.class);
    /** The keyword set on a message moved to Error, where the server allows keywords. */
    public static final String ERROR_KEYWORD = "$MailIntakeError";

    private final MailboxConfig config;
    private final ImapSessions sessions;
    private final int fetchSize;
    private final int batchSize;
    private final MailboxTokens tokens;
    /** The socket factory of the server's trust store, shared by every connection of this mailbox (or null). */
    private final SSLSocketFactory tls;
    private final BatchedFetches fetches;
    private final AtomicBoolean warnedNoExpunge = new AtomicBoolean();
    private volatile ResolvedFolders folders;

    public ImapMailbox(MailboxConfig config, MailboxTokens tokens) {
        this.config = config;
        this.fetchSize = config.imap().orElseThrow().fetchSize();
        this.batchSize = config.imap().orElseThrow().batchSize();
        this.fetches = new BatchedFetches(batchSize, fetchSize);
        this.tokens = tokens;
        this.tls = ImapSession.tls(config.imap().orElseThrow());
        this.sessions = new ImapSessions(config.name(), config.imap().orElseThrow(), tokens, config.concurrency(), tls);
    }

    @Override
    public void prepare() {
        if (folders == null) {
            folders = resolveFolders(sessions.primary());
            LOG.info("mailbox '{}' ({} on {}): IMAP folders resolved: inbox={}, processed={}, error={}", config.name(),
                    config.address(), config.imap().orElseThrow().host(), folders.inbox(), folders.processed(),
                    folders.error());
        }
        sessions.primary().inbox(folders.inbox());
    }

    private ResolvedFolders resolveFolders(ImapSession session) {
        String prefix = "mailintake.mailboxes." + config.name() + ".folders.";
        ImapFolders resolver = new ImapFolders(session.store(), config.name());
        return new ResolvedFolders(resolver.resolve(config.folders().inbox(), prefix + "inbox", false),
                resolver.resolve(config.folders().processed(), prefix + "processed", config.createFolders()),
                resolver.resolve(config.folders().error(), prefix + "error", config.createFolders()));
    }

    @Override
    public String check() {
        ImapSession session = new ImapSession(config.name(), config.imap().orElseThrow(), tokens, tls);
        try {
            int count = session.inbox(resolveFolders(session).inbox()).getMessageCount();
            return "Inbox holds " + count + " messages; folders resolved; signed in with XOAUTH2 as "
                    + config.imap().orElseThrow().user() + (session.hasCapability("MOVE") ? "; server offers MOVE"
                    : session.hasCapability("UIDPLUS") ? "; no MOVE, moves by COPY + UID EXPUNGE"
                    : "; neither MOVE nor UIDPLUS: moved messages stay flagged \\Deleted in the Inbox");
        } catch (MessagingException e) {
            throw session.failure("cannot count the Inbox", e);
        } finally {
            session.close();
        }
    }

    @Override
    public Iterator<MessageRef> listNew(int max) {
        ImapSession session = sessions.primary();
        IMAPFolder inbox = session.inbox(folders.inbox());
        try {
            long uidValidity = inbox.getUIDValidity();
            long[] uids = UidCommands.searchUndeleted(inbox);
            fetches.reset();
            return new InboxCursor(inbox, uidValidity, Arrays.copyOf(uids, Math.min(uids.length, max)));
        } catch (MessagingException e) {
            throw session.failure("cannot list the Inbox", e);
        }
    }

    /** Reads envelopes (Message-ID, INTERNALDATE) a page of UIDs at a time while earlier messages are imported. */
    private final class InboxCursor extends PagedCursor {
        private final IMAPFolder inbox;
        private final long uidValidity;
        private final long[] uids;
        private int next;

        InboxCursor(IMAPFolder inbox, long uidValidity, long[] uids) {
            this.inbox = inbox;
            this.uidValidity = uidValidity;
            this.uids = uids;
        }

        @Override
        protected boolean exhausted() {
            return next >= uids.length;
        }

        @Override
        protected void fetchPage() {
            long[] page = Arrays.copyOfRange(uids, next, Math.min(uids.length, next + config.pageSize()));
            next += page.length;
            try {
                UidCommands.envelopes(inbox, page).stream()
                        .sorted((a, b) -> Long.compare(a.uid(), b.uid()))
                        .forEach(e -> {
                            MessageRef ref = new MessageRef(config.name(), uidValidity + "/" + e.uid(),
                                    e.messageId(), e.received(), List.of(),
                                    e.size() >= 0 ? e.size() : MessageRef.UNKNOWN_SIZE, MessageRef.Attachments.UNKNOWN);
                            fetches.listed(ref);
                            add(ref);
                        });
            } catch (MessagingException e) {
                throw new TransientFailure("mailbox '" + config.name() + "': cannot read the Inbox's envelopes: "
                        + e.getMessage());
            }
        }
    }

    /**
     * Streams the message into {@code file}. Small messages come in batches: the first message of a batch asks for
     * itself and the messages listed after it in one {@code UID FETCH} (up to {@code imap.batch-size} messages and
     * {@code imap.fetch-size} bytes by their listed sizes); the messages' own exchanges then find their bytes waiting.
     * A message larger than that is streamed in partial fetches of {@code imap.fetch-size} bytes, as is the rest of a
     * message whose listed size was too small.
     */
    @Override
    public String fetch(MessageRef ref, Path file, long maxBytes) {
        if (ref.size() > maxBytes) {
            throw new PermanentMessageFailure("too large", "the message has " + ref.size() + " bytes, more than the mailbox's"
                    + " rules.max-size of " + maxBytes + " bytes");
        }
        long uid = uid(ref);
        BatchedFetches.Claim claim = fetches.claim(ref, maxBytes);
        ByteArray first = null;
        if (claim.batch() != null) {
            first = fetchBatch(ref, claim.batch()).get(uid);
        } else if (claim.waiting() != null) {
            first = claim.waiting().join().get(uid);
        }
        if (first != null && first.getCount() < fetchSize) {
            try {
                return LimitedCopy.toFile(new ByteArrayInputStream(first.getBytes(), first.getStart(), first.getCount()),
                        file, maxBytes);
            } catch (IOException e) {
                throw new TransientFailure("mailbox '" + config.name() + "': writing message " + ref.shortKey()
                        + " to the spool failed: " + e.getMessage());
            }
        }
        ByteArray head = first;
        return sessions.with(session -> {
            IMAPFolder inbox = inbox(session, ref);
            try {
                InputStream in = head != null ? UidCommands.continueMessage(inbox, uid, fetchSize, head)
                        : UidCommands.openMessage(inbox, uid, fetchSize);
                if (in == null) {
                    throw new TransientFailure("mailbox '" + config.name() + "': message " + ref.shortKey()
                            + " is no longer in the Inbox");
                }
                return LimitedCopy.toFile(in, file, maxBytes);
            } catch (MessagingException | IOException e) {
                throw new TransientFailure("mailbox '" + config.name() + "': reading message " + ref.shortKey()
                        + " failed: " + e.getMessage());
            }
        });
    }

    /**
     * Fetches the first chunk of the batch's messages in one command and hands each waiting exchange its bytes (a
     * failure reaches them all: each one fetches on its own then).
     */
    private Map<Long, ByteArray> fetchBatch(MessageRef ref, BatchedFetches.Batch batch) {
        try {
            Map<Long, ByteArray> chunks = sessions.with(session -> {
                IMAPFolder inbox = inbox(session, ref);
                try {
                    return UidCommands.fetchFirstChunks(inbox, batch.uids(), fetchSize);
                } catch (MessagingException e) {
                    throw new TransientFailure("mailbox '" + config.name() + "': reading messages "
                            + UidCommands.uidSet(batch.uids()) + " failed: " + e.getMessage());
                }
            });
            batch.result().complete(chunks);
            return chunks;
        } finally {
            batch.result().complete(Map.of()); // failed (whatever the reason): the others fetch on their own
        }
    }

    @Override
    public void moveToProcessed(MessageRef ref) {
        moveAllToProcessed(List.of(ref));
    }

    @Override
    public void moveToError(MessageRef ref, String reason) {
        moveAllToError(Map.of(ref, reason));
    }

    @Override
    public int moveBatchSize() {
        return batchSize;
    }

    /** {@code UID MOVE} of exactly these messages (or {@code UID COPY} + {@code UID STORE \Deleted} + {@code UID EXPUNGE}). */
    @Override
    public void moveAllToProcessed(List<MessageRef> refs) {
        move(refs, folders.processed(), null);
    }

    /** As {@link #moveAllToProcessed}, to Error, marked with {@value #ERROR_KEYWORD} where the server allows keywords. */
    @Override
    public void moveAllToError(Map<MessageRef, String> reasons) {
        move(List.copyOf(reasons.keySet()), folders.error(), ERROR_KEYWORD);
    }

    @Override
    public void endPoll() {
        fetches.reset();
        sessions.closeAll();
    }

    private void move(List<MessageRef> refs, String destination, String keyword) {
        if (refs.isEmpty()) {
            return;
        }
        refs.forEach(fetches::forget);
        MessageRef first = refs.get(0);
        long[] uids = refs.stream().mapToLong(ImapMailbox::uid).toArray();
        sessions.with(session -> {
            IMAPFolder inbox = inbox(session, refs);
            try {
                if (keyword != null && inbox.getPermanentFlags().contains(Flags.Flag.USER)) {
                    UidCommands.addFlags(inbox, uids, keyword);
                }
                if (session.hasCapability("MOVE")) {
                    UidCommands.move(inbox, uids, destination);
                    return null;
                }
                UidCommands.copy(inbox, uids, destination);
                UidCommands.addFlags(inbox, uids, "\\Deleted");
                if (session.hasCapability("UIDPLUS")) {
                    UidCommands.expunge(inbox, uids); // these messages only
                } else if (warnedNoExpunge.compareAndSet(false, true)) {
                    LOG.warn("mailbox '{}': the IMAP server offers neither MOVE nor UIDPLUS; moved messages are copied"
                            + " and flagged \\Deleted in the Inbox but not expunged (a folder-wide EXPUNGE could remove"
                            + " messages someone else flagged); they are skipped by later polls", config.name());
                }
                return null;
            } catch (MessagingException e) {
                throw new TransientFailure("mailbox '" + config.name() + "': moving " + (refs.size() == 1
                        ? "message " + first.shortKey() : refs.size() + " messages (UIDs " + UidCommands.uidSet(uids)
                        + ")") + " to " + destination + " failed: " + e.getMessage());
            }
        });
    }

    /** The session's open Inbox, if it still has the UIDVALIDITY all these messages were listed under. */
    private IMAPFolder inbox(ImapSession session, List<MessageRef> refs) {
        IMAPFolder inbox = null;
        for (MessageRef ref : refs) {
            inbox = inbox(session, ref);
        }
        return inbox;
    }

    /** The session's open Inbox, if it still has the UIDVALIDITY the message was listed under. */
    private IMAPFolder inbox(ImapSession session, MessageRef ref) {
        IMAPFolder inbox = session.inbox(folders.inbox());
        long uidValidity = Long.parseLong(ref.key().substring(0, ref.key().indexOf('/')));
        try {
            if (inbox.getUIDValidity() != uidValidity) {
                throw new TransientFailure("mailbox '" + config.name() + "': the Inbox's UIDVALIDITY changed; message "
                        + ref.shortKey() + " is listed again under its new UID at the next poll");
            }
        } catch (MessagingException e) {
            throw session.failure("cannot read the Inbox's UIDVALIDITY", e);
        }
        return inbox;
    }

    static long uid(MessageRef ref) {
        return Long.parseLong(ref.key().substring(ref.key().indexOf('/') + 1));
    }

    private record ResolvedFolders(String inbox, String processed, String error) {
    }
}

package dev.mailintake.imap;

import dev.mailintake.config.MailboxConfig;
import dev.mailintake.intake.LimitedCopy;
import dev.mailintake.intake.MailboxGateway;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.MessageRef;
import dev.mailintake.intake.PagedCursor;
import dev.mailintake.intake.PermanentMessageFailure;
import dev.mailintake.intake.TransientFailure;
import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.UIDFolder;
import jakarta.mail.search.FlagTerm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mailbox read over IMAP with XOAUTH2: lists the Inbox oldest first (messages not flagged {@code \Deleted}),
 * streams each message with partial FETCHes and never sets {@code \Seen}, and moves it with {@code MOVE} (RFC 6851),
 * else {@code COPY} + {@code \Deleted} + {@code UID EXPUNGE} of that message only (RFC 4315). Never expunges a whole
 * folder. Message keys are {@code UIDVALIDITY/UID}.
 */
public final class ImapMailbox implements MailboxGateway {
    private static final Logger LOG = LoggerFactory.getLogger(ImapMailbox.class);
    /** The keyword set on a message moved to Error, where the server allows keywords. */
    public static final String ERROR_KEYWORD = "$MailIntakeError";

    private final MailboxConfig config;
    private final ImapSession session;
    private final AtomicBoolean warnedNoExpunge = new AtomicBoolean();
    private volatile ResolvedFolders folders;

    public ImapMailbox(MailboxConfig config, MailboxTokens tokens) {
        this.config = config;
        this.session = new ImapSession(config.name(), config.imap().orElseThrow(), tokens);
    }

    @Override
    public void prepare() {
        if (folders == null) {
            String prefix = "mailintake.mailboxes." + config.name() + ".folders.";
            ImapFolders resolver = new ImapFolders(session.store(), config.name());
            String inbox = resolver.resolve(config.folders().inbox(), prefix + "inbox", false);
            String processed = resolver.resolve(config.folders().processed(), prefix + "processed", config.createFolders());
            String error = resolver.resolve(config.folders().error(), prefix + "error", config.createFolders());
            folders = new ResolvedFolders(inbox, processed, error);
            LOG.info("mailbox '{}' ({} on {}): IMAP folders resolved: inbox={}, processed={}, error={}", config.name(),
                    config.address(), config.imap().orElseThrow().host(), inbox, processed, error);
        }
        session.inbox(folders.inbox());
    }

    @Override
    public Iterator<MessageRef> listNew(int max) {
        IMAPFolder inbox = session.inbox(folders.inbox());
        try {
            long uidValidity = inbox.getUIDValidity();
            Message[] found = inbox.search(new FlagTerm(new Flags(Flags.Flag.DELETED), false));
            Message[] listed = Arrays.copyOf(found, Math.min(found.length, max));
            return new InboxCursor(inbox, uidValidity, listed);
        } catch (MessagingException e) {
            throw session.failure("cannot list the Inbox", e);
        }
    }

    /** Reads envelopes (UID, Message-ID, INTERNALDATE, size) a page at a time while earlier messages are imported. */
    private final class InboxCursor extends PagedCursor {
        private final IMAPFolder inbox;
        private final long uidValidity;
        private final Message[] messages;
        private int next;

        InboxCursor(IMAPFolder inbox, long uidValidity, Message[] messages) {
            this.inbox = inbox;
            this.uidValidity = uidValidity;
            this.messages = messages;
        }

        @Override
        protected boolean exhausted() {
            return next >= messages.length;
        }

        @Override
        protected void fetchPage() {
            Message[] page = Arrays.copyOfRange(messages, next, Math.min(messages.length, next + config.pageSize()));
            next += page.length;
            List<Message> present = Arrays.stream(page).filter(m -> !m.isExpunged()).toList();
            FetchProfile profile = new FetchProfile();
            profile.add(UIDFolder.FetchProfileItem.UID);
            profile.add(FetchProfile.Item.ENVELOPE);
            try {
                inbox.fetch(present.toArray(Message[]::new), profile);
                for (Message m : present) {
                    if (m.isExpunged()) {
                        continue;
                    }
                    IMAPMessage im = (IMAPMessage) m;
                    Instant received = im.getReceivedDate() == null ? Instant.EPOCH : im.getReceivedDate().toInstant();
                    add(new MessageRef(config.name(), uidValidity + "/" + inbox.getUID(m),
                            im.getMessageID(), received, List.of()));
                }
            } catch (MessagingException e) {
                throw new TransientFailure("mailbox '" + config.name() + "': cannot read the Inbox's envelopes: "
                        + e.getMessage());
            }
        }
    }

    @Override
    public String fetch(MessageRef ref, Path file, long maxBytes) {
        IMAPMessage m = find(ref).orElseThrow(() -> new TransientFailure("mailbox '" + config.name() + "': message "
                + ref.shortKey() + " is no longer in the Inbox"));
        try {
            if (m.getSize() > maxBytes) {
                throw new PermanentMessageFailure("too large", "the message has " + m.getSize()
                        + " bytes, more than the mailbox's rules.max-size of " + maxBytes + " bytes");
            }
            return LimitedCopy.toFile(m.getMimeStream(), file, maxBytes);
        } catch (MessagingException | IOException e) {
            throw new TransientFailure("mailbox '" + config.name() + "': reading message " + ref.shortKey()
                    + " failed: " + e.getMessage());
        }
    }

    @Override
    public void moveToProcessed(MessageRef ref) {
        move(ref, folders.processed(), null);
    }

    @Override
    public void moveToError(MessageRef ref, String reason) {
        move(ref, folders.error(), ERROR_KEYWORD);
    }

    @Override
    public void endPoll() {
        session.close();
    }

    private void move(MessageRef ref, String destination, String keyword) {
        IMAPMessage m = find(ref).orElse(null);
        if (m == null) {
            LOG.warn("mailbox '{}': message {} is no longer in the Inbox; nothing to move to {}", config.name(),
                    ref.shortKey(), destination);
            return;
        }
        IMAPFolder inbox = session.inbox(folders.inbox());
        Message[] one = {m};
        try {
            if (keyword != null && inbox.getPermanentFlags().contains(Flags.Flag.USER)) {
                inbox.setFlags(one, new Flags(keyword), true);
            }
            Folder target = inbox.getStore().getFolder(destination);
            if (session.hasCapability("MOVE")) {
                inbox.moveMessages(one, target);
                return;
            }
            inbox.copyMessages(one, target);
            inbox.setFlags(one, new Flags(Flags.Flag.DELETED), true);
            if (session.hasCapability("UIDPLUS")) {
                inbox.expunge(one); // UID EXPUNGE <uid>: this message only
            } else if (warnedNoExpunge.compareAndSet(false, true)) {
                LOG.warn("mailbox '{}': the IMAP server offers neither MOVE nor UIDPLUS; moved messages are copied and"
                        + " flagged \\Deleted in the Inbox but not expunged (a folder-wide EXPUNGE could remove"
                        + " messages someone else flagged); they are skipped by later polls", config.name());
            }
        } catch (MessagingException e) {
            throw new TransientFailure("mailbox '" + config.name() + "': moving message " + ref.shortKey() + " to "
                    + destination + " failed: " + e.getMessage());
        }
    }

    /** The message of {@code ref} in the open Inbox, if it is still there under the same UIDVALIDITY. */
    private java.util.Optional<IMAPMessage> find(MessageRef ref) {
        IMAPFolder inbox = session.inbox(folders.inbox());
        int slash = ref.key().indexOf('/');
        try {
            long uidValidity = Long.parseLong(ref.key().substring(0, slash));
            long uid = Long.parseLong(ref.key().substring(slash + 1));
            if (inbox.getUIDValidity() != uidValidity) {
                throw new TransientFailure("mailbox '" + config.name() + "': the Inbox's UIDVALIDITY changed; message "
                        + ref.shortKey() + " is listed again under its new UID at the next poll");
            }
            Message m = inbox.getMessageByUID(uid);
            return m == null || m.isExpunged() ? java.util.Optional.empty() : java.util.Optional.of((IMAPMessage) m);
        } catch (MessagingException e) {
            throw new TransientFailure("mailbox '" + config.name() + "': " + e.getMessage());
        }
    }

    private record ResolvedFolders(String inbox, String processed, String error) {
    }
}

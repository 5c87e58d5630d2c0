package dev.mailintake.imap;

import dev.mailintake.config.ImapServer;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.TransientFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.function.Function;
import javax.net.ssl.SSLSocketFactory;

/**
 * A mailbox's IMAP connections during a poll, up to {@code concurrency}: IMAP answers one command at a time per
 * connection, so messages are fetched and moved over several at once (by UID only, see {@link UidCommands}). A
 * connection is opened only when needed (the most recently used one is handed out first); all are closed at the end
 * of the poll.
 */
final class ImapSessions {
    private final List<ImapSession> all = new ArrayList<>();
    private final LinkedBlockingDeque<ImapSession> idle = new LinkedBlockingDeque<>();

    ImapSessions(String mailbox, ImapServer server, MailboxTokens tokens, int size, SSLSocketFactory tls) {
        for (int i = 0; i < size; i++) {
            ImapSession session = new ImapSession(mailbox, server, tokens, tls);
            all.add(session);
            idle.addLast(session);
        }
    }

    /** The connection that resolves folders and lists the Inbox. */
    ImapSession primary() {
        return all.get(0);
    }

    /** Runs {@code work} on a connection no other message is using. */
    <T> T with(Function<ImapSession, T> work) {
        ImapSession session;
        try {
            session = idle.takeFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted while waiting for an IMAP connection");
        }
        try {
            return work.apply(session);
        } finally {
            idle.addFirst(session);
        }
    }

    void closeAll() {
        all.forEach(ImapSession::close);
    }
}

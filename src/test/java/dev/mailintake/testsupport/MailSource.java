package dev.mailintake.testsupport;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A mailbox the application imports from, whatever the protocol: the Graph fake or GreenMail over IMAP. The protocol
 * contract tests run against both through this.
 */
public interface MailSource extends AutoCloseable {
    /** "graph" or "imap". */
    String protocol();

    /** Settings for mailbox {@code invoices} on this source, delivering into {@code target}. */
    Map<String, String> settings(Path dataDir, Path target);

    void add(byte[] mime, Instant received);

    int inInbox();

    int inProcessed();

    int inError();

    /** How each message in Error is marked for people looking at the mailbox (categories, a keyword). */
    List<String> errorMarks();

    /** Someone moves every message in Error back to the Inbox (after fixing the cause). */
    void moveErrorsBackToInbox();

    /** Moves to Processed fail from now on (the crash window between delivery and move). */
    void failMoves();

    void allowMoves();

    @Override
    void close();

    /** Graph, through the stateful fake. */
    static MailSource graph() {
        GraphFake fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        return new MailSource() {
            @Override
            public String protocol() {
                return "graph";
            }

            @Override
            public Map<String, String> settings(Path dataDir, Path target) {
                return TestApp.invoicesMailbox(dataDir, fake, target);
            }

            @Override
            public void add(byte[] mime, Instant received) {
                box.addMessage("inbox", mime, received);
            }

            @Override
            public int inInbox() {
                return box.messagesIn("inbox").size();
            }

            @Override
            public int inProcessed() {
                return box.messagesIn("Inbox/Processed").size();
            }

            @Override
            public int inError() {
                return box.messagesIn("Inbox/Error").size();
            }

            @Override
            public List<String> errorMarks() {
                return box.messagesIn("Inbox/Error").stream().map(m -> String.join(",", m.categories())).toList();
            }

            @Override
            public void moveErrorsBackToInbox() {
                box.messagesIn("Inbox/Error").forEach(m -> box.moveMessage(m.immutableId(), "inbox"));
            }

            @Override
            public void failMoves() {
                fake.fault(Fault.serviceUnavailable().withoutRetryAfter().on("POST", ".*/move").always());
            }

            @Override
            public void allowMoves() {
                fake.clearFaults();
            }

            @Override
            public void close() {
                fake.close();
            }

            @Override
            public String toString() {
                return "graph";
            }
        };
    }

    /** IMAP with XOAUTH2, GreenMail with tokens from the fake's token endpoint. */
    static MailSource imap() {
        GraphFake fake = TestApp.startFake();
        GreenMailImap imap = TestApp.startImap(fake);
        String address = TestApp.ADDRESS;
        return new MailSource() {
            @Override
            public String protocol() {
                return "imap";
            }

            @Override
            public Map<String, String> settings(Path dataDir, Path target) {
                return TestApp.imapMailbox(dataDir, fake, imap, target);
            }

            @Override
            public void add(byte[] mime, Instant received) {
                imap.append(address, "INBOX", mime, received);
            }

            @Override
            public int inInbox() {
                return imap.messages(address, "INBOX").size();
            }

            @Override
            public int inProcessed() {
                return imap.messages(address, "INBOX/Processed").size();
            }

            @Override
            public int inError() {
                return imap.messages(address, "INBOX/Error").size();
            }

            @Override
            public List<String> errorMarks() {
                return imap.messages(address, "INBOX/Error").stream()
                        .map(m -> String.join(",", m.getFlags().getUserFlags())).toList();
            }

            @Override
            public void moveErrorsBackToInbox() {
                imap.moveAll(address, "INBOX/Error", "INBOX");
            }

            @Override
            public void failMoves() {
                imap.deleteFolder(address, "INBOX/Processed");
            }

            @Override
            public void allowMoves() {
                imap.createFolder(address, "INBOX/Processed");
            }

            @Override
            public void close() {
                imap.close();
                fake.close();
            }

            @Override
            public String toString() {
                return "imap";
            }
        };
    }
}

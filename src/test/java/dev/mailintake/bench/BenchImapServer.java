package dev.mailintake.bench;

import dev.mailintake.testsupport.GraphFake;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The IMAP server an IMAP benchmark imports from, out of the benchmark's JVM: GreenMail in a JVM of its own
 * ({@link ImapServerHandle}, the default) or Dovecot ({@link DovecotServer}, {@code -Dbench.imap.server=dovecot}).
 * Both open the mailbox with the app-only IMAP tokens the Graph fake issues, as Exchange Online does.
 */
interface BenchImapServer extends AutoCloseable {

    /** The server {@code -Dbench.imap.server} names: {@code greenmail} (default) or {@code dovecot}. */
    static BenchImapServer start() {
        String kind = System.getProperty("bench.imap.server", "greenmail");
        return switch (kind) {
            case "greenmail" -> ImapServerHandle.start();
            case "dovecot" -> DovecotServer.start();
            default -> throw new IllegalArgumentException("bench.imap.server: greenmail or dovecot, not " + kind);
        };
    }

    /** Creates {@code address} with INBOX, INBOX/Processed and INBOX/Error, opened by {@code fake}'s IMAP tokens. */
    BenchImapServer mailboxOpenedByTokensFrom(GraphFake fake, String address);

    /** The port the application connects to. */
    int port();

    /** For the figures: what server, how it runs. */
    String describe();

    /** When the first IMAP token was issued: the application's first poll is about to connect. */
    Instant firstImapToken();

    /** Adds a message to {@code folder} (INBOX) with that received date, as a delivery would. */
    void append(String address, String folder, Path eml, Instant received);

    int count(String address, String folder);

    /** When each message arrived in {@code folder} (INBOX/Processed or INBOX/Error). */
    List<Instant> arrivals(String address, String folder);

    /** CPU time the server's processes have used so far. */
    long cpuNanos();

    /** Settings of the mailbox {@code invoices} on this server (as {@code TestApp.imapMailbox} gives them). */
    Map<String, String> imapMailbox(Path dataDir, GraphFake fake, Path target);

    @Override
    void close();
}

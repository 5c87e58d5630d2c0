package dev.mailintake.bench;

import com.icegreen.greenmail.Managers;
import com.icegreen.greenmail.imap.ImapHandler;
import com.icegreen.greenmail.server.AbstractServer;
import com.icegreen.greenmail.server.ProtocolHandler;
import com.icegreen.greenmail.store.FolderListener;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.mailintake.testsupport.GreenMailImap;
import jakarta.mail.Flags;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedFileInputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The benchmarks' IMAP server, in a JVM of its own (started by {@link ImapServerHandle}): GreenMail, plain IMAP on
 * 127.0.0.1 on a free port. GreenMail keeps every message in memory (a byte array per message), so it must not share
 * the heap of the application being measured. With the argument {@code tcp-nodelay} its sockets get TCP_NODELAY,
 * which GreenMail never sets (its ImapServer is final, so a small server class of its own is plugged in instead):
 * without it, a response written in several flushes waits for the client's delayed ACK (~40 ms on Linux).
 *
 * <p>Prints {@code READY <port>}, then answers one line per command read from stdin ({@code OK ...} or
 * {@code ERR <reason>}); exits at {@code QUIT} or when stdin closes (the parent died). Folder paths use '/'.
 * <pre>
 * USER &lt;address&gt;                         mailbox with INBOX, INBOX/Processed, INBOX/Error
 * PASSWORD &lt;address&gt; &lt;token&gt;              the token XOAUTH2 must present from now on
 * APPEND &lt;address&gt; &lt;folder&gt; &lt;epochMillis&gt; &lt;path&gt;   message from a file, INTERNALDATE epochMillis
 * COUNT &lt;address&gt; &lt;folder&gt;               -> OK &lt;messages&gt;
 * ARRIVALS &lt;address&gt; &lt;folder&gt;            -> OK &lt;epoch micros of each arrival in Processed/Error&gt; ...
 * DIGEST &lt;address&gt; &lt;folder&gt; &lt;index&gt;       -> OK &lt;size&gt; &lt;sha-256&gt; of the message as GreenMail serves it
 * CPU                                    -> OK &lt;process CPU nanos&gt;
 * QUIT
 * </pre>
 * Nothing the parent sends (tokens) is ever printed or logged.
 */
public final class ImapServerProcess {
    private static final List<String> WATCHED = List.of("INBOX/Processed", "INBOX/Error");

    private final GreenMailImap imap;
    private final Session parser = Session.getInstance(new Properties());
    /** Arrival instants per "address folder", for the folders in {@link #WATCHED}. */
    private final Map<String, List<Instant>> arrivals = new ConcurrentHashMap<>();

    private ImapServerProcess(GreenMail greenMail) {
        this.imap = GreenMailImap.of(greenMail);
    }

    public static void main(String[] args) throws Exception {
        // stdout is the command channel: anything else that prints (logging, libraries) goes to stderr
        PrintStream channel = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        ServerSetup setup = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP).dynamicPort();
        BenchGreenMail gm = new BenchGreenMail(setup, List.of(args).contains("tcp-nodelay"));
        gm.start();
        ImapServerProcess server = new ImapServerProcess(gm);
        channel.println("READY " + gm.imapPort());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && !line.equals("QUIT")) {
                String answer;
                try {
                    answer = "OK" + server.execute(line.split(" ", 5));
                } catch (Exception e) {
                    // the command is not echoed: a PASSWORD line holds a token
                    answer = "ERR " + e.getClass().getSimpleName() + ": " + e.getMessage();
                }
                channel.println(answer.replace('\n', ' '));
            }
        } finally {
            gm.stop();
        }
    }

    private String execute(String[] c) throws Exception {
        switch (c[0]) {
            case "USER" -> {
                imap.mailbox(c[1]);
                for (String path : WATCHED) {
                    List<Instant> list = new CopyOnWriteArrayList<>();
                    arrivals.put(lower(c[1]) + " " + path, list);
                    imap.folder(c[1], path).addListener(new Arrivals(list));
                }
                return "";
            }
            case "PASSWORD" -> {
                imap.user(c[1]).setPassword(c[2]);
                return "";
            }
            case "APPEND" -> {
                // GreenMail copies the message into a byte array when it stores it (StoredMessage copies the
                // MimeMessage), so the file is read once and can be closed right after
                try (SharedFileInputStream file = new SharedFileInputStream(c[4])) {
                    MimeMessage m = new MimeMessage(parser, file);
                    imap.folder(c[1], c[2]).appendMessage(m, new Flags(), new Date(Long.parseLong(c[3])));
                }
                return "";
            }
            case "COUNT" -> {
                return " " + imap.folder(c[1], c[2]).getMessageCount();
            }
            case "ARRIVALS" -> {
                StringBuilder b = new StringBuilder();
                for (Instant t : arrivals.getOrDefault(lower(c[1]) + " " + c[2], List.of())) {
                    b.append(' ').append(t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000);
                }
                return b.toString();
            }
            case "DIGEST" -> {
                StoredMessage m = imap.folder(c[1], c[2]).getMessages().get(Integer.parseInt(c[3]));
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                Counting count = new Counting();
                try (OutputStream out = new DigestOutputStream(count, sha)) {
                    m.getMimeMessage().writeTo(out); // what FETCH BODY[] serves (GreenMail's FetchCommand)
                }
                return " " + count.bytes + " " + HexFormat.of().formatHex(sha.digest());
            }
            case "CPU" -> {
                return " " + (ManagementFactory.getOperatingSystemMXBean()
                        instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1);
            }
            default -> throw new IllegalArgumentException("unknown command " + c[0]);
        }
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** Records when each message arrives in a folder (APPEND, COPY or MOVE). */
    private record Arrivals(List<Instant> times) implements FolderListener {
        @Override
        public void added(int msn) {
            times.add(Instant.now());
        }

        @Override
        public void expunged(int msn) {
        }

        @Override
        public void flagsUpdated(int msn, Flags flags, Long uid) {
        }

        @Override
        public void mailboxDeleted() {
        }
    }

    /** GreenMail with plain IMAP only; with {@code noDelay}, on sockets with TCP_NODELAY. */
    private static final class BenchGreenMail extends GreenMail {
        private final boolean noDelay;

        BenchGreenMail(ServerSetup setup, boolean noDelay) {
            super(setup);
            this.noDelay = noDelay;
        }

        /** Called by the constructor (noDelay still false; those services are never started) and by start(). */
        @Override
        protected Map<String, AbstractServer> createServices(ServerSetup[] config, Managers mgr) {
            return noDelay ? Map.of(ServerSetup.PROTOCOL_IMAP, new NoDelayImapServer(config[0], mgr))
                    : super.createServices(config, mgr);
        }

        int imapPort() {
            return services.get(ServerSetup.PROTOCOL_IMAP).getPort();
        }
    }

    /** What GreenMail's (final) ImapServer does, plus TCP_NODELAY on every accepted socket. */
    private static final class NoDelayImapServer extends AbstractServer {
        NoDelayImapServer(ServerSetup setup, Managers managers) {
            super(setup, managers);
        }

        @Override
        protected ProtocolHandler createProtocolHandler(Socket socket) {
            try {
                socket.setTcpNoDelay(true);
            } catch (SocketException e) {
                throw new UncheckedIOException(e);
            }
            return new ImapHandler(managers.getUserManager(), managers.getImapHostManager(), socket);
        }
    }

    private static final class Counting extends OutputStream {
        private long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }
}

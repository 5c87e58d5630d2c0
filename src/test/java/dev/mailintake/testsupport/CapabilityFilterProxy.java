package dev.mailintake.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A TCP proxy in front of an IMAP server that hides capabilities (e.g. {@code AUTH=XOAUTH2} or {@code MOVE}) from
 * every CAPABILITY list the server sends, so tests can play a server without them, and records the commands the
 * client sends (tag and command name only, never arguments, so no token is kept).
 */
public final class CapabilityFilterProxy implements AutoCloseable {
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\+?}\\r?\\n$");

    private final ServerSocket server;
    private final int targetPort;
    private final Set<String> hidden;
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<String> uidCommandLines = new CopyOnWriteArrayList<>();
    private volatile String hold;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile String selectAnswer;
    private volatile long delayNanos;
    private volatile String dropOn;
    private volatile Set<Integer> dropOccurrences = Set.of();
    private final java.util.concurrent.atomic.AtomicInteger dropSeen = new java.util.concurrent.atomic.AtomicInteger();

    private CapabilityFilterProxy(int targetPort, Set<String> hidden) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.hidden = hidden.stream().map(h -> h.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
        Thread acceptor = new Thread(this::accept, "imap-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static CapabilityFilterProxy hiding(int targetPort, String... capabilities) {
        try {
            return new CapabilityFilterProxy(targetPort, Set.of(capabilities));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Answers every SELECT itself with {@code answer} (e.g. Exchange's {@code BAD User is authenticated but not connected.}). */
    public CapabilityFilterProxy answerSelectWith(String answer) {
        this.selectAnswer = answer;
        return this;
    }

    /**
     * Drops the connection right after forwarding the {@code occurrences}-th (counting from 1, over all connections)
     * client command {@code command} (e.g. {@code UID MOVE}): the server executes it, its answer is lost.
     */
    public CapabilityFilterProxy dropConnectionAfter(String command, Integer... occurrences) {
        this.dropOccurrences = Set.of(occurrences);
        this.dropOn = command;
        return this;
    }

    /**
     * Swallows every client command {@code command} (e.g. {@code UID MOVE}) from now on: the server never sees it and the
     * client waits for an answer that does not come (until its timeout, or until it is killed). {@code null}: forward
     * them again.
     */
    public CapabilityFilterProxy holdCommand(String command) {
        this.hold = command;
        return this;
    }

    /** The UID commands sent by clients so far, whole, without their tag (e.g. {@code UID MOVE 3:5 INBOX.Processed}). */
    public List<String> uidCommandLines() {
        return List.copyOf(uidCommandLines);
    }

    /** Holds every client command this long before forwarding it: a network round trip of that latency. */
    public CapabilityFilterProxy delayCommands(java.time.Duration latency) {
        this.delayNanos = latency.toNanos();
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Commands sent by clients so far, as "tag COMMAND" (e.g. {@code A1 AUTHENTICATE}, {@code A7 UID EXPUNGE}). */
    public List<String> commands() {
        return List.copyOf(commands);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                // no Nagle: a small write after an unacknowledged one would wait for the peer's delayed ACK
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                Link link = new Link(client, upstream);
                start(() -> pump(client.getInputStream(), upstream.getOutputStream(), false, client.getOutputStream(), link));
                start(() -> pump(upstream.getInputStream(), client.getOutputStream(), true, null, link));
            } catch (IOException e) {
                return;
            }
        }
    }

    private interface Pump {
        void run() throws IOException;
    }

    private void start(Pump pump) {
        Thread t = new Thread(() -> {
            try {
                pump.run();
            } catch (IOException ignored) {
                // a side closed
            }
        }, "imap-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** {@code back}: the client's stream, for answering a command here instead of forwarding it. */
    /** One client connection and its upstream; {@code cut} once the connection is being dropped. */
    private record Link(Socket client, Socket upstream, java.util.concurrent.atomic.AtomicBoolean cut) {
        Link(Socket client, Socket upstream) {
            this(client, upstream, new java.util.concurrent.atomic.AtomicBoolean());
        }

        void drop() {
            cut.set(true);
            Thread t = new Thread(() -> {
                java.util.concurrent.locks.LockSupport.parkNanos(300_000_000L); // the server has executed it
                try {
                    client.close();
                    upstream.close();
                } catch (IOException ignored) {
                    // closing
                }
            }, "imap-proxy-drop");
            t.setDaemon(true);
            t.start();
        }
    }

    private void pump(InputStream raw, OutputStream out, boolean fromServer, OutputStream back, Link link)
            throws IOException {
        InputStream in = new java.io.BufferedInputStream(raw, 64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (fromServer && link.cut().get()) {
                continue; // the answer is lost with the connection
            }
            line.write(b);
            if (b != '\n') {
                continue;
            }
            String text = line.toString(StandardCharsets.ISO_8859_1);
            line.reset();
            if (fromServer && text.toUpperCase(Locale.ROOT).contains("CAPABILITY")) {
                text = Arrays.stream(text.split(" ", -1))
                        .filter(word -> !hidden.contains(word.toUpperCase(Locale.ROOT).replaceAll("[\\]\\r\\n]", "")))
                        .collect(Collectors.joining(" "));
                if (!text.endsWith("\r\n")) {
                    text = text.stripTrailing() + "\r\n";
                }
            } else if (!fromServer) {
                String[] words = text.trim().split(" ", 4);
                if (selectAnswer != null && words.length >= 2 && words[1].equalsIgnoreCase("SELECT")) {
                    commands.add(words[0] + " SELECT");
                    synchronized (back) {
                        back.write((words[0] + " " + selectAnswer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        back.flush();
                    }
                    continue;
                }
                if (delayNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(delayNanos);
                }
                String command = words.length >= 3 && words[1].equalsIgnoreCase("UID")
                        ? "UID " + words[2].toUpperCase(Locale.ROOT)
                        : words.length >= 2 ? words[1].toUpperCase(Locale.ROOT) : null;
                if (command != null) {
                    commands.add(words[0] + " " + command);
                    if (command.startsWith("UID ")) {
                        uidCommandLines.add(text.trim().substring(words[0].length() + 1));
                    }
                    if (command.equals(hold)) {
                        continue; // never forwarded: no answer
                    }
                    if (command.equals(dropOn) && dropOccurrences.contains(dropSeen.incrementAndGet())) {
                        link.drop(); // forwarded below: the server executes it, the client never hears back
                    }
                }
            }
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            Matcher literal = LITERAL.matcher(text);
            if (literal.find()) {
                copy(in, out, Long.parseLong(literal.group(1)));
            }
            out.flush();
        }
    }

    /** Copies exactly {@code n} bytes (a literal) unchanged. */
    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buffer = new byte[8192];
        long left = n;
        while (left > 0) {
            int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (read < 0) {
                throw new IOException("closed inside a literal");
            }
            out.write(buffer, 0, read);
            left -= read;
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}

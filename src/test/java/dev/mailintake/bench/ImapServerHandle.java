package dev.mailintake.bench;

import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The parent's side of {@link ImapServerProcess}: starts GreenMail in a JVM of its own, sends it commands, hands it
 * the IMAP access tokens the Graph fake issues, and kills it on close. The child's stderr (and GreenMail's log, in
 * {@code <mailintake.test.logdir>/imap-server/}) go to files, never to the console.
 */
final class ImapServerHandle implements BenchImapServer {
    /** The child's heap: GreenMail holds every message in memory, and copies a message whole for every FETCH. */
    static final String SERVER_HEAP = "-Xmx2g";
    private static final String GRAPH = "https://graph.microsoft.com";

    /**
     * TCP_NODELAY on the server's sockets (system property {@code bench.imap.tcp-nodelay}, default true), as the
     * Graph fake's {@code -Dsun.net.httpserver.nodelay=true}; false measures stock GreenMail.
     */
    static final boolean TCP_NODELAY = !"false".equalsIgnoreCase(System.getProperty("bench.imap.tcp-nodelay"));

    private final Process process;
    private final BufferedReader answers;
    private final Writer commands;
    private final int port;
    private final AtomicReference<Instant> firstImapToken = new AtomicReference<>();

    private ImapServerHandle(Process process, Path stderr) throws IOException {
        this.process = process;
        this.answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        String ready = answers.readLine();
        if (ready == null || !ready.startsWith("READY ")) {
            process.destroyForcibly();
            throw new IllegalStateException("the IMAP server process did not start (" + ready + "); see " + stderr);
        }
        this.port = Integer.parseInt(ready.substring("READY ".length()).trim());
    }

    /** Starts the server JVM (same java, same class path as this one) and waits until it listens. */
    static ImapServerHandle start() {
        Path logDir = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs")).resolve("imap-server");
        try {
            Files.createDirectories(logDir);
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    SERVER_HEAP,
                    "-Dmailintake.test.logdir=" + logDir.toAbsolutePath(),
                    "-cp", System.getProperty("java.class.path"),
                    ImapServerProcess.class.getName()));
            if (TCP_NODELAY) {
                cmd.add("tcp-nodelay");
            }
            Path stderr = logDir.resolve("stderr.log");
            Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
            return new ImapServerHandle(p, stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String describe() {
        return "GreenMail " + com.icegreen.greenmail.server.BuildInfo.INSTANCE.getProjectVersion()
                + " in a separate JVM (" + SERVER_HEAP + "), plain IMAP on 127.0.0.1, no added latency, TCP_NODELAY "
                + (TCP_NODELAY ? "on" : "off (stock GreenMail)");
    }

    /**
     * Creates the mailbox {@code address} and sets its password to every app-only IMAP token {@code fake} issues to
     * {@link TestApp#CLIENT_ID} from now on (what {@code GreenMailImap.acceptTokensFrom} does in-process).
     */
    @Override
    public ImapServerHandle mailboxOpenedByTokensFrom(GraphFake fake, String address) {
        call("USER " + address);
        fake.onAccessTokenIssued(t -> {
            if (t.resource() != null && !t.resource().equalsIgnoreCase(GRAPH) && t.upn() == null
                    && TestApp.CLIENT_ID.equalsIgnoreCase(t.clientId())) {
                firstImapToken.compareAndSet(null, Instant.now());
                call("PASSWORD " + address + " " + t.token());
            }
        });
        return this;
    }

    /** When the first IMAP token was issued: the application's first poll is about to connect. */
    @Override
    public Instant firstImapToken() {
        return firstImapToken.get();
    }

    @Override
    public void append(String address, String folder, Path eml, Instant received) {
        call("APPEND " + address + " " + folder + " " + received.toEpochMilli() + " " + eml.toAbsolutePath());
    }

    @Override
    public int count(String address, String folder) {
        return Integer.parseInt(call("COUNT " + address + " " + folder).trim());
    }

    /** When each message arrived in {@code folder} (INBOX/Processed or INBOX/Error), in order. */
    @Override
    public List<Instant> arrivals(String address, String folder) {
        List<Instant> times = new ArrayList<>();
        for (String micros : call("ARRIVALS " + address + " " + folder).trim().split(" ")) {
            if (!micros.isEmpty()) {
                long m = Long.parseLong(micros);
                times.add(Instant.ofEpochSecond(m / 1_000_000, (m % 1_000_000) * 1_000));
            }
        }
        return times;
    }

    /** Size and SHA-256 of message {@code index} (0-based) of {@code folder}, as GreenMail serves it. */
    Digest digest(String address, String folder, int index) {
        String[] f = call("DIGEST " + address + " " + folder + " " + index).trim().split(" ");
        return new Digest(Long.parseLong(f[0]), f[1]);
    }

    record Digest(long size, String sha256) {
    }

    /** CPU time the server JVM has used so far. */
    @Override
    public long cpuNanos() {
        return Long.parseLong(call("CPU").trim());
    }

    /** Mailbox invoices read over IMAP (security none) from this server, with the default concurrency. */
    @Override
    public Map<String, String> imapMailbox(Path dataDir, GraphFake fake, Path target) {
        return TestApp.imapMailbox(dataDir, fake, port, target);
    }

    /** One command, one answer line; throws on {@code ERR}. The command itself is never part of an exception. */
    private synchronized String call(String command) {
        String verb = command.substring(0, command.indexOf(' ') < 0 ? command.length() : command.indexOf(' '));
        try {
            commands.write(command);
            commands.write('\n');
            commands.flush();
            String answer = answers.readLine();
            if (answer == null) {
                throw new IllegalStateException("the IMAP server process ended (" + verb + ")");
            }
            if (!answer.startsWith("OK")) {
                throw new IllegalStateException("IMAP server process, " + verb + ": " + answer);
            }
            return answer.substring(2);
        } catch (IOException e) {
            throw new UncheckedIOException("IMAP server process, " + verb, e);
        }
    }

    @Override
    public void close() {
        try {
            commands.write("QUIT\n");
            commands.flush();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

package dev.mailintake.bench;

import com.sun.net.httpserver.HttpServer;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.SelfSignedCertificate;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Dovecot ({@code dovecot-imapd} from Debian's packages, started from {@code /usr/sbin/dovecot} with a configuration
 * of its own in a temp directory) as the IMAP server of a benchmark: IMAPS on 127.0.0.1 with a throw-away
 * certificate, SASL XOAUTH2 checked by Dovecot's {@code oauth2} passdb against an RFC 7662 introspection endpoint in
 * this JVM that knows the app-only IMAP tokens the Graph fake issued, Maildir storage. Messages are delivered as an
 * MTA does, by writing files into the Inbox's {@code new/}; arrivals in Processed and Error are seen by inotify
 * ({@link WatchService}). Needs root (it runs Dovecot's mail processes as {@code nobody}).
 */
final class DovecotServer implements BenchImapServer {
    static final Path BINARY = Path.of("/usr/sbin/dovecot");
    private static final String GRAPH = "https://graph.microsoft.com";

    private final Path home;
    private final Process master;
    private final int port;
    private final SelfSignedCertificate certificate;
    private final HttpServer introspection;
    private final Set<String> tokens = ConcurrentHashMap.newKeySet();
    private final AtomicInteger deliveries = new AtomicInteger();
    private final AtomicReference<String> user = new AtomicReference<>();
    private final AtomicReference<Instant> firstImapToken = new AtomicReference<>();
    private final Map<String, List<Instant>> arrivals = new ConcurrentHashMap<>();
    private final WatchService watcher;
    private final UserPrincipal nobody;
    private final GroupPrincipal nogroup;

    private DovecotServer(Path home) throws IOException {
        this.home = home;
        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        this.nobody = users.lookupPrincipalByName("nobody");
        this.nogroup = users.lookupPrincipalByGroupName("nogroup");
        this.certificate = SelfSignedCertificate.generate(Files.createDirectories(home.resolve("tls")));
        writePem(home.resolve("tls/cert.pem"), "CERTIFICATE", certificateBytes());
        writePem(home.resolve("tls/key.pem"), "PRIVATE KEY", certificate.privateKey().getEncoded()); // PKCS#8
        this.introspection = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        introspection.createContext("/introspect", x -> {
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String token = "";
            for (String pair : body.split("&")) {
                if (pair.startsWith("token=")) {
                    token = URLDecoder.decode(pair.substring("token=".length()), StandardCharsets.UTF_8);
                }
            }
            String answer = tokens.contains(token) ? "{\"active\":true,\"username\":\"" + user.get() + "\"}"
                    : "{\"active\":false}";
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, bytes.length);
            x.getResponseBody().write(bytes);
            x.close();
        });
        introspection.start();
        this.port = AppProcess.freePort();
        Files.createDirectories(home.resolve("run"));
        Files.createDirectories(home.resolve("state"));
        Path mail = Files.createDirectories(home.resolve("mail"));
        Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(home.resolve("oauth2.conf.ext"), String.join("\n",
                "introspection_mode = post",
                "introspection_url = http://127.0.0.1:" + introspection.getAddress().getPort() + "/introspect",
                "username_attribute = username",
                "active_attribute = active",
                "active_value = true",
                "force_introspection = yes", ""));
        Files.writeString(home.resolve("dovecot.conf"), configuration());
        Path stderr = home.resolve("dovecot.stderr");
        this.master = new ProcessBuilder(BINARY.toString(), "-F", "-c", home.resolve("dovecot.conf").toString())
                .redirectErrorStream(true).redirectOutput(stderr.toFile()).start();
        awaitListening(stderr);
        this.watcher = FileSystems.getDefault().newWatchService();
    }

    static DovecotServer start() {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install dovecot-imapd (Debian)");
        }
        try {
            // Dovecot's mail processes run as nobody and must reach mail/ below it
            return new DovecotServer(Files.createTempDirectory("mi-dovecot-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String configuration() {
        return String.join("\n",
                "base_dir = " + home.resolve("run"),
                "state_dir = " + home.resolve("state"),
                "instance_name = mi-bench-" + port,
                "log_path = " + home.resolve("dovecot.log"),
                "protocols = imap",
                "listen = 127.0.0.1",
                "ssl = required",
                "ssl_cert = <" + home.resolve("tls/cert.pem"),
                "ssl_key = <" + home.resolve("tls/key.pem"),
                "auth_mechanisms = xoauth2 oauthbearer",
                "disable_plaintext_auth = yes",
                "first_valid_uid = 1",
                "mail_location = maildir:" + home.resolve("mail") + "/%u",
                "default_internal_user = dovecot",
                "default_login_user = dovenull",
                "namespace inbox {", "  inbox = yes", "  separator = /", "}",
                "passdb {", "  driver = oauth2", "  mechanisms = xoauth2 oauthbearer",
                "  args = " + home.resolve("oauth2.conf.ext"), "}",
                "userdb {", "  driver = static",
                "  args = uid=nobody gid=nogroup home=" + home.resolve("mail") + "/%u", "}",
                "service imap-login {", "  inet_listener imap {", "    port = 0", "  }",
                "  inet_listener imaps {", "    port = " + port, "    ssl = yes", "  }", "}",
                "service anvil {", "  chroot =", "}", "");
    }

    private void awaitListening(Path stderr) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!master.isAlive()) {
                throw new IllegalStateException("dovecot ended at start: " + Files.readString(stderr)
                        + (Files.exists(home.resolve("dovecot.log")) ? Files.readString(home.resolve("dovecot.log")) : ""));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                sleep(50);
            }
        }
        master.destroyForcibly();
        throw new IllegalStateException("dovecot does not listen on " + port + "; see " + home.resolve("dovecot.log"));
    }

    @Override
    public BenchImapServer mailboxOpenedByTokensFrom(GraphFake fake, String address) {
        user.set(address);
        fake.onAccessTokenIssued(t -> {
            if (t.resource() != null && !t.resource().equalsIgnoreCase(GRAPH) && t.upn() == null
                    && TestApp.CLIENT_ID.equalsIgnoreCase(t.clientId())) {
                firstImapToken.compareAndSet(null, Instant.now());
                tokens.add(t.token());
            }
        });
        try {
            // the Maildir++ layout Dovecot creates for "INBOX/Processed" with the separator "/": ".INBOX.Processed"
            Path maildir = maildir(address, "INBOX");
            for (String folder : List.of("INBOX", "INBOX/Processed", "INBOX/Error")) {
                Path dir = maildir(address, folder);
                for (String sub : List.of("cur", "new", "tmp")) {
                    ownedByNobody(Files.createDirectories(dir.resolve(sub)));
                }
                ownedByNobody(dir);
                if (!folder.equals("INBOX")) {
                    ownedByNobody(Files.createFile(dir.resolve("maildirfolder")));
                    arrivals.put(folder, new CopyOnWriteArrayList<>());
                }
            }
            Files.writeString(maildir.resolve("subscriptions"), "INBOX/Processed\nINBOX/Error\n");
            ownedByNobody(maildir.resolve("subscriptions"));
            Map<WatchKey, String> keys = new ConcurrentHashMap<>();
            for (String folder : List.of("INBOX/Processed", "INBOX/Error")) {
                for (String sub : List.of("cur", "new")) {
                    Path dir = maildir(address, folder).resolve(sub);
                    keys.put(dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE), folder);
                }
            }
            Thread watching = new Thread(() -> watch(keys), "dovecot-arrivals");
            watching.setDaemon(true);
            watching.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    private Path maildir(String address, String folder) {
        Path root = home.resolve("mail").resolve(address);
        return folder.equalsIgnoreCase("INBOX") ? root : root.resolve("." + folder.replace('/', '.'));
    }

    private void ownedByNobody(Path p) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        view.setOwner(nobody);
        view.setGroup(nogroup);
    }

    /** Watches cur/ and new/ of Processed and Error: a moved message appears in one of them (link or rename). */
    private void watch(Map<WatchKey, String> keys) {
        try {
            Map<String, Set<String>> seen = new ConcurrentHashMap<>();
            while (true) {
                WatchKey key = watcher.take();
                Instant now = Instant.now();
                String folder = keys.get(key);
                for (var event : key.pollEvents()) {
                    if (event.context() instanceof Path name) {
                        // a message moved from new/ to cur/ is the same message: count its base name once
                        String base = name.toString().split(":", 2)[0];
                        if (seen.computeIfAbsent(folder, f -> ConcurrentHashMap.newKeySet()).add(base)) {
                            arrivals.get(folder).add(now);
                        }
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | java.nio.file.ClosedWatchServiceException e) {
            // closed
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String describe() {
        return "Dovecot " + version() + " (Maildir, oauth2 passdb with token introspection), IMAPS on 127.0.0.1,"
                + " no added latency";
    }

    private static String version() {
        try {
            Process p = new ProcessBuilder(BINARY.toString(), "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return v;
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    @Override
    public Instant firstImapToken() {
        return firstImapToken.get();
    }

    /** Delivers as an MTA does: the file is written in tmp/, then renamed into new/ (Maildir's rule). */
    @Override
    public void append(String address, String folder, Path eml, Instant received) {
        try {
            Path dir = maildir(address, folder);
            String name = received.getEpochSecond() + ".M" + deliveries.incrementAndGet() + "P" + ProcessHandle.current()
                    .pid() + ".bench,S=" + Files.size(eml);
            Path tmp = dir.resolve("tmp").resolve(name);
            Files.copy(eml, tmp);
            ownedByNobody(tmp);
            Files.setLastModifiedTime(tmp, FileTime.from(received));
            Files.move(tmp, dir.resolve("new").resolve(name), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Messages in the folder's cur/ and new/ (an expunged message's file is gone from both). */
    @Override
    public int count(String address, String folder) {
        Path dir = maildir(address, folder);
        int n = 0;
        for (String sub : List.of("cur", "new")) {
            try (Stream<Path> files = Files.list(dir.resolve(sub))) {
                n += (int) files.count();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return n;
    }

    @Override
    public List<Instant> arrivals(String address, String folder) {
        return new ArrayList<>(arrivals.getOrDefault(folder, List.of()));
    }

    /**
     * CPU of Dovecot's processes: the master's own and that of its children that ended ({@code /proc/<pid>/stat}
     * utime, stime, cutime, cstime), plus the live descendants' (login, imap, auth, config, log processes).
     */
    @Override
    public long cpuNanos() {
        long ticks = ticks(master.pid(), true);
        for (ProcessHandle p : master.descendants().toList()) {
            ticks += ticks(p.pid(), false);
        }
        return ticks * 10_000_000L;
    }

    private static long ticks(long pid, boolean withChildren) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return withChildren ? t + Long.parseLong(f[13]) + Long.parseLong(f[14]) : t;
        } catch (IOException | RuntimeException e) {
            return 0; // ended meanwhile
        }
    }

    /** Mailbox invoices over IMAPS (implicit TLS) from this server, trusting its certificate. */
    @Override
    public Map<String, String> imapMailbox(Path dataDir, GraphFake fake, Path target) {
        Map<String, String> s = TestApp.imapMailbox(dataDir, fake, port, target);
        String k = "mailintake.mailboxes.invoices.imap.";
        s.put(k + "security", "ssl");
        s.put(k + "trust-store", certificate.trustStore().toString());
        s.put(k + "trust-store-password", certificate.password());
        return s;
    }

    private byte[] certificateBytes() throws IOException {
        try {
            return certificate.certificate().getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
    }

    private static void writePem(Path file, String type, byte[] der) throws IOException {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(file, "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            // closing anyway
        }
        master.destroy();
        try {
            if (!master.waitFor(10, TimeUnit.SECONDS)) {
                master.descendants().forEach(ProcessHandle::destroyForcibly);
                master.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            master.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        introspection.stop(0);
        try (Stream<Path> all = Files.walk(home)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}

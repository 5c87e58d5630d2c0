package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image ({@code mvn -B -Pcontainer package -DskipTests} → {@code target/mail-intake-image.tar}), loaded
 * and started with podman against the Graph fake: configuration from a mounted {@code /config/application.properties},
 * environment variables and mounted secret files; health 200; one message imported into the mounted {@code /data}
 * volume; non-root; read-only root file system; a clean stop on SIGTERM within the shutdown timeout.
 *
 * <p>Skipped where podman or the image archive is missing, unless {@code MAILINTAKE_REQUIRE_CONTAINER=1} (CI,
 * {@code .ci/run}), which turns the skip into a failure.
 */
class ContainerImageTest {
    private static final Path IMAGE_TAR = Path.of("target", "mail-intake-image.tar");
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(120);
    /** camel.main.shutdownTimeout of the shipped application.properties. */
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    private static final int UID = 10001;
    /** podman as these machines run it (crun cannot set rlimits here): ../shared/CONTAINER-NOTES.md */
    private static final List<String> RUN = List.of("podman", "run", "--runtime", "runc",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024");

    private static String image;

    @TempDir
    Path tmp;
    private GraphFake fake;
    private String container;

    /** Why the image cannot be tested here, or null. */
    private static String missing;

    @BeforeAll
    static void loadImage() throws Exception {
        if (!Files.isRegularFile(IMAGE_TAR)) {
            missing = IMAGE_TAR + " is missing: build it with mvn -B -Pcontainer package -DskipTests (see README.md)";
        } else if (!podmanWorks()) {
            missing = "podman is not installed or does not work here (apt-get install -y podman runc)";
        }
        if (missing != null) {
            return;
        }
        Result load = run(List.of("podman", "load", "-i", IMAGE_TAR.toString()));
        assertThat(load.code).as(load.output).isZero();
        Matcher m = Pattern.compile("Loaded image(?:\\(s\\))?: (\\S+)").matcher(load.output);
        assertThat(m.find()).as(load.output).isTrue();
        image = m.group(1).split(",")[0];
    }

    @BeforeEach
    void requireImage() {
        if (missing != null) {
            if ("1".equals(System.getenv("MAILINTAKE_REQUIRE_CONTAINER"))) {
                fail("MAILINTAKE_REQUIRE_CONTAINER=1 but " + missing);
            }
            Assumptions.abort("container image test skipped: " + missing);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (container != null) {
            Result logs = run(List.of("podman", "logs", container));
            Path dir = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("container-image-test.log"), logs.output);
            run(List.of("podman", "rm", "-f", "-v", "-t", "0", container));
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void imageConfigurationIsTheDocumentedOne() throws Exception {
        Result inspect = run(List.of("podman", "image", "inspect", image));
        assertThat(inspect.code).as(inspect.output).isZero();
        JsonNode config = new ObjectMapper().readTree(inspect.output).get(0).path("Config");
        assertThat(config.path("User").asText()).isEqualTo(UID + ":0");
        assertThat(config.path("Entrypoint").get(0).asText()).isEqualTo("/usr/local/bin/mail-intake-entrypoint");
        assertThat(config.path("Volumes").has("/config")).isTrue();
        assertThat(config.path("Volumes").has("/data")).isTrue();
        assertThat(config.path("ExposedPorts").has("8765/tcp")).isTrue();
        assertThat(config.path("ExposedPorts").has("9876/tcp")).isTrue();
        List<String> env = new ArrayList<>();
        config.path("Env").forEach(e -> env.add(e.asText()));
        assertThat(env).contains("MAILINTAKE_DATA_DIR=/data", "CAMEL_MANAGEMENT_HOST=0.0.0.0", "LANG=C.UTF-8");
        assertThat(config.path("WorkingDir").asText()).isEqualTo("/");
    }

    @Test
    void importsIntoTheDataVolumeAsNonRootAndStopsCleanlyOnSigterm() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.withAttachment("<c1@example.com>", "container", "filename*=UTF-8''Rechnung-M%C3%A4rz.pdf",
                "application/pdf", "%PDF-1.7\n".getBytes(StandardCharsets.US_ASCII)), Instant.parse("2026-11-20T08:00:00Z"));

        // /config: the shipped application.properties plus the test's connection and mailbox; user routes
        Path config = Files.createDirectories(tmp.resolve("config"));
        Files.copy(fake.trustStore(), config.resolve("truststore.p12"));
        int managementPort = freePort();
        int adminPort = freePort();
        String properties = Files.readString(Path.of("application.properties"))
                + "\n## ContainerImageTest\n"
                + "camel.management.port = " + managementPort + "\n"
                + "mailintake.admin.port = " + adminPort + "\n"
                + "mailintake.connections.contoso.tenant-id = " + TestApp.TENANT + "\n"
                + "mailintake.connections.contoso.client-id = " + TestApp.CLIENT_ID + "\n"
                + "mailintake.connections.contoso.client-secret-file = /run/secrets/contoso-client-secret\n"
                + "mailintake.connections.contoso.authority-host = " + fake.authorityHost() + "\n"
                + "mailintake.connections.contoso.graph-base-url = " + fake.graphBaseUrl() + "\n"
                + "mailintake.connections.contoso.instance-discovery = false\n"
                + "mailintake.connections.contoso.scopes = https://graph.microsoft.com/.default\n"
                + "mailintake.connections.contoso.trust-store = /config/truststore.p12\n"
                + "mailintake.connections.contoso.trust-store-password = {{env:TRUST_STORE_PASSWORD}}\n"
                + "mailintake.mailboxes.invoices.connection = contoso\n"
                // the environment (MAILINTAKE_MAILBOXES_INVOICES_ADDRESS) overrides this wrong address
                + "mailintake.mailboxes.invoices.address = nobody@contoso.test\n"
                + "mailintake.mailboxes.invoices.poll = 1s\n"
                // relative to the working directory /: the /data volume
                + "mailintake.mailboxes.invoices.target = folder:data/out/invoices\n";
        Files.writeString(config.resolve("application.properties"), properties);
        Path routes = Files.createDirectories(config.resolve("routes"));
        Files.writeString(routes.resolve("hello.yaml"), """
                - route:
                    id: user-hello
                    from:
                      uri: scheduler:user-hello?repeatCount=1
                      steps:
                        - log: "user route from /config/routes is running"
                """);
        readableByAll(config);

        // secret files, owner-only, owned by the container's user
        Path secrets = Files.createDirectories(tmp.resolve("secrets"));
        Path clientSecret = Files.writeString(secrets.resolve("contoso-client-secret"), TestSecrets.CLIENT_SECRET + "\n");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path storeKey = Files.writeString(secrets.resolve("store-key"), Base64.getEncoder().encodeToString(key) + "\n");
        for (Path p : List.of(clientSecret, storeKey)) {
            ownedByContainerUser(p, "r--------");
        }

        // /data: a host directory the container's user may write
        Path data = Files.createDirectories(tmp.resolve("data"));
        ownedByContainerUser(data, "rwxr-x---");

        container = "mail-intake-test-" + Long.toHexString(System.nanoTime());
        List<String> cmd = new ArrayList<>(RUN);
        cmd.addAll(List.of("-d", "--name", container,
                // the fake listens on the host's 127.0.0.1; with the host's network the servers stay on 127.0.0.1 too
                "--network", "host",
                "-e", "CAMEL_MANAGEMENT_HOST=127.0.0.1",
                "-e", "MAILINTAKE_ADMIN_HOST=127.0.0.1",
                "-e", "MAILINTAKE_ADMIN_PASSWORD=container-test-admin",
                "-e", "MAILINTAKE_STORE_KEY_FILE=/run/secrets/store-key",
                "-e", "MAILINTAKE_MAILBOXES_INVOICES_ADDRESS=" + TestApp.ADDRESS,
                "-e", "TRUST_STORE_PASSWORD=" + fake.trustStorePassword(),
                // an AppCDS archive in the image (deploy/container/add-cds.sh) must map, or the JVM stops at once
                "-e", "JAVA_OPTS=-Xshare:on",
                "--read-only",
                "-v", config + ":/config:ro",
                "-v", data + ":/data",
                "-v", clientSecret + ":/run/secrets/contoso-client-secret:ro",
                "-v", storeKey + ":/run/secrets/store-key:ro",
                image));
        Instant started = Instant.now();
        Result runResult = run(cmd);
        assertThat(runResult.code).as(runResult.output).isZero();

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String health = "http://127.0.0.1:" + managementPort + "/observe/health";
        HttpResponse<String> up = pollUntil(Duration.ofSeconds(90), () -> {
            try {
                return get(http, health);
            } catch (IOException e) {
                Result state = run(List.of("podman", "inspect", "--format", "{{.State.Running}}", container));
                if (!state.output.trim().equals("true")) {
                    throw new AssertionError("the container ended before it was healthy:\n"
                            + run(List.of("podman", "logs", container)).output);
                }
                throw e;
            }
        }, r -> r != null && r.statusCode() == 200);
        System.out.printf("container start to health 200: %d ms%n", Duration.between(started, Instant.now()).toMillis());
        assertThat(up.body()).contains("\"status\":\"UP\"");
        assertThat(get(http, health + "/live").statusCode()).isEqualTo(200);

        // one message imported into the /data volume (folder target), moved to Processed
        Path out = data.resolve("out").resolve("invoices");
        List<Path> messages = pollUntil(Duration.ofSeconds(60), () -> find(out, "message.eml"), l -> !l.isEmpty());
        assertThat(messages).hasSize(1);
        Path messageDir = messages.get(0).getParent();
        assertThat(messageDir.resolve("metadata.json")).exists();
        assertThat(messageDir.resolve("attachments").resolve("Rechnung-März.pdf")).exists();
        pollUntil(Duration.ofSeconds(30), () -> box.messagesIn("Inbox/Processed").size(), n -> n == 1);
        assertThat(get(http, health + "/ready").statusCode()).isEqualTo(200);
        // the store lives in /data; the key came from the secret file, so none was written
        assertThat(data.resolve("mail-intake.mv.db")).exists();
        assertThat(data.resolve("store.key")).doesNotExist();

        // the image's AppCDS archive: CI always adds it (add-cds.sh), and -Xshare:on above proved it maps
        Result archive = run(List.of("podman", "exec", container, "test", "-f", "/app/mail-intake.jsa"));
        if ("1".equals(System.getenv("MAILINTAKE_REQUIRE_CONTAINER"))) {
            assertThat(archive.code).as("/app/mail-intake.jsa in the image (deploy/container/add-cds.sh)").isZero();
        }

        // non-root, and java itself is PID 1 (it gets SIGTERM)
        Result id = run(List.of("podman", "exec", container, "id", "-u"));
        assertThat(id.output.trim()).isEqualTo(String.valueOf(UID));
        Result status = run(List.of("podman", "exec", container, "cat", "/proc/1/status"));
        assertThat(status.output).containsPattern("(?m)^Name:\\s+java$").containsPattern("(?m)^Uid:\\s+" + UID + "\\s");
        // read-only root file system: nothing outside the volumes and /tmp is writable
        Result write = run(List.of("podman", "exec", container, "touch", "/app/x"));
        assertThat(write.code).isNotZero();

        // the user route's scheduler fires a second after the start; the import may have been quicker
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() ->
                run(List.of("podman", "logs", container)).output.contains("user route from /config/routes is running"));
        String logs = run(List.of("podman", "logs", container)).output;
        assertThat(logs).contains("Properties location: file:/config/application.properties")
                .contains("user route from /config/routes is running")
                .doesNotContain(TestSecrets.CLIENT_SECRET);

        // SIGTERM (podman stop), with a grace period beyond the shutdown timeout: ends cleanly within it
        Instant stopping = Instant.now();
        Result stop = run(List.of("podman", "stop", "-t", String.valueOf(SHUTDOWN_TIMEOUT.toSeconds() + 10), container));
        Duration stopTook = Duration.between(stopping, Instant.now());
        System.out.printf("podman stop took %d ms%n", stopTook.toMillis());
        assertThat(stop.code).as(stop.output).isZero();
        assertThat(stopTook).isLessThan(SHUTDOWN_TIMEOUT);
        Result exit = run(List.of("podman", "inspect", "--format", "{{.State.ExitCode}}", container));
        assertThat(exit.output.trim()).isIn("0", "143");
        assertThat(run(List.of("podman", "logs", container)).output)
                .contains("JVM shutdown hook triggered by SIGTERM (PID 1)")
                .contains("Apache Camel (Main) 4.18.0 is shutdown");
    }

    // ------------------------------------------------------------------ helpers

    private static boolean podmanWorks() {
        try {
            return run(List.of("podman", "--version")).code == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private record Result(int code, String output) {
    }

    /** Runs a command (bounded by {@link #PROCESS_TIMEOUT}), stdout and stderr together. */
    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes(); // ends when the process closes its output
            if (!p.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException(e);
        }
    }

    private interface Probe<T> {
        T get() throws Exception;
    }

    /** Polls every 250 ms until {@code done} holds, at most {@code limit}. */
    private static <T> T pollUntil(Duration limit, Probe<T> probe, java.util.function.Predicate<T> done) throws Exception {
        Instant end = Instant.now().plus(limit);
        T last = null;
        while (Instant.now().isBefore(end)) {
            try {
                last = probe.get();
            } catch (IOException e) {
                last = null;
            }
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not reached within " + limit + "; last: " + last);
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<Path> find(Path root, String name) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root, 4)) {
            return s.filter(p -> p.getFileName().toString().equals(name) && !p.toString().contains(".incoming"))
                    .collect(Collectors.toList());
        }
    }

    private static void readableByAll(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    /** Owner uid {@link #UID} (the test runs as root, as CI does); elsewhere readable/writable by all instead. */
    private static void ownedByContainerUser(Path p, String permissions) throws IOException {
        try {
            Files.setAttribute(p, "unix:uid", UID);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(permissions));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxrwxrwx" : "rw-rw-rw-"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

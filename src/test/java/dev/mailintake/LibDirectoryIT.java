package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.camel.component.seda.SedaComponent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar (mvn verify builds it before this runs) in a JVM of its own, started the documented way
 * ({@code java -cp "mail-intake.jar:lib/*" dev.mailintake.MailIntakeApplication}) with a Camel component that is
 * not in the jar (camel-seda) in {@code lib/}, used by a user route.
 */
class LibDirectoryIT {
    private static final String ROUTES = """
            - route:
                id: via-seda
                from:
                  uri: direct:via-seda
                  steps:
                    - to: "seda:archive?waitForTaskToComplete=Always"
            - route:
                id: archive
                from:
                  uri: seda:archive
                  steps:
                    - to: "file:%s?fileName=${header.MailIntakeSha256}.eml"
            """;

    @TempDir
    Path tmp;
    private GraphFake fake;
    private Process process;

    @AfterEach
    void tearDown() throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void aComponentJarInLibIsUsedFromAUserRoute() throws Exception {
        Path jar = Path.of(System.getProperty("mailintake.jar", "target/mail-intake.jar"));
        assertThat(jar).as("the packaged jar (run through mvn verify)").exists();
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        byte[] mime = Mimes.pdfMessage("<lib@example.com>", "lib", 300);
        box.addMessage("inbox", mime, Instant.parse("2026-11-20T08:00:00Z"));

        Path out = tmp.resolve("out");
        Files.createDirectories(tmp.resolve("routes"));
        Files.writeString(tmp.resolve("routes/archive.yaml"), ROUTES.formatted(out));
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Path seda = Path.of(SedaComponent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Files.copy(seda, lib.resolve(seda.getFileName()));
        assertThat(seda.getFileName().toString()).startsWith("camel-seda-");
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.remove("mailintake.routes-dir"); // the default: routes/ beside the file
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.mailboxes.invoices.connection", "contoso");
        s.put("mailintake.mailboxes.invoices.address", TestApp.ADDRESS);
        s.put("mailintake.mailboxes.invoices.poll", "1s");
        s.put("mailintake.mailboxes.invoices.target", "direct:via-seda");
        Files.writeString(tmp.resolve("application.properties"), s.entrySet().stream()
                .map(e -> e.getKey() + " = " + e.getValue().replace("\\", "\\\\")).collect(Collectors.joining("\n")));

        Path log = tmp.resolve("child.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", jar.toAbsolutePath() + File.pathSeparator + "lib/*", "dev.mailintake.MailIntakeApplication",
                "--config", "application.properties",
                "--camel.management.port=" + freePort(), "--mailintake.admin.port=" + freePort());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("MAILINTAKE_") || k.startsWith("CAMEL_"));
        process = pb.start();

        Path delivered = out.resolve(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(mime)) + ".eml");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(delivered) && box.messagesIn("Inbox/Processed")
                .size() == 1 || !process.isAlive());
        assertThat(process.isAlive()).as("child log:\n" + read(log)).isTrue();
        assertThat(delivered).hasBinaryContent(mime);
        assertThat(read(log)).doesNotContain("are not on the class path");
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

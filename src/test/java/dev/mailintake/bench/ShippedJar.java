package dev.mailintake.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.TestApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The application as a user runs it, for the import benchmarks' {@code -Dbench.app=jar}: the build's fat jar in a JVM
 * of its own, launched as the README says ({@code java -XX:SharedArchiveFile=target/mail-intake.jsa -jar
 * target/mail-intake.jar}, the archive when the build made one), with the benchmark's settings in a config file. The
 * fakes and servers stay where they are: the application no longer shares this JVM (its CPU, its JIT compiler threads)
 * with them. {@code -Dbench.app.jvm-args=-XX:+X,-XX:Y=z} adds JVM options (commas: Maven's argLine splits at spaces;
 * {@code ;} for a comma inside an option). {@code -Dbench.app.jar=/path/to/mail-intake.jar} runs another build instead
 * (an earlier release, side by side), with the {@code .jsa} of the same name next to it if there is one, and the
 * {@code application.properties} next to it (that release's own) if there is one; {@code
 * -Dbench.app.drop=mailintake.routes-dir,…} leaves out settings of the benchmark that such a release does not know.
 */
record ShippedJar(Path jar, List<String> jvmOptions) {
    static final Path JAR = Path.of("target/mail-intake.jar").toAbsolutePath();

    /** Whether {@code -Dbench.app=jar} asks for it (the default is the application in this JVM). */
    static boolean requested() {
        return "jar".equals(System.getProperty("bench.app"));
    }

    static ShippedJar fromProperties() {
        Path jar = Path.of(System.getProperty("bench.app.jar", JAR.toString())).toAbsolutePath();
        List<String> options = new ArrayList<>(archiveOption(jar));
        Arrays.stream(System.getProperty("bench.app.jvm-args", "").split(",")).filter(o -> !o.isBlank())
                .map(o -> o.trim().replace(';', ',')).forEach(options::add);
        return new ShippedJar(jar, List.copyOf(options));
    }

    /** {@code -XX:SharedArchiveFile=…} for the AppCDS archive of the same name next to {@code jar}, if there is one. */
    static List<String> archiveOption(Path jar) {
        Path archive = jar.resolveSibling(jar.getFileName().toString().replaceFirst("\\.jar$", ".jsa"));
        return Files.exists(archive) ? List.of("-XX:SharedArchiveFile=" + archive) : List.of();
    }

    /**
     * The properties file an application's settings start from: the {@code application.properties} next to an earlier
     * build's jar (its own keys), else the project's.
     */
    static Path properties(Path jar) {
        Path own = jar.resolveSibling("application.properties");
        return !jar.equals(JAR) && Files.exists(own) ? own : Path.of("application.properties");
    }

    /** Starts the jar on these settings (over the project's application.properties); returns once health is 200. */
    AppProcess start(Path workDir, Map<String, String> settings) {
        assertThat(jar).as("build the jar first: mvn -B -o -Pbench package -DskipTests").exists();
        Map<String, String> s = new LinkedHashMap<>(settings);
        Arrays.stream(System.getProperty("bench.app.drop", "").split(",")).map(String::trim).forEach(s::remove);
        int port = AppProcess.freePort();
        s.put("camel.management.port", String.valueOf(port));
        s.put("mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        Path config = AppProcess.configFile(workDir.resolve("app.properties"), properties(jar), s);
        AppProcess process = AppProcess.startJar(workDir, jar, jvmOptions, "--config", config.toString());
        HttpClient http = TestApp.http();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/health")).build();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20)).until(() -> {
            assertThat(process.alive()).as("the application ended: %s", process.lines()).isTrue();
            try {
                return http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (java.io.IOException e) {
                return false; // not listening yet
            }
        });
        return process;
    }

    String describe() {
        return "the jar in a JVM of its own: java " + String.join(" ", jvmOptions) + " -jar "
                + (jar.equals(JAR) ? "target/" + jar.getFileName() : jar.toString()) + " --config app.properties";
    }
}

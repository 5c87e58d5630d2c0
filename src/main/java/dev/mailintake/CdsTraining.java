package dev.mailintake;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.camel.main.Main;

/**
 * The training run of the AppCDS archive: starts the application as shipped (no mailbox, the jar's
 * application.properties, a temp data directory, free ports), asks its health once, stops it and exits, so that
 * {@code -XX:ArchiveClassesAtExit} records the classes a start loads. The build runs it (pom.xml, execution
 * {@code cds-archive}):
 * <pre>java -XX:ArchiveClassesAtExit=mail-intake.jsa -cp mail-intake.jar dev.mailintake.CdsTraining</pre>
 * and the application starts with {@code java -XX:SharedArchiveFile=mail-intake.jsa -jar mail-intake.jar}. The
 * archive is valid only for the same JVM and the same jar at the same path; otherwise the JVM ignores it.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Files.createTempDirectory("mail-intake-cds");
        int port = freePort();
        Main main = MailIntakeApplication.create("classpath:application.properties", Map.of(
                "mailintake.data-dir", data.toString(),
                "camel.management.port", String.valueOf(port),
                "mailintake.admin.port", String.valueOf(freePort())));
        try {
            main.start();
            HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/observe/health")).build(),
                    HttpResponse.BodyHandlers.discarding());
        } finally {
            main.stop();
            try (Stream<Path> walk = Files.walk(data)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

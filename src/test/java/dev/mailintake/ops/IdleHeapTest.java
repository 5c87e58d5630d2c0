package dev.mailintake.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.AppProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The application's own JVM (started as a user starts it) gets the idle-heap settings, unless its command line set one. */
class IdleHeapTest {
    @TempDir
    Path tmp;

    @Test
    void theStartedApplicationReturnsItsIdleHeap() throws Exception {
        assertThat(flagsOf(List.of())).contains("-XX:G1PeriodicGCInterval=60000", "-XX:MinHeapFreeRatio=5",
                "-XX:MaxHeapFreeRatio=20");
    }

    @Test
    void aSettingOnTheCommandLineLeavesAllThreeAlone() throws Exception {
        String flags = flagsOf(List.of("-XX:MaxHeapFreeRatio=50"));
        assertThat(flags).contains("-XX:MaxHeapFreeRatio=50").doesNotContain("G1PeriodicGCInterval")
                .doesNotContain("MinHeapFreeRatio");
    }

    private String flagsOf(List<String> jvmOptions) throws Exception {
        Map<String, String> s = Map.of("mailintake.data-dir", tmp.resolve("data" + jvmOptions.size()).toString(),
                "camel.management.port", String.valueOf(AppProcess.freePort()),
                "mailintake.admin.port", String.valueOf(AppProcess.freePort()));
        Path config = AppProcess.configFile(tmp.resolve("app" + jvmOptions.size() + ".properties"), s);
        try (AppProcess app = AppProcess.start(tmp, Map.of(), jvmOptions, "--config", config.toString())) {
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                assertThat(app.alive()).as("the application ended: %s", app.lines()).isTrue();
                return app.count("Apache Camel") > 0 && app.lines().stream().anyMatch(l -> l.contains("started in"));
            });
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            Process p = new ProcessBuilder(jcmd, Long.toString(app.pid()), "VM.flags").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return out;
        }
    }
}

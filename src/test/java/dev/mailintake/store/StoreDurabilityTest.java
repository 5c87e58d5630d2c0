package dev.mailintake.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an H2 file store keeps when its process dies at once ({@code Runtime.halt}, as {@code kill -9}: no shutdown
 * hook, no close) right after writing: the ledger records made durable by {@link Ledger#persist()} and every grant
 * written. The store runs in a child JVM that halts itself, the test reopens the file.
 */
class StoreDurabilityTest {
    private static final int RECORDS = 40;

    @TempDir
    Path tmp;

    @Test
    void recordsPersistedBeforeACrashAreInTheFile() throws Exception {
        // the default URL, and one whose background writer would not run for a minute
        for (String options : List.of("", ";WRITE_DELAY=60000")) {
            String url = "jdbc:h2:file:" + tmp.resolve("persisted" + options.length()) + options;
            String out = crashAfterWriting(url, "persist");
            assertThat(out).contains("WRITTEN " + RECORDS);
            try (Store store = open(url)) {
                Ledger ledger = new Ledger(store, Clock.systemUTC());
                assertThat(ledger.count("mb", LedgerState.DELIVERED)).as(url).isEqualTo(RECORDS);
                assertThat(new GrantStore(store, box(), Clock.systemUTC()).cache("c1")).as(url).contains("rotated");
            }
        }
    }

    /** The test can fail: without {@code persist()} and with the background writer held off, the records are lost. */
    @Test
    void recordsNotPersistedAreLostInTheCrash() throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("lazy") + ";WRITE_DELAY=60000";
        assertThat(crashAfterWriting(url, "none")).contains("WRITTEN " + RECORDS);
        try (Store store = open(url)) {
            assertThat(new Ledger(store, Clock.systemUTC()).count("mb", LedgerState.DELIVERED)).isZero();
        }
    }

    /** Concurrent callers share CHECKPOINTs, and every caller's own records are written when its call returns. */
    @Test
    void concurrentCallersShareCheckpoints() throws Exception {
        try (Store store = open("jdbc:h2:file:" + tmp.resolve("group") + ";WRITE_DELAY=60000")) {
            Ledger ledger = new Ledger(store, Clock.systemUTC());
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        ledger.recordDelivered("mb", "k" + thread + "-" + i, "<" + i + "@x>", "/out", Ledger.Content.UNKNOWN);
                        ledger.persist();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(ledger.count("mb", LedgerState.DELIVERED)).isEqualTo(400);
        }
    }

    private String crashAfterWriting(String url, String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(java, "-cp", classPath, CrashingWriter.class.getName(), url, mode,
                tmp.resolve("store.key").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(137);
        return out;
    }

    private Store open(String url) {
        return new Store(new StoreConfig(url, "sa", Optional.empty()));
    }

    private SecretBox box() {
        return SecretBox.load(null, tmp.resolve("store.key"));
    }

    /** The child: writes, makes durable (or not), and halts as {@code kill -9} would end it. */
    public static final class CrashingWriter {
        private CrashingWriter() {
        }

        public static void main(String[] args) throws Exception {
            Store store = new Store(new StoreConfig(args[0], "sa", Optional.empty()));
            Ledger ledger = new Ledger(store, Clock.systemUTC());
            for (int i = 0; i < RECORDS; i++) {
                ledger.recordDelivered("mb", "key-" + i, "<" + i + "@x>", "/out/" + i, Ledger.Content.UNKNOWN);
            }
            if (args[1].equals("persist")) {
                ledger.persist();
                GrantStore grants = new GrantStore(store, SecretBox.load(null, Path.of(args[2])), Clock.systemUTC());
                grants.authorized("c1", "fp", "ada@x", "first");
                grants.cacheChanged("c1", "rotated", grants.version("c1"));
            }
            System.out.println("WRITTEN " + RECORDS);
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}

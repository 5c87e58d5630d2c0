package dev.mailintake.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.StoreConfig;
import dev.mailintake.testsupport.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fencing rule of scale-out on a fixed clock: a claim is taken by one instance, refused to another while its lease
 * runs, taken over after it, and then the first instance's renewal before delivering fails.
 */
class ClaimsTest {
    @TempDir
    Path tmp;

    @Test
    void aClaimIsExclusiveUntilItsLeaseRunsOutAndTheLoserIsFencedOff() {
        ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));
        try (Store store = new Store(new StoreConfig("jdbc:h2:file:" + tmp.resolve("store"), "sa", Optional.empty()))) {
            Claims a = Claims.jdbc(store.dataSource(), "a", Duration.ofSeconds(10), clock);
            Claims b = Claims.jdbc(store.dataSource(), "b", Duration.ofSeconds(10), clock);
            assertThat(a.claim("m0", "k1")).isEmpty();
            assertThat(b.claim("m0", "k1")).as("a holds it").contains("a");
            assertThat(a.claim("m0", "k1")).as("its own claim again").isEmpty();

            clock.advance(Duration.ofSeconds(9));
            assertThat(a.stillHeld("m0", "k1")).as("renewed within the lease").isTrue();
            clock.advance(Duration.ofSeconds(9));
            assertThat(b.claim("m0", "k1")).as("still within the renewed lease").contains("a");

            clock.advance(Duration.ofSeconds(2)); // a was frozen: its lease ran out
            assertThat(b.claim("m0", "k1")).as("taken over").isEmpty();
            assertThat(a.stillHeld("m0", "k1")).as("a, running again, is fenced off").isFalse();
            b.release("m0", "k1");
            assertThat(a.stillHeld("m0", "k1")).as("also once b is done").isFalse();
            a.release("m0", "k1"); // releases nothing of b's
            assertThat(a.claim("m0", "k2")).isEmpty();
        }
    }
}

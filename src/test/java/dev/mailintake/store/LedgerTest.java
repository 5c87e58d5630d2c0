package dev.mailintake.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.StoreConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The same ledger SQL on the embedded H2 store and on PostgreSQL (skipped where no PostgreSQL is reachable). */
class LedgerTest {
    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    @TempDir
    static Path tmp;

    static Stream<String> stores() {
        return Stream.of("h2", "postgresql");
    }

    private static StoreConfig config(String kind) {
        if (kind.equals("h2")) {
            return new StoreConfig("jdbc:h2:file:" + tmp.resolve("ledger-" + UUID.randomUUID()), "sa", Optional.empty());
        }
        boolean reachable;
        try (Connection c = DriverManager.getConnection(PG_URL, "postgres", "")) {
            reachable = c.isValid(2);
        } catch (Exception e) {
            reachable = false;
        }
        Assumptions.assumeTrue(reachable, "PostgreSQL not reachable at " + PG_URL + " (runs in CI)");
        return new StoreConfig(PG_URL, "postgres", Optional.empty());
    }

    @ParameterizedTest
    @MethodSource("stores")
    void recordsTheLifeOfAMessage(String kind) {
        Clock clock = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
        try (Store store = new Store(config(kind))) {
            Ledger ledger = new Ledger(store.dataSource(), clock);
            String mailbox = "mb-" + UUID.randomUUID();
            assertThat(ledger.find(mailbox, "k1")).isEmpty();

            LedgerEntry failing = ledger.recordDeliveryFailure(mailbox, "k1", "<a@x>", "target down",
                    Instant.parse("2026-11-22T09:59:00Z"));
            assertThat(failing.state()).isEqualTo(LedgerState.FAILING);
            assertThat(failing.attempts()).isEqualTo(1);
            LedgerEntry again = ledger.recordDeliveryFailure(mailbox, "k1", "<a@x>", "still down",
                    Instant.parse("2026-11-22T10:00:00Z"));
            assertThat(again.attempts()).isEqualTo(2);
            assertThat(again.firstFailureAt()).contains(Instant.parse("2026-11-22T09:59:00Z"));

            ledger.recordDelivered(mailbox, "k1", "<a@x>", "/out/1");
            assertThat(ledger.find(mailbox, "k1").orElseThrow().state()).isEqualTo(LedgerState.DELIVERED);
            assertThat(ledger.findDeliveredTwin(mailbox, "k2", "<a@x>")).map(LedgerEntry::messageKey).contains("k1");
            assertThat(ledger.findDeliveredTwin(mailbox, "k1", "<a@x>")).isEmpty();
            ledger.recordProcessed(mailbox, "k1");
            assertThat(ledger.count(mailbox, LedgerState.PROCESSED)).isEqualTo(1);

            ledger.recordRejected(mailbox, "k3", null, "no attachment");
            assertThat(ledger.find(mailbox, "k3").orElseThrow().reason()).contains("no attachment");
            ledger.recordError(mailbox, "k3");
            assertThat(ledger.find(mailbox, "k3").orElseThrow().state()).isEqualTo(LedgerState.ERROR);
            ledger.forget(mailbox, "k3");
            assertThat(ledger.find(mailbox, "k3")).isEmpty();
        }
    }
}

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

/** The same store SQL (ledger, grants, OAuth states) on embedded H2 and on PostgreSQL (skipped where no PostgreSQL is reachable). */
class StoreSqlTest {

    @TempDir
    static Path tmp;

    static Stream<String> stores() {
        return Stream.of("h2", "postgresql");
    }

    private final java.util.List<dev.mailintake.testsupport.PgSchema> schemas = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void dropSchemas() {
        schemas.forEach(dev.mailintake.testsupport.PgSchema::close);
    }

    private StoreConfig config(String kind) {
        if (kind.equals("h2")) {
            return new StoreConfig("jdbc:h2:file:" + tmp.resolve("ledger-" + UUID.randomUUID()), "sa", Optional.empty());
        }
        dev.mailintake.testsupport.PgSchema schema = dev.mailintake.testsupport.PgSchema.create("mi_store");
        schemas.add(schema);
        return schema.storeConfig();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void recordsTheLifeOfAMessage(String kind) {
        Clock clock = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
        try (Store store = new Store(config(kind))) {
            Ledger ledger = new Ledger(store, clock);
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

            ledger.recordDelivering(mailbox, "k1", "<a@x>");
            assertThat(ledger.find(mailbox, "k1").orElseThrow().state()).isEqualTo(LedgerState.DELIVERING);
            assertThat(ledger.find(mailbox, "k1").orElseThrow().attempts()).as("failures still counted").isEqualTo(2);
            ledger.recordDelivered(mailbox, "k1", "<a@x>", "/out/1", new Ledger.Content("ab12", 42L));
            assertThat(ledger.find(mailbox, "k1").orElseThrow().state()).isEqualTo(LedgerState.DELIVERED);
            assertThat(ledger.find(mailbox, "k1").orElseThrow().contentSha256()).contains("ab12");
            assertThat(ledger.find(mailbox, "k1").orElseThrow().contentSize()).contains(42L);
            assertThat(ledger.twins(mailbox, "k2", "<a@x>")).map(LedgerEntry::messageKey).containsExactly("k1");
            assertThat(ledger.twins(mailbox, "k1", "<a@x>")).isEmpty();
            ledger.recordProcessed(mailbox, "k1");
            assertThat(ledger.count(mailbox, LedgerState.PROCESSED)).isEqualTo(1);

            ledger.recordRejected(mailbox, "k3", null, "no attachment", Ledger.Content.UNKNOWN);
            assertThat(ledger.find(mailbox, "k3").orElseThrow().reason()).contains("no attachment");
            ledger.recordError(mailbox, "k3");
            assertThat(ledger.find(mailbox, "k3").orElseThrow().state()).isEqualTo(LedgerState.ERROR);
            ledger.forget(mailbox, "k3");
            assertThat(ledger.find(mailbox, "k3")).isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("stores")
    void grantsAndStatesUseTheSameSqlOnBothStores(String kind) throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
        try (Store store = new Store(config(kind))) {
            SecretBox box = SecretBox.load(null, tmp.resolve("key-" + kind));
            GrantStore grants = new GrantStore(store, box, clock);
            String connection = "c-" + UUID.randomUUID();
            assertThat(grants.find(connection)).isEmpty();
            grants.authorized(connection, "fp1", "ada@contoso.test", "{\"cache\":1}");
            assertThat(grants.cache(connection)).contains("{\"cache\":1}");
            long read = grants.versionedCache(connection).orElseThrow().version();
            assertThat(grants.cacheChanged(connection, "{\"cache\":2}", read)).isTrue();
            assertThat(grants.cache(connection)).contains("{\"cache\":2}");
            // another instance refreshed from the same (now stale) copy: its write must not replace the newer grant
            assertThat(grants.cacheChanged(connection, "{\"cache\":\"stale\"}", read)).isFalse();
            assertThat(grants.cache(connection)).contains("{\"cache\":2}");
            assertThat(grants.exclusively(connection, () -> "held")).isEqualTo("held");
            grants.state(connection, GrantState.REAUTHORIZATION_REQUIRED, "AADSTS50173");
            Grant g = grants.find(connection).orElseThrow();
            assertThat(g.state()).isEqualTo(GrantState.REAUTHORIZATION_REQUIRED);
            assertThat(g.account()).contains("ada@contoso.test");
            grants.authorized(connection, "fp2", "ada@contoso.test", "{}");
            assertThat(grants.find(connection).orElseThrow().state()).isEqualTo(GrantState.AUTHORIZED);

            OAuthStates states = new OAuthStates(store.dataSource(), box, clock);
            OAuthStates.Pending p = states.create(connection);
            assertThat(states.consume(p.state()).verifier()).isEqualTo(p.verifier());
            OAuthStates.Pending consent = states.create(connection, OAuthStates.Purpose.ADMIN_CONSENT);
            assertThat(states.consume(consent.state()).purpose()).isEqualTo(OAuthStates.Purpose.ADMIN_CONSENT);
            assertThat(states.consume(states.create(connection).state()).purpose())
                    .isEqualTo(OAuthStates.Purpose.SIGN_IN);
        }
    }
}

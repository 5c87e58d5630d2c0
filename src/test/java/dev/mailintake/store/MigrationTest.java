package dev.mailintake.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import dev.mailintake.testsupport.PgSchema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Flyway migrations on H2 and PostgreSQL: an empty database gets every version; a store created by the release before
 * versioned migrations (its tables and rows, no history) is taken as version 1 and migrated, keeping its rows.
 */
class MigrationTest {
    @TempDir
    Path tmp;

    static Stream<String> stores() {
        return Stream.of("h2", "postgresql");
    }

    private final List<PgSchema> schemas = new ArrayList<>();

    @AfterEach
    void dropSchemas() {
        schemas.forEach(PgSchema::close);
    }

    /** A new, empty database (H2 file) or schema (PostgreSQL). */
    private StoreConfig empty(String kind) {
        if (kind.equals("h2")) {
            return new StoreConfig("jdbc:h2:file:" + tmp.resolve("store-" + UUID.randomUUID()), "sa", Optional.empty());
        }
        PgSchema schema = PgSchema.create("mi_migration");
        schemas.add(schema);
        return schema.storeConfig();
    }

    private static List<String> versions(StoreConfig config) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(config.url(), config.user(), "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT \"version\", \"type\" FROM \"mi_schema_history\" WHERE \"version\" IS NOT NULL ORDER BY \"installed_rank\"")) {
            while (rs.next()) {
                out.add(rs.getString(1) + ":" + rs.getString(2));
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("stores")
    void anEmptyDatabaseGetsEveryMigration(String kind) throws Exception {
        StoreConfig config = empty(kind);
        try (Store store = new Store(config)) {
            new Ledger(store, Clock.systemUTC()).recordDelivered("mb", "k1", "<a@x>", "/out/1",
                    new Ledger.Content("ab", 2L));
        }
        assertThat(versions(config)).containsExactly("1:SQL", "2:SQL", "3:SQL", "4:SQL", "5:SQL", "6:SQL");
        try (Store again = new Store(config)) { // a restart migrates nothing
            assertThat(new Ledger(again, Clock.systemUTC()).find("mb", "k1")).isPresent();
        }
        assertThat(versions(config)).hasSize(6);
    }

    @ParameterizedTest
    @MethodSource("stores")
    void thePreviousReleasesStoreIsUpgradedKeepingItsRows(String kind) throws Exception {
        StoreConfig config = empty(kind);
        String v1 = new String(MigrationTest.class.getResourceAsStream("/db/migration/V1__initial_schema.sql")
                .readAllBytes(), StandardCharsets.UTF_8);
        try (Connection c = DriverManager.getConnection(config.url(), config.user(), "");
             Statement st = c.createStatement()) {
            for (String statement : v1.replaceAll("(?m)^\\s*--.*$", "").split(";")) { // as that release created it
                if (!statement.isBlank()) {
                    st.execute(statement);
                }
            }
            st.execute("INSERT INTO mi_ledger (mailbox, message_key, internet_message_id, state, attempts, updated_at,"
                    + " location) VALUES ('mb', 'k0', '<old@x>', 'PROCESSED', 0, 1, '/out/0')");
            st.execute("INSERT INTO mi_oauth_states (state, connection, verifier, expires_at, used)"
                    + " VALUES ('s0', 'contoso', 'v', 1, 0)");
        }
        try (Store store = new Store(config)) {
            LedgerEntry old = new Ledger(store, Clock.systemUTC()).find("mb", "k0").orElseThrow();
            assertThat(old.state()).isEqualTo(LedgerState.PROCESSED);
            assertThat(old.location()).contains("/out/0");
            assertThat(old.contentSha256()).isEmpty();
            try (Connection c = store.dataSource().getConnection();
                 ResultSet rs = c.createStatement().executeQuery("SELECT started FROM mi_oauth_states")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).as("existing pending sign-ins get an order too").isPositive();
            }
        }
        assertThat(versions(config)).containsExactly("1:BASELINE", "2:SQL", "3:SQL", "4:SQL", "5:SQL", "6:SQL");
    }

    @org.junit.jupiter.api.Test
    void theNewestVersionTheStoreKnowsIsTheNewestMigrationFile() throws Exception {
        int newest;
        try (Stream<Path> files = java.nio.file.Files.list(Path.of("src/main/resources/db/migration"))) {
            newest = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .mapToInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__")))).max().orElseThrow();
        }
        assertThat(Store.SCHEMA_VERSION).as("Store.SCHEMA_VERSION after a new migration file").isEqualTo(newest);
    }

    /** A new store that the application has opened once (every migration applied). */
    private StoreConfig migrated(String kind) {
        StoreConfig config = empty(kind);
        new Store(config).close();
        return config;
    }

    private static void execute(StoreConfig config, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(config.url(), config.user(), "");
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /**
     * A restart of a current store does not run Flyway: a checksum Flyway would refuse ("migration checksum
     * mismatch") goes unnoticed. Its negative control: a failed migration in the history is Flyway's to handle.
     */
    @ParameterizedTest
    @MethodSource("stores")
    void aRestartOfACurrentStoreLeavesFlywayOut(String kind) throws Exception {
        StoreConfig config = migrated(kind);
        execute(config, "UPDATE \"mi_schema_history\" SET \"checksum\" = 42 WHERE \"version\" = '3'");
        try (Store again = new Store(config)) {
            assertThat(new Ledger(again, Clock.systemUTC()).find("mb", "none")).isEmpty();
        }
        execute(config, "UPDATE \"mi_schema_history\" SET \"success\" = FALSE WHERE \"version\" = '6'");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Store(config).close())
                .hasMessageContaining("cannot migrate the store schema");
    }

    /** Opening a new H2 store writes no error to H2's trace file (the history table is looked up, not selected from). */
    @org.junit.jupiter.api.Test
    void aNewH2StoreLeavesNoErrorInItsTraceFile() {
        Path file = tmp.resolve("traced");
        new Store(new StoreConfig("jdbc:h2:file:" + file, "sa", Optional.empty())).close();
        assertThat(tmp.resolve("traced.mv.db")).exists();
        assertThat(tmp.resolve("traced.trace.db")).doesNotExist();
    }

    /** A store one migration behind (the release before the newest) still gets it. */
    @ParameterizedTest
    @MethodSource("stores")
    void aStoreOneVersionBehindIsMigrated(String kind) throws Exception {
        StoreConfig config = migrated(kind);
        execute(config, "DELETE FROM \"mi_schema_history\" WHERE \"version\" = '6'");
        execute(config, "DROP TABLE mi_locks");
        try (Store again = new Store(config)) {
            try (Connection c = again.dataSource().getConnection();
                 ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM mi_locks")) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(versions(config)).hasSize(6);
    }

    @org.junit.jupiter.api.Test
    void instancesStartingTogetherOnAnEmptyPostgresqlSchemaBothMigrateIt() throws Exception {
        StoreConfig config = empty("postgresql");
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Callable<Boolean>> starts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                starts.add(() -> {
                    try (Store store = new Store(config)) {
                        return store.dataSource() != null;
                    }
                });
            }
            for (java.util.concurrent.Future<Boolean> f : pool.invokeAll(starts)) {
                assertThat(f.get()).isTrue(); // none fails with "Unable to baseline schema history table"
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(versions(config)).containsExactly("1:SQL", "2:SQL", "3:SQL", "4:SQL", "5:SQL", "6:SQL");
    }
}

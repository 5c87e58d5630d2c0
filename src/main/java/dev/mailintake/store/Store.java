package dev.mailintake.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mailintake.config.Secret;
import dev.mailintake.config.StoreConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC store (embedded H2 by default, PostgreSQL shared by several instances): a pooled {@link DataSource} whose
 * schema is migrated at start by Flyway from plain SQL that both databases accept.
 */
public final class Store implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Store.class);

    /** The newest migration in the jar, {@code db/migration/V<n>__*.sql} (MigrationTest keeps the two equal). */
    static final int SCHEMA_VERSION = 6;
    /** Flyway's history of the schema (a quoted, lower-case name in H2 and PostgreSQL alike). */
    private static final String HISTORY_TABLE = "mi_schema_history";

    /** The PostgreSQL advisory lock that serializes the instances' schema migrations ("MIGRATE" in ASCII). */
    private static final long MIGRATION_LOCK = 0x4d49475241544531L;

    private final HikariDataSource dataSource;
    private final boolean postgres;
    private final Durability durability;

    public Store(StoreConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.url());
        hc.setUsername(config.user());
        config.password().map(Secret::value).ifPresent(hc::setPassword);
        hc.setMaximumPoolSize(16);
        hc.setPoolName("mail-intake-store");
        if (config.url().startsWith("jdbc:h2:")) {
            hc.setDriverClassName("org.h2.Driver");
        } else if (config.url().startsWith("jdbc:postgresql:")) {
            hc.setDriverClassName("org.postgresql.Driver");
        }
        this.dataSource = new HikariDataSource(hc);
        this.postgres = config.url().startsWith("jdbc:postgresql:");
        this.durability = config.url().startsWith("jdbc:h2:") && !config.url().startsWith("jdbc:h2:mem:")
                ? new H2Checkpoints(dataSource) : Durability.AT_COMMIT;
        try {
            migrate();
            durability.persist();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        LOG.info("Store ready at {}", redact(config.url()));
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** How to make the commits so far survive a crash of this process (an H2 file writes them in the background). */
    public Durability durability() {
        return durability;
    }

    /**
     * Brings the schema to the current version with Flyway ({@code db/migration/V<n>__*.sql}, history in
     * {@code mi_schema_history}). A store created by a release before Flyway (its tables, no history) is taken as
     * version 1 and migrated from there. A store whose history already holds every migration of the jar, all of them
     * successful (a restart), is left as it is without Flyway: its class path scan and validation took ~0.3 s of
     * every start.
     */
    private void migrate() {
        if (schemaCurrent()) {
            return;
        }
        if (!postgres) {
            migrateNow();
            return;
        }
        // several instances starting at once on one PostgreSQL store: one migrates, the others wait and then find the
        // schema current (Flyway's own lock does not cover the first start of an empty schema)
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
            try {
                migrateNow();
            } finally {
                st.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot take the store's migration lock: " + e.getMessage(), e);
        }
    }

    /**
     * Whether the schema history records {@link #SCHEMA_VERSION} as the newest version and no failed migration. Any
     * other state (no history: a new store or one from before Flyway; an older or newer version; a failure) is
     * Flyway's to handle, including its refusal of a store that a newer release migrated.
     */
    private boolean schemaCurrent() {
        try (Connection c = dataSource.getConnection()) {
            // asked first, not found by a failing SELECT: H2 writes every failed statement to a .trace.db file
            try (ResultSet table = c.getMetaData().getTables(null, c.getSchema(), HISTORY_TABLE, null)) {
                if (!table.next()) {
                    return false; // a new store, or one from before Flyway
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT \"version\", \"success\""
                    + " FROM \"" + HISTORY_TABLE + "\" WHERE \"version\" IS NOT NULL")) {
                int newest = 0;
                while (rs.next()) {
                    if (!rs.getBoolean(2)) {
                        return false;
                    }
                    newest = Math.max(newest, Integer.parseInt(rs.getString(1)));
                }
                return newest == SCHEMA_VERSION;
            }
        } catch (SQLException | NumberFormatException e) {
            return false; // a history this release cannot read (versions it does not write): Flyway decides
        }
    }

    private void migrateNow() {
        try {
            MigrateResult result = Flyway.configure(Store.class.getClassLoader())
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .table(HISTORY_TABLE)
                    .baselineOnMigrate(true)
                    .baselineVersion("1")
                    .baselineDescription("store created before versioned migrations")
                    .load()
                    .migrate();
            if (result.migrationsExecuted > 0) {
                LOG.info("Store schema migrated to version {} ({} migration(s))", result.targetSchemaVersion,
                        result.migrationsExecuted);
            }
        } catch (FlywayException e) {
            throw new IllegalStateException("cannot migrate the store schema: " + e.getMessage(), e);
        }
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^;&]*", "$1****");
    }

    @Override
    public void close() {
        dataSource.close();
    }
}

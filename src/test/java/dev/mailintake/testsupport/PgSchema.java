package dev.mailintake.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh schema of the local PostgreSQL ({@code 127.0.0.1:5432}, database {@code test}, user {@code postgres}) for one
 * test, dropped when closed, so that runs never see each other's tables (CI runs on the same server). The test is
 * skipped where PostgreSQL is not reachable; CI requires it.
 */
public final class PgSchema implements AutoCloseable {
    public static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/test";

    private final String name;

    private PgSchema(String name) {
        this.name = name;
    }

    public static PgSchema create(String prefix) {
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(SERVER, "postgres", ""); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + name);
        } catch (SQLException e) {
            Assumptions.assumeTrue(false, "PostgreSQL not reachable at " + SERVER + " (runs in CI): " + e.getMessage());
        }
        return new PgSchema(name);
    }

    /** The JDBC URL of the schema (user {@code postgres}, no password). */
    public String url() {
        return SERVER + "?currentSchema=" + name;
    }

    public dev.mailintake.config.StoreConfig storeConfig() {
        return new dev.mailintake.config.StoreConfig(url(), "postgres", Optional.empty());
    }

    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(SERVER, "postgres", ""); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop schema " + name, e);
        }
    }
}

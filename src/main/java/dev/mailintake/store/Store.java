package dev.mailintake.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mailintake.config.Secret;
import dev.mailintake.config.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC store (embedded H2 by default, PostgreSQL when clustered): a pooled {@link DataSource} whose schema is
 * created at start from plain SQL that both databases accept.
 */
public final class Store implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Store.class);
    private static final String SCHEMA = "/db/schema.sql";

    private final HikariDataSource dataSource;

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
        try {
            createSchema();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        LOG.info("Store ready at {}", redact(config.url()));
    }

    public DataSource dataSource() {
        return dataSource;
    }

    private void createSchema() {
        String sql;
        try (InputStream in = Store.class.getResourceAsStream(SCHEMA)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA + " missing from the classpath");
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SCHEMA, e);
        }
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            for (String statement : sql.replaceAll("(?m)^\\s*--.*$", "").split(";")) {
                String s = statement.strip();
                if (!s.isEmpty()) {
                    st.execute(s);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the store schema: " + e.getMessage(), e);
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

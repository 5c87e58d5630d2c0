package dev.mailintake.ops;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * {@code /observe/health/ready}: the store (ledger, grants, sign-ins) answers. Without it no message can be claimed,
 * recorded or moved, so the instance is not ready; it is still alive (the pool reconnects when the database is back).
 */
public final class StoreHealthCheck extends AbstractHealthCheck {
    private final DataSource dataSource;

    public StoreHealthCheck(DataSource dataSource) {
        super("mailintake", "store");
        this.dataSource = dataSource;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        try (Connection c = dataSource.getConnection()) {
            if (c.isValid(5)) {
                builder.up();
            } else {
                builder.message("the store did not answer within 5 s");
                builder.down();
            }
        } catch (SQLException e) {
            builder.message("the store cannot be reached: " + e.getMessage());
            builder.down();
        }
    }
}

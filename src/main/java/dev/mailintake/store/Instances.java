package dev.mailintake.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The instances running on one store ({@code mi_instances}), each with a heartbeat. An instance without a cluster
 * service must be alone on its store: two of them would import every mailbox twice.
 */
public final class Instances {
    /** An instance whose heartbeat is older than this is gone (a crash, kill -9). */
    public static final Duration ALIVE = Duration.ofSeconds(30);

    /** Another instance on the store. */
    public record Instance(String id, String host, String clusterService, long heartbeatAgeSeconds,
                           java.util.Set<String> owns) {
    }

    private final DataSource dataSource;
    private final Clock clock;

    public Instances(DataSource dataSource, Clock clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    /** The other instances whose heartbeat is recent. */
    public List<Instance> othersAlive(String self) {
        long now = clock.millis();
        List<Instance> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT instance_id, host, cluster_service, heartbeat_at, owns"
                     + " FROM mi_instances WHERE instance_id <> ? AND heartbeat_at >= ?")) {
            ps.setString(1, self);
            ps.setLong(2, now - ALIVE.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String owns = rs.getString(5);
                    out.add(new Instance(rs.getString(1), rs.getString(2), rs.getString(3),
                            (now - rs.getLong(4)) / 1000, owns == null || owns.isEmpty() ? java.util.Set.of()
                            : java.util.Set.of(owns.split(","))));
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the instances", e);
        }
        return out;
    }

    /** Registers (or re-registers after a restart) this instance; also its heartbeat, with what it owns now. */
    public void heartbeat(String self, String host, String clusterService, java.util.Collection<String> owns) {
        long now = clock.millis();
        String owned = String.join(",", new java.util.TreeSet<>(owns));
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE mi_instances SET host = ?, cluster_service = ?,"
                    + " heartbeat_at = ?, owns = ? WHERE instance_id = ?")) {
                ps.setString(1, host);
                ps.setString(2, clusterService);
                ps.setLong(3, now);
                ps.setString(4, owned);
                ps.setString(5, self);
                if (ps.executeUpdate() == 1) {
                    return;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO mi_instances (instance_id, host,"
                    + " cluster_service, started_at, heartbeat_at, owns) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, self);
                ps.setString(2, host);
                ps.setString(3, clusterService);
                ps.setLong(4, now);
                ps.setLong(5, now);
                ps.setString(6, owned);
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw new StoreException("cannot record this instance's heartbeat", e);
        }
    }

    /** A clean stop: this instance is no longer on the store. */
    public void leave(String self) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM mi_instances WHERE instance_id = ?")) {
            ps.setString(1, self);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot remove this instance", e);
        }
    }
}

package dev.mailintake.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Which instance imports a message now, when several instances share the store (the fencing of scale-out). A claim is
 * an atomic conditional write: an insert, or the take-over of a claim whose lease ran out (its instance died or was
 * paused); it is renewed — only if still held — right before the delivery, so an instance that lost the mailbox during
 * a pause finds its claim taken and delivers nothing. A single instance needs none of this: {@link #NONE}.
 */
public interface Claims {
    /** Claims that do nothing: one instance owns every mailbox. */
    Claims NONE = new Claims() {
        @Override
        public Optional<String> claim(String mailbox, String key) {
            return Optional.empty();
        }

        @Override
        public boolean stillHeld(String mailbox, String key) {
            return true;
        }

        @Override
        public void release(String mailbox, String key) {
        }
    };

    /** Takes the message for this instance; the instance that holds it otherwise (then this one must leave it). */
    Optional<String> claim(String mailbox, String key);

    /** Renews the claim if this instance still holds it (just before delivering); false when it was taken over. */
    boolean stillHeld(String mailbox, String key);

    /** The message is done (moved): the claim goes. */
    void release(String mailbox, String key);

    /** Claims in the store's {@code mi_claims} for instance {@code owner}, with leases of {@code lease}. */
    static Claims jdbc(DataSource dataSource, String owner, Duration lease, Clock clock) {
        return new Jdbc(dataSource, owner, lease, clock);
    }

    /** The JDBC claims: portable SQL (H2 and PostgreSQL). */
    final class Jdbc implements Claims {
        private final DataSource dataSource;
        private final String owner;
        private final Duration lease;
        private final Clock clock;

        Jdbc(DataSource dataSource, String owner, Duration lease, Clock clock) {
            this.dataSource = dataSource;
            this.owner = owner;
            this.lease = lease;
            this.clock = clock;
        }

        @Override
        public Optional<String> claim(String mailbox, String key) {
            long now = clock.millis();
            try (Connection c = dataSource.getConnection()) {
                // ours already, or a lease that ran out: taken over in one conditional update
                if (update(c, "UPDATE mi_claims SET owner = ?, claimed_at = ? WHERE mailbox = ? AND message_key = ?"
                        + " AND (owner = ? OR claimed_at < ?)", owner, now, mailbox, key, owner,
                        now - lease.toMillis()) == 1) {
                    return Optional.empty();
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO mi_claims (mailbox, message_key, owner,"
                        + " claimed_at) VALUES (?, ?, ?, ?)")) {
                    ps.setString(1, mailbox);
                    ps.setString(2, key);
                    ps.setString(3, owner);
                    ps.setLong(4, now);
                    ps.executeUpdate();
                    return Optional.empty();
                } catch (SQLException taken) {
                    return Optional.of(holder(c, mailbox, key).orElse("another instance"));
                }
            } catch (SQLException e) {
                throw new StoreException("cannot claim a message", e);
            }
        }

        @Override
        public boolean stillHeld(String mailbox, String key) {
            try (Connection c = dataSource.getConnection()) {
                return update(c, "UPDATE mi_claims SET claimed_at = ? WHERE mailbox = ? AND message_key = ?"
                        + " AND owner = ?", clock.millis(), mailbox, key, owner) == 1;
            } catch (SQLException e) {
                throw new StoreException("cannot renew a claim", e);
            }
        }

        @Override
        public void release(String mailbox, String key) {
            try (Connection c = dataSource.getConnection()) {
                update(c, "DELETE FROM mi_claims WHERE mailbox = ? AND message_key = ? AND owner = ?", mailbox, key,
                        owner);
            } catch (SQLException e) {
                throw new StoreException("cannot release a claim", e);
            }
        }

        private static Optional<String> holder(Connection c, String mailbox, String key) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT owner FROM mi_claims WHERE mailbox = ?"
                    + " AND message_key = ?")) {
                ps.setString(1, mailbox);
                ps.setString(2, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        }

        private static int update(Connection c, String sql, Object... args) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                return ps.executeUpdate();
            }
        }
    }
}

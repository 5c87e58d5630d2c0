package dev.mailintake.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Delegated grants per connection in the JDBC store. The token cache (refresh token included) is kept encrypted
 * by {@link SecretBox}; everything else is plain so that operators can see the state.
 */
public final class GrantStore {
    private final DataSource dataSource;
    private final SecretBox box;
    private final Clock clock;

    public GrantStore(DataSource dataSource, SecretBox box, Clock clock) {
        this.dataSource = dataSource;
        this.box = box;
        this.clock = clock;
    }

    public Optional<Grant> find(String connection) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT fingerprint, account, state, reason, authorized_at,"
                     + " refreshed_at FROM mi_grants WHERE connection = ?")) {
            ps.setString(1, connection);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Grant(connection, rs.getString(1), Optional.ofNullable(rs.getString(2)),
                        GrantState.valueOf(rs.getString(3)), Optional.ofNullable(rs.getString(4)), instant(rs, 5),
                        instant(rs, 6)));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the grant of connection '" + connection + "'", e);
        }
    }

    /**
     * The decrypted token cache, if any. A cache that cannot be decrypted (the key changed) marks the grant
     * re-authorization required and reads as none, so that a new sign-in can replace it.
     */
    public Optional<String> cache(String connection) {
        String encrypted;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT cache FROM mi_grants WHERE connection = ?")) {
            ps.setString(1, connection);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return Optional.empty();
                }
                encrypted = rs.getString(1);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the grant of connection '" + connection + "'", e);
        }
        try {
            return Optional.of(box.decrypt(encrypted, connection));
        } catch (IllegalStateException e) {
            // a lost or changed key: the grant is unusable, but a new sign-in must be able to replace it
            state(connection, GrantState.REAUTHORIZATION_REQUIRED, "re-authorization required: the stored grant cannot"
                    + " be decrypted with this store key (MAILINTAKE_STORE_KEY or <data-dir>/store.key changed); sign in again");
            return Optional.empty();
        }
    }

    /** A new authorization: replaces whatever was there. */
    public void authorized(String connection, String fingerprint, String account, String cache) {
        long now = clock.millis();
        String encrypted = box.encrypt(cache, connection);
        int n = update("UPDATE mi_grants SET fingerprint = ?, cache = ?, account = ?, state = 'AUTHORIZED', reason = NULL,"
                + " authorized_at = ?, refreshed_at = ?, updated_at = ? WHERE connection = ?",
                fingerprint, encrypted, account, now, now, now, connection);
        if (n == 0) {
            try {
                update("INSERT INTO mi_grants (connection, fingerprint, cache, account, state, authorized_at,"
                        + " refreshed_at, updated_at) VALUES (?, ?, ?, ?, 'AUTHORIZED', ?, ?, ?)",
                        connection, fingerprint, encrypted, account, now, now, now);
            } catch (StoreException raced) {
                authorized(connection, fingerprint, account, cache);
            }
        }
    }

    /** The token cache changed (e.g. a rotated refresh token): always saved. */
    public void cacheChanged(String connection, String cache, boolean refreshed) {
        long now = clock.millis();
        update("UPDATE mi_grants SET cache = ?, updated_at = ?"
                + (refreshed ? ", refreshed_at = " + now : "") + " WHERE connection = ?",
                box.encrypt(cache, connection), now, connection);
    }

    public void state(String connection, GrantState state, String reason) {
        update("UPDATE mi_grants SET state = ?, reason = ?, updated_at = ? WHERE connection = ?",
                state.name(), reason, clock.millis(), connection);
    }

    private int update(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot save a grant", e);
        }
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }
}

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
    private final Durability durability;
    private final SecretBox box;
    private final Clock clock;

    /** Every grant written is made durable at once ({@link Store#durability()}): a rotated refresh token must not be lost. */
    public GrantStore(Store store, SecretBox box, Clock clock) {
        this.dataSource = store.dataSource();
        this.durability = store.durability();
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
        return versionedCache(connection).map(Cache::value);
    }

    /** A grant's decrypted token cache and the version it was read at (for {@link #cacheChanged(String, String, long)}). */
    public record Cache(String value, long version) {
        @Override
        public String toString() {
            return "Cache[****, version=" + version + "]";
        }
    }

    /** The decrypted token cache with its version; see {@link #cache}. */
    public Optional<Cache> versionedCache(String connection) {
        String encrypted;
        long version;
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT cache, version FROM mi_grants WHERE connection = ?")) {
            ps.setString(1, connection);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return Optional.empty();
                }
                encrypted = rs.getString(1);
                version = rs.getLong(2);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the grant of connection '" + connection + "'", e);
        }
        try {
            return Optional.of(new Cache(box.decrypt(encrypted, connection), version));
        } catch (IllegalStateException e) {
            // a lost or changed key: the grant is unusable, but a new sign-in must be able to replace it
            state(connection, GrantState.REAUTHORIZATION_REQUIRED, "re-authorization required: the stored grant cannot"
                    + " be decrypted with this store key (MAILINTAKE_STORE_KEY or <data-dir>/store.key changed); sign in again");
            return Optional.empty();
        }
    }

    /**
     * The grant's version, which every write of its tokens moves on (0 without a grant): a token request that finds it
     * moved while it waited for {@link #exclusively} knows another instance has just got new tokens.
     */
    public long version(String connection) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT version FROM mi_grants WHERE connection = ?")) {
            ps.setString(1, connection);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the grant of connection '" + connection + "'", e);
        }
    }

    /** A new authorization: replaces whatever was there. */
    public void authorized(String connection, String fingerprint, String account, String cache) {
        long now = clock.millis();
        String encrypted = box.encrypt(cache, connection);
        int n = update("UPDATE mi_grants SET fingerprint = ?, cache = ?, account = ?, state = 'AUTHORIZED', reason = NULL,"
                + " authorized_at = ?, refreshed_at = ?, updated_at = ?, version = version + 1 WHERE connection = ?",
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

    /**
     * The token cache changed (e.g. a rotated refresh token), written over the version it was read at: another
     * instance's newer write is never overwritten by one made from a stale copy.
     *
     * @return false when the stored grant had changed meanwhile (nothing written; the next use reads the newer one)
     */
    public boolean cacheChanged(String connection, String cache, long readVersion) {
        long now = clock.millis();
        return update("UPDATE mi_grants SET cache = ?, updated_at = ?, refreshed_at = ?, version = version + 1"
                + " WHERE connection = ? AND version = ?", box.encrypt(cache, connection), now, now, connection,
                readVersion) == 1;
    }

    /**
     * One token request for a connection at a time across every instance on the store: runs {@code acquire} under
     * the connection's refresh lock ({@link #exclusively}), so a waiting instance then finds the token the other just
     * got (the cache is read inside the lock). A forced refresh (the refresh round, "Refresh tokens now" on another
     * instance, a 401) that waited while another instance refreshed the grant does not force another: the grant was
     * refreshed after it asked, which is what it asked for.
     *
     * @param acquire gets the token; its argument says whether to refresh even a valid cached one
     */
    public <T> T acquireOnce(String connection, boolean forceRefresh, java.util.function.Function<Boolean, T> acquire) {
        long seen = forceRefresh ? version(connection) : 0;
        return exclusively(connection, () -> {
            boolean refreshedMeanwhile = forceRefresh && version(connection) != seen;
            if (refreshedMeanwhile) {
                org.slf4j.LoggerFactory.getLogger(GrantStore.class).info("connection '{}': another instance got new"
                        + " tokens while this one waited; using them", connection);
            }
            return acquire.apply(forceRefresh && !refreshedMeanwhile);
        });
    }

    /**
     * Runs {@code action} while holding the connection's refresh lock, across every instance on the store (a row of
     * {@code mi_locks} held FOR UPDATE in a transaction of its own): one token refresh of a connection at a time.
     */
    public <T> T exclusively(String connection, java.util.function.Supplier<T> action) {
        String name = "grant:" + connection;
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO mi_locks (name) VALUES (?)")) {
                ps.setString(1, name);
                ps.executeUpdate();
            } catch (SQLException exists) {
                // the lock's row is there already (the usual case)
            }
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT name FROM mi_locks WHERE name = ? FOR UPDATE")) {
                    ps.setString(1, name);
                    ps.executeQuery().close();
                }
                return action.get();
            } finally {
                c.commit();
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot take the refresh lock of connection '" + connection + "'", e);
        }
    }

    public void state(String connection, GrantState state, String reason) {
        update("UPDATE mi_grants SET state = ?, reason = ?, updated_at = ? WHERE connection = ?",
                state.name(), reason, clock.millis(), connection);
    }

    private int update(String sql, Object... args) {
        int n;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            n = ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot save a grant", e);
        }
        if (n > 0) {
            durability.persist();
        }
        return n;
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }
}

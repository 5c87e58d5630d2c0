package dev.mailintake.store;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.sql.DataSource;

/**
 * One-time OAuth {@code state} values bound to a connection and to what they were started for ({@link Purpose}: a
 * sign-in or an administrator's consent, whose answers come back to the same redirect URI), with the PKCE code
 * verifier, kept server-side in the store (so they survive restarts and work across instances) and expiring after
 * {@link #LIFETIME}. Only the newest {@link #MAX_PENDING} per connection are kept: starting sign-ins over and over
 * cannot grow the store, and an older start's answer is then refused as unknown.
 */
public final class OAuthStates {
    public static final Duration LIFETIME = Duration.ofMinutes(10);
    /** Sign-ins kept per connection; the oldest are dropped. */
    public static final int MAX_PENDING = 20;

    /** What a state was started for; stored as {@link #column()}. */
    public enum Purpose {
        /** A user's sign-in (authorization code with PKCE). */
        SIGN_IN("sign-in"),
        /** A tenant administrator's consent for every user (Entra's admin consent endpoint). */
        ADMIN_CONSENT("admin-consent");

        private final String column;

        Purpose(String column) {
            this.column = column;
        }

        public String column() {
            return column;
        }

        static Purpose of(String column) {
            for (Purpose p : values()) {
                if (p.column.equals(column)) {
                    return p;
                }
            }
            throw new StoreException("unknown authorization purpose '" + column + "' in mi_oauth_states", null);
        }
    }

    /** A started authorization. */
    public record Pending(String state, String connection, String verifier, Purpose purpose) {
        @Override
        public String toString() {
            return "Pending[connection=" + connection + ", purpose=" + purpose.column() + "]";
        }
    }

    /** Why a returned {@code state} is refused. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    private final DataSource dataSource;
    private final SecretBox box;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public OAuthStates(DataSource dataSource, SecretBox box, Clock clock) {
        this.dataSource = dataSource;
        this.box = box;
        this.clock = clock;
    }

    /** A new sign-in. */
    public Pending create(String connection) {
        return create(connection, Purpose.SIGN_IN);
    }

    public Pending create(String connection, Purpose purpose) {
        String state = randomToken(32);
        String verifier = randomToken(48);
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO mi_oauth_states (state, connection, verifier,"
                     + " expires_at, used, purpose) VALUES (?, ?, ?, ?, 0, ?)")) {
            ps.setString(1, state);
            ps.setString(2, connection);
            ps.setString(3, box.encrypt(verifier, state));
            ps.setLong(4, clock.instant().plus(LIFETIME).toEpochMilli());
            ps.setString(5, purpose.column());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot store an authorization state", e);
        }
        dropOldest(connection);
        purgeExpired();
        return new Pending(state, connection, verifier, purpose);
    }

    /** Takes a returned state once: unknown, expired or replayed states are refused. */
    public Pending consume(String state) throws Refused {
        if (state == null || state.isBlank() || state.length() > 100) {
            throw new Refused("the request carries no valid state; start the authorization again from Mail Intake");
        }
        try (Connection c = dataSource.getConnection()) {
            String connection;
            String verifier;
            long expires;
            String purpose;
            try (PreparedStatement ps = c.prepareStatement("SELECT connection, verifier, expires_at, used, purpose FROM"
                    + " mi_oauth_states WHERE state = ?")) {
                ps.setString(1, state);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new Refused("unknown state: this answer was not started by Mail Intake (or is very old);"
                                + " start the authorization again");
                    }
                    if (rs.getInt(4) != 0) {
                        throw new Refused("this authorization answer was already used; start the authorization again");
                    }
                    connection = rs.getString(1);
                    verifier = rs.getString(2);
                    expires = rs.getLong(3);
                    purpose = rs.getString(5);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE mi_oauth_states SET used = 1 WHERE state = ? AND used = 0")) {
                ps.setString(1, state);
                if (ps.executeUpdate() != 1) {
                    throw new Refused("this authorization answer was already used; start the authorization again");
                }
            }
            if (clock.millis() > expires) {
                throw new Refused("the authorization took longer than " + LIFETIME.toMinutes()
                        + " minutes and expired; start it again");
            }
            return new Pending(state, connection, box.decrypt(verifier, state), Purpose.of(purpose));
        } catch (SQLException e) {
            throw new StoreException("cannot read an authorization state", e);
        }
    }

    /** Keeps the newest {@link #MAX_PENDING} of the connection (plain SQL for H2 and PostgreSQL). */
    private void dropOldest(String connection) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM mi_oauth_states WHERE connection = ? AND started <="
                     + " (SELECT started FROM mi_oauth_states WHERE connection = ? ORDER BY started DESC"
                     + " OFFSET " + MAX_PENDING + " ROWS FETCH NEXT 1 ROWS ONLY)")) {
            ps.setString(1, connection);
            ps.setString(2, connection);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot drop old authorization states", e);
        }
    }

    private void purgeExpired() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM mi_oauth_states WHERE expires_at < ?")) {
            ps.setLong(1, clock.instant().minus(Duration.ofDays(1)).toEpochMilli());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot purge authorization states", e);
        }
    }

    private String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}

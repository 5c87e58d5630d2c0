package dev.mailintake.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The exactly-once ledger: deliver → record → move. A message found here as delivered is only moved, never delivered
 * again. Key: the protocol's stable id (Graph immutable id, IMAP {@code UIDVALIDITY/UID}); the Internet-Message-Id and
 * the hash of the raw message only recognise the same bytes under a new key.
 */
public final class Ledger {
    private static final String COLUMNS = "mailbox, message_key, internet_message_id, state, reason, attempts,"
            + " first_failure_at, delivered_at, location, content_sha256, content_size";

    private final DataSource dataSource;
    private final Durability durability;
    private final Clock clock;

    public Ledger(Store store, Clock clock) {
        this.dataSource = store.dataSource();
        this.durability = store.durability();
        this.clock = clock;
    }

    /**
     * Makes every record so far survive a crash of this process. Called before a step that depends on them (a move
     * out of the Inbox, a hand-over after {@code DELIVERING}); the records after a move ({@code PROCESSED},
     * {@code ERROR}) and failure counts need not be: lost, they leave a row one state behind, which the next poll
     * does not act on.
     */
    public void persist() {
        durability.persist();
    }

    /** What is known of a message's raw bytes: their SHA-256 (hex) and size, each null when unknown. */
    public record Content(String sha256, Long size) {
        public static final Content UNKNOWN = new Content(null, null);
    }

    public Optional<LedgerEntry> find(String mailbox, String key) {
        return queryOne("SELECT " + COLUMNS + " FROM mi_ledger WHERE mailbox = ? AND message_key = ?", mailbox, key);
    }

    /**
     * Other messages (other keys) with the same Internet-Message-Id that were delivered or sent to Error: candidates
     * for "the same message under a new key" (IMAP: a new UID after a move back from Error or a UIDVALIDITY change).
     * Only a candidate whose {@link LedgerEntry#contentSha256()} matches the new message's bytes is that message.
     */
    public List<LedgerEntry> twins(String mailbox, String key, String internetMessageId) {
        if (internetMessageId == null || internetMessageId.isBlank()) {
            return List.of();
        }
        return query("SELECT " + COLUMNS + " FROM mi_ledger WHERE mailbox = ? AND internet_message_id = ?"
                + " AND message_key <> ? AND state IN ('DELIVERED', 'PROCESSED', 'REJECTED', 'ERROR')"
                + " ORDER BY updated_at", mailbox, internetMessageId, key);
    }

    public void recordDelivered(String mailbox, String key, String internetMessageId, String location,
                                Content content) {
        recordDelivered(mailbox, key, internetMessageId, location, content, false);
    }

    /**
     * @param probablyNew the caller found no entry for this key when it claimed the message: try the INSERT first (one
     *                    statement instead of an UPDATE that finds nothing and then the INSERT); if the row exists
     *                    after all, the INSERT fails and the UPDATE records it, as when {@code false}
     */
    public void recordDelivered(String mailbox, String key, String internetMessageId, String location,
                                Content content, boolean probablyNew) {
        long now = clock.millis();
        Upsert write = probablyNew ? this::insertOrUpdate : this::upsert;
        write.run(mailbox, key, internetMessageId,
                "UPDATE mi_ledger SET state = 'DELIVERED', reason = NULL, delivered_at = ?, updated_at = ?, location = ?,"
                        + " content_sha256 = ?, content_size = ? WHERE mailbox = ? AND message_key = ?",
                new Object[] {now, now, location, content.sha256(), content.size(), mailbox, key},
                LedgerState.DELIVERED, null, 0, null, now, location, content);
    }

    /** About to hand the message to the target (see {@link LedgerState#DELIVERING}); keeps a failure count. */
    public void recordDelivering(String mailbox, String key, String internetMessageId) {
        recordDelivering(mailbox, key, internetMessageId, false);
    }

    /** @param probablyNew as for {@link #recordDelivered(String, String, String, String, Content, boolean)} */
    public void recordDelivering(String mailbox, String key, String internetMessageId, boolean probablyNew) {
        long now = clock.millis();
        Upsert write = probablyNew ? this::insertOrUpdate : this::upsert;
        write.run(mailbox, key, internetMessageId,
                "UPDATE mi_ledger SET state = 'DELIVERING', updated_at = ? WHERE mailbox = ? AND message_key = ?",
                new Object[] {now, mailbox, key},
                LedgerState.DELIVERING, null, 0, null, null, null, Content.UNKNOWN);
    }

    public void recordProcessed(String mailbox, String key) {
        update("UPDATE mi_ledger SET state = 'PROCESSED', updated_at = ? WHERE mailbox = ? AND message_key = ?",
                clock.millis(), mailbox, key);
    }

    /** {@link #recordProcessed(String, String)} for several messages moved together, in one statement. */
    public void recordProcessed(String mailbox, Collection<String> keys) {
        recordMoved(LedgerState.PROCESSED, mailbox, keys);
    }

    /** {@link #recordError(String, String)} for several messages moved together, in one statement. */
    public void recordError(String mailbox, Collection<String> keys) {
        recordMoved(LedgerState.ERROR, mailbox, keys);
    }

    private void recordMoved(LedgerState state, String mailbox, Collection<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        List<Object> args = new ArrayList<>(List.of(state.name(), clock.millis(), mailbox));
        args.addAll(keys);
        update("UPDATE mi_ledger SET state = ?, updated_at = ? WHERE mailbox = ? AND message_key IN ("
                + String.join(", ", Collections.nCopies(keys.size(), "?")) + ")", args.toArray());
    }

    /** @param content what is known of the raw message (nothing, its listed size, or its hash and size) */
    public void recordRejected(String mailbox, String key, String internetMessageId, String reason, Content content) {
        long now = clock.millis();
        upsert(mailbox, key, internetMessageId,
                "UPDATE mi_ledger SET state = 'REJECTED', reason = ?, updated_at = ?,"
                        + " content_sha256 = COALESCE(?, content_sha256), content_size = COALESCE(?, content_size)"
                        + " WHERE mailbox = ? AND message_key = ?",
                new Object[] {truncate(reason), now, content.sha256(), content.size(), mailbox, key},
                LedgerState.REJECTED, reason, 0, null, null, null, content);
    }

    public void recordError(String mailbox, String key) {
        update("UPDATE mi_ledger SET state = 'ERROR', updated_at = ? WHERE mailbox = ? AND message_key = ?",
                clock.millis(), mailbox, key);
    }

    /**
     * Counts one more failed delivery and returns the entry as it is now.
     *
     * @param failingSince stored as {@code first_failure_at} on the first failure only
     */
    public LedgerEntry recordDeliveryFailure(String mailbox, String key, String internetMessageId, String reason,
                                             Instant failingSince) {
        long now = clock.millis();
        long since = failingSince.toEpochMilli();
        upsert(mailbox, key, internetMessageId,
                "UPDATE mi_ledger SET state = 'FAILING', reason = ?, attempts = attempts + 1,"
                        + " first_failure_at = COALESCE(first_failure_at, ?), updated_at = ?"
                        + " WHERE mailbox = ? AND message_key = ?",
                new Object[] {truncate(reason), since, now, mailbox, key},
                LedgerState.FAILING, reason, 1, since, null, null, Content.UNKNOWN);
        return find(mailbox, key).orElseThrow();
    }

    /** Forgets a message so that it is imported afresh (an operator moved it back from Error to the Inbox). */
    public void forget(String mailbox, String key) {
        update("DELETE FROM mi_ledger WHERE mailbox = ? AND message_key = ?", mailbox, key);
    }

    public long count(String mailbox, LedgerState state) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM mi_ledger WHERE mailbox = ? AND state = ?")) {
            ps.setString(1, mailbox);
            ps.setString(2, state.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot count ledger entries", e);
        }
    }

    @FunctionalInterface
    private interface Upsert {
        void run(String mailbox, String key, String internetMessageId, String updateSql, Object[] updateArgs,
                 LedgerState state, String reason, int attempts, Long firstFailure, Long deliveredAt, String location,
                 Content content);
    }

    private void upsert(String mailbox, String key, String internetMessageId, String updateSql, Object[] updateArgs,
                        LedgerState state, String reason, int attempts, Long firstFailure, Long deliveredAt,
                        String location, Content content) {
        // portable upsert (H2 and PostgreSQL): update, else insert, else (lost a race) update again
        if (update(updateSql, updateArgs) > 0) {
            return;
        }
        insertOrUpdate(mailbox, key, internetMessageId, updateSql, updateArgs, state, reason, attempts, firstFailure,
                deliveredAt, location, content);
    }

    /** Insert; if that fails (the row exists: a race, or an entry the caller did not expect), update. */
    private void insertOrUpdate(String mailbox, String key, String internetMessageId, String updateSql,
                                Object[] updateArgs, LedgerState state, String reason, int attempts, Long firstFailure,
                                Long deliveredAt, String location, Content content) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO mi_ledger (" + COLUMNS + ", updated_at)"
                     + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            bind(ps, mailbox, key, internetMessageId, state.name(), truncate(reason), attempts, firstFailure,
                    deliveredAt, location, content.sha256(), content.size(), clock.millis());
            ps.executeUpdate();
        } catch (SQLException e) {
            if (update(updateSql, updateArgs) == 0) {
                throw new StoreException("cannot record " + state + " in the ledger", e);
            }
        }
    }

    private int update(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("ledger update failed", e);
        }
    }

    private Optional<LedgerEntry> queryOne(String sql, Object... args) {
        return query(sql, args).stream().findFirst();
    }

    private List<LedgerEntry> query(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<LedgerEntry> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new LedgerEntry(rs.getString(1), rs.getString(2), Optional.ofNullable(rs.getString(3)),
                            LedgerState.valueOf(rs.getString(4)), Optional.ofNullable(rs.getString(5)), rs.getInt(6),
                            instant(rs, 7), instant(rs, 8), Optional.ofNullable(rs.getString(9)),
                            Optional.ofNullable(rs.getString(10)), longValue(rs, 11)));
                }
                return out;
            }
        } catch (SQLException e) {
            throw new StoreException("ledger query failed", e);
        }
    }

    private static Optional<Long> longValue(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(v);
    }

    private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                ps.setObject(i + 1, null);
            } else if (a instanceof Long l) {
                ps.setLong(i + 1, l);
            } else if (a instanceof Integer n) {
                ps.setInt(i + 1, n);
            } else {
                ps.setString(i + 1, a.toString());
            }
        }
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 2000 ? s : s.substring(0, 2000);
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LogCapture;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What start-up cleans up, and what it releases when it fails, through the real application. */
class StartupTest {
    private static final String K = "mailintake.mailboxes.invoices.";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    @Test
    void aConfigurationErrorAfterTheStoreOpenedClosesTheStore() throws Exception {
        Path data = tmp.resolve("data");
        Map<String, String> s = TestApp.imapMailbox(data, fake, 1143, tmp.resolve("out"));
        // readable, so the configuration check passes; not a PKCS#12 file, so building the mailbox fails
        Path garbage = Files.writeString(tmp.resolve("not-a-trust-store.p12"), "not a key store");
        s.put(K + "imap.trust-store", garbage.toString());

        assertThatThrownBy(() -> TestApp.start(s)).rootCause()
                .hasMessageContaining("mailintake.mailboxes.invoices: cannot load trust store");

        // the store was opened (its schema exists) and closed again: ours is the only session on the H2 file
        String url = "jdbc:h2:file:" + data.toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE;IFEXISTS=TRUE";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             Statement st = c.createStatement();
             ResultSet sessions = st.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS")) {
            sessions.next();
            assertThat(sessions.getInt(1)).as("sessions left open by the failed start").isEqualTo(1);
        }

        s.remove(K + "imap.trust-store");
        app = TestApp.start(s);
        assertThat(app.camel().getStatus().isStarted()).isTrue();
    }

    @Test
    void leftoversOfInterruptedImportsAreRemovedBeforeAnyImportAndNothingElse() throws Exception {
        Path data = tmp.resolve("data");
        Path out = tmp.resolve("out");
        Map<String, String> s = TestApp.invoicesMailbox(data, fake, out);
        s.put(K + "poll", "1h");
        s.put("mailintake.mailboxes.orders.connection", "contoso");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.poll", "1h");
        s.put("mailintake.mailboxes.orders.target", "file:" + tmp.resolve("orders-out"));

        // what kill -9 leaves: spool folders in the folder target's .incoming and in the endpoint target's spool
        Path incoming = out.resolve(".incoming");
        leftover(incoming.resolve(uuid()), "message.eml");
        leftover(incoming.resolve(uuid()).resolve("attachments"), "invoice.pdf");
        Path ordersSpool = data.resolve("spool").resolve("orders");
        leftover(ordersSpool.resolve(uuid()), "message.eml");
        // a link out of the spool is removed as a link; what it points at stays
        Path outside = leftover(tmp.resolve("elsewhere"), "keep.txt");
        Files.createSymbolicLink(incoming.resolve(uuid()), outside.getParent());
        // delivered messages and anything not named like a spool folder stay
        Path delivered = leftover(out.resolve("2026-11-20").resolve("20261120T080000Z-0123456789abcdef0123"),
                "message.eml");
        Path notOurs = leftover(incoming.resolve("notes"), "readme.txt");

        try (LogCapture log = LogCapture.of(MailIntakeBootstrap.class.getName(), Level.INFO)) {
            app = TestApp.start(s);
            assertThat(log.lines())
                    .contains("mailbox 'invoices': removed 3 leftover(s) of interrupted imports from " + incoming)
                    .contains("mailbox 'orders': removed 1 leftover(s) of interrupted imports from " + ordersSpool);
        }
        try (var left = Files.list(incoming)) {
            assertThat(left).containsExactly(notOurs.getParent());
        }
        try (var left = Files.list(ordersSpool)) {
            assertThat(left).isEmpty();
        }
        assertThat(outside).exists();
        assertThat(delivered).exists();
        assertThat(notOurs).exists();
    }

    private static String uuid() {
        return UUID.randomUUID().toString();
    }

    /** A file in a new directory; returns the file. */
    private static Path leftover(Path dir, String file) throws Exception {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(file), "x");
    }
}

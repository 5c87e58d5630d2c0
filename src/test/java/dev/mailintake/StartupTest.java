package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What start-up releases when it fails, through the real application. */
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
}

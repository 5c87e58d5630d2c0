package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mailintake.config.ConfigurationException;
import dev.mailintake.testsupport.BrowserSignIn;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin server on a hostile network, through the real application: foreign Host and Origin refused, a CSRF
 * token per browser, request values escaped in the log, bounded pending sign-ins, one token refresh at a time
 * outside the HTTP worker, no stack trace to the browser, and an admin host checked as Undertow will bind it.
 */
class AdminSecurityTest {
    private static final String ADMIN = "admin@contoso.test";
    private static final String SHARED = "scans@contoso.test";
    private static final String SCOPES = "https://graph.microsoft.com/Mail.ReadWrite"
            + " https://graph.microsoft.com/Mail.ReadWrite.Shared https://graph.microsoft.com/User.Read offline_access";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;
    private int adminPort;
    private BrowserSignIn signIn;

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.mailbox(ADMIN);
        fake.mailbox(SHARED);
        fake.grantMailboxAccess(ADMIN, SHARED);
        try (ServerSocket socket = new ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        signIn = new BrowserSignIn(fake, adminPort);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", SCOPES);
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put("mailintake.refresh.retry-delay", "200ms");
        s.put("mailintake.mailboxes.scans.connection", "contoso");
        s.put("mailintake.mailboxes.scans.address", SHARED);
        s.put("mailintake.mailboxes.scans.poll", "1s");
        s.put("mailintake.mailboxes.scans.create-folders", "true");
        s.put("mailintake.mailboxes.scans.target", "folder:" + tmp.resolve("out"));
        return s;
    }

    private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t, t);
    }

    @Test
    void aShortFormAdminHostIsRefusedAtStartWithTheFix() {
        Map<String, String> s = settings();
        s.put("mailintake.admin.host", "127.1");
        assertThatThrownBy(() -> app = TestApp.start(s)).satisfies(e -> assertThat(
                cause(e, ConfigurationException.class).problems()).containsExactly("mailintake.admin.host: '127.1' is"
                        + " not a dotted-quad IPv4 address (short and numeric forms cannot be bound); use 127.0.0.1"));
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Headless servers: {@code authorize <connection> --device-code} prints where to sign in, waits, stores the grant;
 * the application then imports with it and refreshes it as a public client.
 */
class DeviceCodeTest {
    private static final String ADMIN = "admin@contoso.test";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.allowPublicClientFlows(TestApp.TENANT, TestApp.CLIENT_ID);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("headless", fake, TestApp.TENANT, TestApp.CLIENT_ID, "unused"));
        s.remove("mailintake.connections.headless.client-secret");
        s.put("mailintake.connections.headless.flow", "device-code");
        s.put("mailintake.connections.headless.scopes", "https://graph.microsoft.com/Mail.ReadWrite offline_access");
        s.put("mailintake.mailboxes.own.connection", "headless");
        s.put("mailintake.mailboxes.own.address", ADMIN);
        s.put("mailintake.mailboxes.own.poll", "1s");
        s.put("mailintake.mailboxes.own.create-folders", "true");
        s.put("mailintake.mailboxes.own.target", "folder:" + tmp.resolve("out"));
        return s;
    }

    @Test
    void authorizeOnTheCommandLineThenImport() throws Exception {
        FakeMailbox mailbox = fake.mailbox(ADMIN);
        mailbox.addMessage("inbox", Mimes.pdfMessage("<dc1@example.com>", "dc1", 200), Instant.parse("2026-11-20T08:00:00Z"));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        Map<String, String> s = settings();
        CompletableFuture<Integer> cli = CompletableFuture.supplyAsync(() -> {
            try {
                return MailIntakeApplication.authorize("file:application.properties", s, "headless", out);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String userCode = await().atMost(Duration.ofSeconds(20))
                .until(() -> fake.pendingUserCode(TestApp.TENANT, TestApp.CLIENT_ID).orElse(null), c -> c != null);
        await().atMost(Duration.ofSeconds(10)).until(() -> printed.toString(StandardCharsets.UTF_8).contains(userCode));
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("https://microsoft.com/devicelogin");
        fake.approveDeviceCode(userCode, ADMIN);
        assertThat(cli.get(30, TimeUnit.SECONDS)).isZero();
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("authorized as " + ADMIN);

        app = TestApp.start(settings());
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> mailbox.messagesIn("Inbox/Processed").size() == 1);
        int before = fake.refreshRedemptions();
        app.camel().createProducerTemplate().sendBody("direct:refresh-tokens", null);
        assertThat(fake.refreshRedemptions()).isEqualTo(before + 1);
    }

    /** Issue 8, 15: an authority without a device code endpoint is named as such; nothing claims to retry. */
    @Test
    void anAuthorityWithoutADeviceCodeEndpointIsNamed() throws Exception {
        fake.fault(dev.mailintake.testsupport.Fault.raw(404, "text/html", "<html><body>Not Found</body></html>")
                .onTokenEndpoint().onPath(".*/devicecode").always());
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        int exit = MailIntakeApplication.authorize("file:application.properties", settings(), "headless", out);
        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(text).isEqualTo(1);
        assertThat(text).contains("the authority has no device code endpoint (HTTP 404 from "
                        + fake.authority(TestApp.TENANT) + "oauth2/v2.0/devicecode); check mailintake.connections.headless.authority-host and"
                        + " mailintake.connections.headless.tenant-id, or use flow=delegated")
                .doesNotContain("retrying").doesNotContain("NullPointerException");
    }
}

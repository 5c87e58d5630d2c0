package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.testsupport.AppProcess;
import dev.mailintake.testsupport.Fault;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar mail-intake.jar check}: every misconfiguration named with its fix, exit codes 0/1/2, JSON for
 * machines, and the check answered by the running instance when it holds the embedded store.
 */
class CheckCommandTest {
    private static final String K = "mailintake.mailboxes.invoices.";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.pdfMessage("<c@example.com>", "c", 100), Instant.parse("2026-11-20T08:00:00Z"));
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        return TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
    }

    private int check(Map<String, String> settings, String... args) {
        return MailIntakeApplication.check("file:application.properties", settings, List.of(args),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aGoodConfigurationPassesEveryCheckAndImportsNothing() {
        assertThat(check(settings())).as(printed()).isZero();
        assertThat(printed()).containsPattern("PASS  connection contoso +token +issued, valid until ")
                .containsPattern("PASS  mailbox +invoices +mailbox +Inbox holds 1 messages; folders resolved")
                .containsPattern("PASS  mailbox +invoices +target +writable: ")
                .contains("Mail Intake check: 4 checks passed, 0 failed")
                .doesNotContain(TestSecrets.TOKEN_PREFIX).doesNotContain(TestSecrets.CLIENT_SECRET);
        assertThat(box.messagesIn("inbox")).as("nothing imported or moved").hasSize(1);
    }

    @Test
    void eachMisconfigurationIsNamedWithItsFixAndTheExitCodeIsOne() throws Exception {
        Map<String, String> s = settings();
        // a second mailbox the app may not open (403), an ambiguous folder, a target that cannot be written
        s.put("mailintake.mailboxes.orders.connection", "contoso");
        s.put("mailintake.mailboxes.orders.address", "orders@contoso.test");
        s.put("mailintake.mailboxes.orders.target", "folder:" + tmp.resolve("orders"));
        fake.mailbox("orders@contoso.test");
        fake.fault(Fault.error(403, "ErrorAccessDenied", "Access is denied.").forMailbox("orders@contoso.test").always());
        box.createFolder("archive", "Processed");
        s.put(K + "folders.processed", "Processed");
        Path file = Files.writeString(tmp.resolve("not-a-folder"), "x");
        s.put(K + "target", "folder:" + file.resolve("out"));

        assertThat(check(s, "--json")).as(printed()).isEqualTo(1);
        JsonNode report = new ObjectMapper().readTree(printed().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow());
        assertThat(report.path("failed").asInt()).isEqualTo(3);
        assertThat(result(report, "orders", "mailbox").path("detail").asText()).contains("403")
                .contains("ApplicationAccessPolicy");
        assertThat(result(report, "invoices", "mailbox").path("detail").asText()).contains("ambiguous")
                .contains("/Inbox/Processed").contains("/Archive/Processed");
        assertThat(result(report, "invoices", "target").path("detail").asText()).contains("cannot write");
        assertThat(result(report, "orders", "target").path("ok").asBoolean()).isTrue();

        printed.reset();
        assertThat(check(s, "orders")).as("only the named mailbox").isEqualTo(1);
        assertThat(printed()).contains("orders").doesNotContain("invoices ");
    }

    @Test
    void aRedirectUriTheAppRegistrationDoesNotListIsNamed() {
        Map<String, String> s = settings();
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", "https://graph.microsoft.com/Mail.ReadWrite offline_access");
        s.put("mailintake.admin.public-base-url", "https://intake.contoso.test");
        fake.registerUser(TestApp.TENANT, "ada@contoso.test", "Ada Admin");
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "https://other.contoso.test/oauth/callback");
        assertThat(check(s)).isEqualTo(1);
        assertThat(printed()).containsPattern("FAIL  connection contoso +redirect-uri +the app registration does not list"
                + " https://intake.contoso.test/oauth/callback as a redirect URI \\(AADSTS50011\\)")
                .containsPattern("FAIL  connection contoso +token +.*not authorized yet");

        printed.reset();
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "https://intake.contoso.test/oauth/callback");
        check(s);
        assertThat(printed()).containsPattern("PASS  connection contoso +redirect-uri +the provider accepts");
    }

    @Test
    void configurationErrorsAndUnknownMailboxesExitWithTwo() {
        Map<String, String> s = settings();
        s.put(K + "pol", "5m");
        assertThat(check(s)).isEqualTo(2);
        assertThat(printed()).contains("mailintake.mailboxes.invoices.pol: unknown mailbox setting 'pol'");

        printed.reset();
        assertThat(check(settings(), "nosuch")).isEqualTo(2);
        assertThat(printed()).contains("no mailbox named 'nosuch'");
    }

    @Test
    void whileTheApplicationHoldsTheEmbeddedStoreTheRunningInstanceAnswers() throws Exception {
        Map<String, String> s = settings();
        s.put(K + "enabled", "false"); // nothing imported while the check runs
        s.put("camel.management.port", String.valueOf(AppProcess.freePort()));
        Path config = AppProcess.configFile(tmp.resolve("application.properties"), s);
        // the running application: a JVM of its own, holding the H2 store
        try (AppProcess running = AppProcess.start(tmp, Map.of(), "--config", config.toString())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(tmp.resolve("data").resolve("store.mv.db"))
                    && portOpen(Integer.parseInt(s.get("camel.management.port"))));
            AppProcess check = AppProcess.start(tmp, Map.of(), "check", "--config", config.toString());
            int exit = check.waitFor(60);
            String out = String.join("\n", check.lines());
            assertThat(exit).as(out).isZero();
            assertThat(out).contains("(checked by the running Mail Intake, which holds the store)")
                    .containsPattern("PASS  mailbox +invoices +mailbox +\\(disabled, checked anyway\\) Inbox holds 1")
                    .contains("Mail Intake check: 4 checks passed, 0 failed");
        }
    }

    private static JsonNode result(JsonNode report, String name, String check) {
        for (JsonNode r : report.path("results")) {
            if (r.path("name").asText().equals(name) && r.path("check").asText().equals(check)) {
                return r;
            }
        }
        throw new AssertionError("no " + check + " result for " + name + " in " + report);
    }

    private static boolean portOpen(int port) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

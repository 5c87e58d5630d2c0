package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestSecrets;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * An administrator in a real (headless) Chromium: opens the status page, presses Authorize, is sent to the test
 * Entra, whose form_post page submits itself back to the callback, and sees "authorized". Runs where Debian's
 * chromium and chromium-driver are installed (.ci/run installs them); reported as skipped elsewhere.
 */
class BrowserAuthorizeTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String ADMIN = "admin@contoso.test";

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;
    private ChromeDriver browser;
    private int adminPort;

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Chromium not installed (apt-get install chromium chromium-driver); .ci/run installs it");
        fake = TestApp.startFake();
        fake.registerUser(TestApp.TENANT, ADMIN, "Ada Admin");
        fake.mailbox(ADMIN);
        try (ServerSocket socket = new ServerSocket(0)) {
            adminPort = socket.getLocalPort();
        }
        fake.registerRedirectUri(TestApp.TENANT, TestApp.CLIENT_ID, "http://localhost:" + adminPort + "/oauth/callback");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--ignore-certificate-errors", "--user-data-dir=" + tmp.resolve("chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterEach
    void tearDown() {
        if (browser != null) {
            browser.quit();
        }
        TestApp.closeAll(app, fake);
    }

    @Test
    void anAdministratorAuthorizesFromTheStatusPage() {
        FakeMailbox mailbox = fake.mailbox(ADMIN);
        mailbox.addMessage("inbox", Mimes.pdfMessage("<b1@example.com>", "b1", 200), Instant.parse("2026-11-20T08:00:00Z"));
        Map<String, String> s = new LinkedHashMap<>(TestApp.baseSettings(tmp.resolve("data")));
        s.putAll(TestApp.connection("contoso", fake, TestApp.TENANT, TestApp.CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.put("mailintake.connections.contoso.flow", "delegated");
        s.put("mailintake.connections.contoso.scopes", "https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/User.Read");
        s.put("mailintake.admin.port", String.valueOf(adminPort));
        s.put("mailintake.mailboxes.own.connection", "contoso");
        s.put("mailintake.mailboxes.own.address", ADMIN);
        s.put("mailintake.mailboxes.own.poll", "1s");
        s.put("mailintake.mailboxes.own.create-folders", "true");
        s.put("mailintake.mailboxes.own.target", "folder:" + tmp.resolve("out"));
        app = TestApp.start(s);

        browser.get("http://localhost:" + adminPort + "/");
        assertThat(browser.getTitle()).isEqualTo("Mail Intake");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("never authorized");

        browser.findElement(By.xpath("//button[normalize-space()='Authorize']")).click();
        await().atMost(Duration.ofSeconds(30)).until(() -> browser.getPageSource().contains("authorized as " + ADMIN));
        assertThat(browser.getCurrentUrl()).startsWith("http://localhost:" + adminPort + "/oauth/callback");

        browser.get("http://localhost:" + adminPort + "/");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("authorized as " + ADMIN);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> mailbox.messagesIn("Inbox/Processed").size() == 1);
    }
}

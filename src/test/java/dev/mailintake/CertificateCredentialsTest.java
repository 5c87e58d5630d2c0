package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import dev.mailintake.testsupport.TestClientCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificate credentials instead of a client secret: PEM (certificate + PKCS#8 key) and PKCS#12. */
class CertificateCredentialsTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;
    private TestClientCertificate cert;

    @BeforeEach
    void setUp() throws Exception {
        fake = TestApp.startFake();
        cert = TestClientCertificate.generate(Files.createDirectories(tmp.resolve("cert")));
        fake.registerCertificate(TestApp.TENANT, TestApp.CLIENT_ID, cert.certificate());
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> withoutSecret() {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.remove("mailintake.connections.contoso.client-secret");
        s.put("mailintake.mailboxes.invoices.create-folders", "true");
        return s;
    }

    @Test
    void appOnlyWithAPemCertificateAndKeyInTwoFiles() throws Exception {
        FakeMailbox box = fake.mailbox(TestApp.ADDRESS);
        box.addMessage("inbox", Mimes.pdfMessage("<c1@example.com>", "c1", 200), Instant.parse("2026-11-20T08:00:00Z"));
        Path certPem = cert.writeCertificatePem(tmp.resolve("app-cert.pem"));
        Path keyPem = cert.writePrivateKeyPem(tmp.resolve("app-key.pem"));
        Map<String, String> s = withoutSecret();
        s.put("mailintake.connections.contoso.client-certificate", certPem.toString());
        s.put("mailintake.connections.contoso.client-certificate-key", keyPem.toString());
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(fake.tokenRequests()).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    }

    @Test
    void appOnlyWithPkcs12() throws Exception {
        FakeMailbox box = fake.mailbox(TestApp.ADDRESS);
        box.addMessage("inbox", Mimes.pdfMessage("<c2@example.com>", "c2", 200), Instant.parse("2026-11-20T08:00:00Z"));
        Map<String, String> s = withoutSecret();
        s.put("mailintake.connections.contoso.client-certificate", cert.pkcs12().toString());
        s.put("mailintake.connections.contoso.client-certificate-password", cert.password());
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> box.messagesIn("Inbox/Processed").size() == 1);
    }

    @Test
    void aCertificateThatIsNotRegisteredIsRefusedClearly() throws Exception {
        TestClientCertificate other = TestClientCertificate.generate(Files.createDirectories(tmp.resolve("other")));
        Path pem = tmp.resolve("other.pem");
        Files.writeString(pem, other.combinedPem());
        Map<String, String> s = withoutSecret();
        s.put("mailintake.connections.contoso.client-certificate", pem.toString());
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() ->
                app.camel().getRouteController().getRouteStatus("import-invoices").isStopped());
        String log = Files.readString(Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "test-run.log"));
        assertThat(log).contains("AADSTS700027");
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.Delivered;
import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.FakeMessage;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.LoggedRequest;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules a Graph listing answers ({@code hasAttachments}) are applied before the download: a message the listing
 * says has no attachment other than inline ones goes to Error under {@code rules.require-attachment} without its
 * {@code $value} being read, recorded in the ledger like any rejected message (REJECTED with its reason before the
 * move, ERROR after it), with no content hash or size (nothing was read). A listing that says "has attachments" proves
 * nothing and the message is checked after the download as before.
 */
class ListedRulesTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");

    @TempDir
    Path tmp;
    private GraphFake fake;
    private FakeMailbox box;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        box = TestApp.invoicesBox(fake);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings(boolean requireAttachment) {
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.put("mailintake.mailboxes.invoices.rules.require-attachment", String.valueOf(requireAttachment));
        return s;
    }

    private List<LoggedRequest> downloadsOf(String id) {
        FakeMessage m = box.message(id);
        return fake.graphRequests().stream().filter(LoggedRequest::isMimeDownload)
                .filter(r -> r.path().contains(m.immutableId()) || r.path().contains(m.restId())).toList();
    }

    @Test
    void aMessageWithOnlyAnInlineImageGoesToErrorWithoutBeingDownloaded() throws Exception {
        String inline = box.addMessage("inbox", Mimes.inlineImageMessage("<logo@example.com>", "newsletter", 2_000), T0);
        String pdf = box.addMessage("inbox", Mimes.pdfMessage("<pdf@example.com>", "invoice", 500), T0.plusSeconds(1));
        assertThat(box.message(inline).hasAttachments()).isFalse();
        app = TestApp.start(settings(true));

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Error").size() == 1
                && box.messagesIn("Inbox/Processed").size() == 1);
        FakeMessage rejected = box.messagesIn("Inbox/Error").get(0);
        assertThat(rejected.internetMessageId()).isEqualTo("<logo@example.com>");
        assertThat(rejected.categories()).containsExactly("Mail Intake: no attachment");
        assertThat(downloadsOf(inline)).as("the inline-only message is never downloaded").isEmpty();
        assertThat(downloadsOf(pdf)).hasSize(1);
        assertThat(Delivered.messageDirs(tmp.resolve("out"))).hasSize(1);
        // the ledger: rejected with its reason, nothing known of its bytes
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger().contains("ERROR|no attachment|null|null"));
        assertThat(ledger()).containsExactlyInAnyOrder("ERROR|no attachment|null|null", "PROCESSED|null|sha|size");
    }

    @Test
    void aListedAttachmentThatIsOnlyASignatureIsCheckedAfterTheDownload() throws Exception {
        String signed = box.addMessage("inbox", signedWithoutAttachment(), T0);
        assertThat(box.message(signed).hasAttachments()).as("Graph counts the signature").isTrue();
        app = TestApp.start(settings(true));

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Error").size() == 1);
        assertThat(downloadsOf(signed)).hasSize(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger().contains("ERROR|no attachment|sha|size"));
    }

    @Test
    void withoutTheRuleAnInlineOnlyMessageIsImported() {
        box.addMessage("inbox", Mimes.inlineImageMessage("<logo@example.com>", "newsletter", 2_000), T0);
        app = TestApp.start(settings(false));

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);
        assertThat(Delivered.messageDirs(tmp.resolve("out"))).hasSize(1);
    }

    @Test
    void malformedMimeIsStillFoundAfterTheDownloadWhenNoListedRuleApplies() throws Exception {
        box.addMessage("inbox", new byte[] {0, 1, 2, 3, (byte) 0xff, 0, 0, 13, 10, 13, 10, 42}, T0);
        app = TestApp.start(settings(false));

        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Error").size() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger().contains("ERROR|malformed MIME|sha|size"));
    }

    /** multipart/signed: a text body and its detached S/MIME signature, no attachment for the rules. */
    private static byte[] signedWithoutAttachment() {
        return ("From: Alice Sender <alice@example.com>\r\n"
                + "To: invoices@contoso.test\r\n"
                + "Subject: signed\r\n"
                + "Message-ID: <signed@example.com>\r\n"
                + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;"
                + " boundary=\"s1\"\r\n"
                + "\r\n"
                + "--s1\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "\r\n"
                + "Signed, but nothing attached.\r\n"
                + "--s1\r\n"
                + "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
                + "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "\r\n"
                + "AQIDBA==\r\n"
                + "--s1--\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** state|reason|sha (or null)|size (or null) of every ledger row. */
    private List<String> ledger() throws Exception {
        String url = "jdbc:h2:file:" + tmp.resolve("data").toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE";
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT state, reason, content_sha256, content_size FROM mi_ledger")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + (rs.getString(3) == null ? "null" : "sha")
                        + "|" + (rs.getObject(4) == null ? "null" : "size"));
            }
        }
        return rows;
    }
}

package dev.mailintake.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.assertj.core.groups.Tuple;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MimeInspectorTest {

    @TempDir
    Path tmp;

    private final MimeInspector inspector = new MimeInspector();

    // ---------------------------------------------------------------- helpers

    /** Writes a message given with LF line ends as CRLF, UTF-8. */
    private Path eml(String text) throws IOException {
        return eml(crlf(text).getBytes(StandardCharsets.UTF_8));
    }

    private Path eml(byte[] bytes) throws IOException {
        Path file = Files.createTempFile(tmp, "msg", ".eml");
        Files.write(file, bytes);
        return file;
    }

    private static String crlf(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\r\n");
    }

    private Path attachmentsDir() {
        return tmp.resolve("attachments");
    }

    private ParsedMessage inspect(Path eml) throws IOException {
        return inspector.inspect(eml, attachmentsDir());
    }

    private static String base64Lines(byte[] bytes) {
        return Base64.getMimeEncoder().encodeToString(bytes);
    }

    private static String b64Word(String charset, String text) {
        return "=?" + charset + "?B?" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8))
                + "?=";
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static byte[] samplePdf() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("%PDF-1.4\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 4096; i++) {
            out.write(i & 0xff);
        }
        out.writeBytes("\n%%EOF\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 'I', 'H',
            'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, (byte) 0xc4, (byte) 0x89};

    private static String multipart(String headers, String... parts) {
        StringBuilder sb = new StringBuilder(headers);
        sb.append("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n");
        for (String part : parts) {
            sb.append("--b1\n").append(part).append('\n');
        }
        sb.append("--b1--\n");
        return sb.toString();
    }

    private static final String HEADERS = "From: sender@example.com\nTo: intake@example.com\nSubject: test\n";

    // ---------------------------------------------------------------- bodies and headers

    @Test
    void plainTextMessageHasNoAttachments() throws Exception {
        Path eml = eml("""
                From: Anna Example <anna@example.com>
                To: intake@example.com
                Subject: Just text
                Message-ID:   <plain-1@example.com>\s\s
                Date: Tue, 5 Mar 2024 10:00:00 +0100
                MIME-Version: 1.0
                Content-Type: text/plain; charset=utf-8

                Hello, no attachment here.
                """);

        ParsedMessage parsed = inspect(eml);

        assertThat(parsed.attachments()).isEmpty();
        assertThat(parsed.realAttachments()).isEmpty();
        assertThat(attachmentsDir()).doesNotExist();
        assertThat(parsed.subject()).isEqualTo("Just text");
        assertThat(parsed.from()).isEqualTo("Anna Example <anna@example.com>");
        assertThat(parsed.sender()).isNull();
        assertThat(parsed.to()).containsExactly("intake@example.com");
        assertThat(parsed.cc()).isEmpty();
        assertThat(parsed.replyTo()).isEmpty();
        assertThat(parsed.messageId()).isEqualTo("<plain-1@example.com>");
        assertThat(parsed.date()).isEqualTo("Tue, 5 Mar 2024 10:00:00 +0100");
        assertThat(parsed.size()).isEqualTo(Files.size(eml));
    }

    @Test
    void multipartMixedWithPdfQuotedPrintableInlineImageAndAttachedMessage() throws Exception {
        byte[] pdf = samplePdf();
        String inner = crlf("""
                From: inner@example.com
                Subject: forwarded
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary="inner"

                --inner
                Content-Type: text/plain

                inner body
                --inner
                Content-Type: application/pdf; name="inner.pdf"
                Content-Disposition: attachment; filename="inner.pdf"

                %PDF-inner
                --inner--""");
        Path eml = eml("""
                From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.com>
                To: Anna <anna@example.com>, bob@example.com
                Subject: Invoice
                Message-ID: <abc@example.com>
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary="outer"

                This is the preamble.
                --outer
                Content-Type: multipart/related; boundary="rel"

                --rel
                Content-Type: multipart/alternative; boundary="alt"

                --alt
                Content-Type: text/plain; charset=utf-8

                Hello
                --alt
                Content-Type: text/html; charset=utf-8

                <p>Hello <img src="cid:logo@example.com"></p>
                --alt--
                --rel
                Content-Type: image/png
                Content-Transfer-Encoding: base64
                Content-ID: <logo@example.com>
                Content-Disposition: inline

                """ + base64Lines(PNG) + """

                --rel--
                --outer
                Content-Type: application/pdf; name="invoice.pdf"
                Content-Disposition: attachment; filename="invoice.pdf"
                Content-Transfer-Encoding: base64

                """ + base64Lines(pdf) + """

                --outer
                Content-Type: text/plain; charset=utf-8; name="notes.txt"
                Content-Disposition: attachment; filename="notes.txt"
                Content-Transfer-Encoding: quoted-printable

                Gr=C3=BC=C3=9Fe aus K=C3=B6ln =3D soft=
                 break
                --outer
                Content-Type: message/rfc822

                """ + inner + """

                --outer--
                This is the epilogue.
                """);

        ParsedMessage parsed = inspect(eml);

        assertThat(parsed.from()).isEqualTo("Jörg Müller <joerg@example.com>");
        assertThat(parsed.to()).containsExactly("Anna <anna@example.com>", "bob@example.com");
        assertThat(parsed.attachments()).extracting(AttachmentInfo::fileName)
                .containsExactly("attachment.png", "invoice.pdf", "notes.txt", "attached-message.eml");
        assertThat(parsed.realAttachments()).extracting(AttachmentInfo::fileName)
                .containsExactly("invoice.pdf", "notes.txt", "attached-message.eml");

        AttachmentInfo image = parsed.attachments().get(0);
        assertThat(image.inline()).isTrue();
        assertThat(image.originalName()).isNull();
        assertThat(image.contentType()).isEqualTo("image/png");
        assertThat(image.contentId()).isEqualTo("<logo@example.com>");
        assertThat(Files.readAllBytes(attachmentsDir().resolve("attachment.png"))).isEqualTo(PNG);

        AttachmentInfo invoice = parsed.attachments().get(1);
        assertThat(invoice.originalName()).isEqualTo("invoice.pdf");
        assertThat(invoice.contentType()).isEqualTo("application/pdf");
        assertThat(invoice.inline()).isFalse();
        assertThat(invoice.contentId()).isNull();
        assertThat(invoice.size()).isEqualTo(pdf.length);
        assertThat(invoice.sha256()).isEqualTo(sha256(pdf));
        assertThat(Files.readAllBytes(attachmentsDir().resolve("invoice.pdf"))).isEqualTo(pdf);

        AttachmentInfo notes = parsed.attachments().get(2);
        byte[] notesText = "Grüße aus Köln = soft break".getBytes(StandardCharsets.UTF_8);
        assertThat(notes.contentType()).isEqualTo("text/plain");
        assertThat(Files.readAllBytes(attachmentsDir().resolve("notes.txt"))).isEqualTo(notesText);
        assertThat(notes.size()).isEqualTo(notesText.length);
        assertThat(notes.sha256()).isEqualTo(sha256(notesText));

        AttachmentInfo message = parsed.attachments().get(3);
        assertThat(message.originalName()).isNull();
        assertThat(message.contentType()).isEqualTo("message/rfc822");
        assertThat(message.inline()).isFalse();
        assertThat(Files.readString(attachmentsDir().resolve("attached-message.eml"))).isEqualTo(inner);
        // the attached message is not recursed into
        assertThat(parsed.attachments()).extracting(AttachmentInfo::originalName).doesNotContain("inner.pdf");
        try (Stream<Path> files = Files.list(attachmentsDir())) {
            assertThat(files).hasSize(4);
        }
    }

    @Test
    void attachedMessageKeepsItsOwnFileName() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS, """
                Content-Type: message/rfc822; name="Fwd: Angebot.eml"
                Content-Disposition: attachment; filename="Fwd: Angebot.eml"

                Subject: inner

                body""")));

        assertThat(parsed.attachments()).singleElement().satisfies(a -> {
            assertThat(a.originalName()).isEqualTo("Fwd: Angebot.eml");
            assertThat(a.fileName()).isEqualTo("Fwd_ Angebot.eml");
        });
    }

    @Test
    void signaturesAreKeptButNeverCountAsRealAttachments() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                """
                Content-Type: text/plain; charset=utf-8

                signed, but nothing attached""",
                """
                Content-Type: application/pkcs7-signature; name="smime.p7s"
                Content-Disposition: attachment; filename="smime.p7s"
                Content-Transfer-Encoding: base64

                MIIGsgYJKoZIhvcNAQcCoIIGozCCBp8CAQE=""")));
        assertThat(parsed.attachments()).extracting(AttachmentInfo::fileName).containsExactly("smime.p7s");
        assertThat(parsed.realAttachments()).isEmpty();
    }

    @Test
    void classifiesInlineAttachmentAndBodyParts() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                """
                Content-Type: text/plain; charset=utf-8
                Content-Disposition: inline

                the body""",
                """
                Content-Type: image/jpeg; name="photo.jpg"
                Content-ID: <photo@x>

                jpegbytes""",
                """
                Content-Type: image/jpeg
                Content-ID: <scan@x>
                Content-Disposition: attachment; filename="scan.jpg"

                jpegbytes""",
                """
                Content-Type: application/pdf
                Content-Disposition: inline; filename="apple-mail.pdf"

                %PDF""",
                """
                Content-Type: text/html; charset=utf-8; name="page.html"

                <html></html>""",
                """
                Content-Type: application/octet-stream

                nameless, no disposition""",
                """
                Content-Type: text/calendar

                BEGIN:VCALENDAR""",
                """
                Content-Type: application/pdf
                Content-Disposition: attachment

                %PDF nameless""")));

        assertThat(parsed.attachments())
                .extracting(AttachmentInfo::fileName, AttachmentInfo::inline, AttachmentInfo::contentId)
                .containsExactly(
                        Tuple.tuple("photo.jpg", true, "<photo@x>"),
                        Tuple.tuple("scan.jpg", false, "<scan@x>"),
                        Tuple.tuple("apple-mail.pdf", false, null),
                        Tuple.tuple("page.html", false, null),
                        Tuple.tuple("attachment.bin", false, null),
                        Tuple.tuple("invite.ics", false, null),
                        Tuple.tuple("attachment.pdf", false, null));
        assertThat(Files.readString(attachmentsDir().resolve("attachment.pdf"))).isEqualTo("%PDF nameless");
    }

    @Test
    void appleMailInlinePdfIsARealAttachmentButAnInlineImageIsNot() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                """
                Content-Type: multipart/related; boundary="rel"

                --rel
                Content-Type: text/html; charset=utf-8

                <p>Scan attached <img src="cid:logo@x"></p>
                --rel
                Content-Type: image/png; name="logo.png"
                Content-Transfer-Encoding: base64
                Content-ID: <logo@x>
                Content-Disposition: inline; filename="logo.png"

                """ + base64Lines(PNG) + """

                --rel--""",
                """
                Content-Type: image/gif
                Content-ID: <spacer@x>

                GIF89a""",
                """
                Content-Type: image/jpeg
                Content-Disposition: inline

                jpegbytes""",
                """
                Content-Type: application/pdf; x-unix-mode=0644; name="scan.pdf"
                Content-Disposition: inline; filename=scan.pdf
                Content-ID: <scan@x>

                %PDF apple""")));

        assertThat(parsed.attachments())
                .extracting(AttachmentInfo::fileName, AttachmentInfo::inline, AttachmentInfo::contentId)
                .containsExactly(
                        Tuple.tuple("logo.png", true, "<logo@x>"),
                        Tuple.tuple("attachment.gif", true, "<spacer@x>"),
                        Tuple.tuple("attachment.jpg", true, null),
                        Tuple.tuple("scan.pdf", false, "<scan@x>"));
        assertThat(parsed.realAttachments()).singleElement().satisfies(a -> {
            assertThat(a.originalName()).isEqualTo("scan.pdf");
            assertThat(a.contentType()).isEqualTo("application/pdf");
        });
        assertThat(Files.readString(attachmentsDir().resolve("scan.pdf"))).isEqualTo("%PDF apple");
    }

    @Test
    void messageWithOnlyAnInlineImageHasNoRealAttachment() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                "Content-Type: text/html\n\n<img src=\"cid:sig@x\">",
                """
                Content-Type: image/png; name="signature.png"
                Content-ID: <sig@x>
                Content-Disposition: inline; filename="signature.png"
                Content-Transfer-Encoding: base64

                """ + base64Lines(PNG))));

        assertThat(parsed.attachments()).singleElement().satisfies(a -> assertThat(a.inline()).isTrue());
        assertThat(parsed.realAttachments()).isEmpty();
    }

    @Test
    void namelessNonTextPartIsARealAttachmentNamedFromItsType() throws Exception {
        byte[] pdf = samplePdf();
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                "Content-Type: text/plain\n\nScanned document attached.",
                """
                Content-Type: application/pdf
                Content-Transfer-Encoding: base64

                """ + base64Lines(pdf))));

        assertThat(parsed.realAttachments()).singleElement().satisfies(a -> {
            assertThat(a.originalName()).isNull();
            assertThat(a.fileName()).isEqualTo("attachment.pdf");
            assertThat(a.contentType()).isEqualTo("application/pdf");
            assertThat(a.inline()).isFalse();
            assertThat(a.sha256()).isEqualTo(sha256(pdf));
        });
        assertThat(Files.readAllBytes(attachmentsDir().resolve("attachment.pdf"))).isEqualTo(pdf);
    }

    @Test
    void singlePartNamelessPdfIsARealAttachment() throws Exception {
        byte[] pdf = samplePdf();
        ParsedMessage parsed = inspect(eml("""
                From: scanner@example.com
                Subject: Scan
                MIME-Version: 1.0
                Content-Type: application/pdf
                Content-Transfer-Encoding: base64

                """ + base64Lines(pdf) + "\n"));

        assertThat(parsed.realAttachments()).extracting(AttachmentInfo::fileName).containsExactly("attachment.pdf");
        assertThat(Files.readAllBytes(attachmentsDir().resolve("attachment.pdf"))).isEqualTo(pdf);
    }

    @Test
    void calendarPartIsARealAttachmentButOtherBareTextPartsAreBody() throws Exception {
        ParsedMessage parsed = inspect(eml(HEADERS + """
                MIME-Version: 1.0
                Content-Type: multipart/alternative; boundary="alt"

                --alt
                Content-Type: text/plain; charset=utf-8

                You are invited.
                --alt
                Content-Type: text/html; charset=utf-8

                <p>You are invited.</p>
                --alt
                Content-Type: text/calendar; charset=utf-8; method=REQUEST

                BEGIN:VCALENDAR
                METHOD:REQUEST
                END:VCALENDAR
                --alt
                Content-Type: text/enriched

                <bold>enriched</bold> body
                --alt--
                """));

        assertThat(parsed.realAttachments()).singleElement().satisfies(a -> {
            assertThat(a.originalName()).isNull();
            assertThat(a.fileName()).isEqualTo("invite.ics");
            assertThat(a.contentType()).isEqualTo("text/calendar");
        });
        assertThat(parsed.attachments()).hasSize(1);
        assertThat(Files.readString(attachmentsDir().resolve("invite.ics")))
                .isEqualTo(crlf("BEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR"));
    }

    @Test
    void namedCalendarPartKeepsItsName() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                "Content-Type: text/plain\n\nbody",
                "Content-Type: text/calendar; name=\"meeting.ics\"\n\nBEGIN:VCALENDAR")));

        assertThat(parsed.realAttachments()).extracting(AttachmentInfo::fileName).containsExactly("meeting.ics");
    }

    @Test
    void decodesRfc2231AndRfc2047FileNames() throws Exception {
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                """
                Content-Type: application/pdf
                Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20final.pdf

                a""",
                """
                Content-Type: text/plain
                Content-Disposition: attachment;
                 filename*0*=UTF-8''%E6%97%A5%E6%9C%AC;
                 filename*1*=%E8%AA%9E;
                 filename*2=".txt"

                b""",
                """
                Content-Type: text/plain; name*=ISO-8859-1''Gr%FC%DFe.txt

                c""",
                "Content-Type: application/pdf; name=\"" + b64Word("UTF-8", "Bericht für Köln.pdf") + "\"\n\nd",
                """
                Content-Type: application/octet-stream
                Content-Disposition: attachment; filename="=?ISO-8859-1?Q?Caf=E9_cr=E8me.pdf?="

                e""",
                """
                Content-Type: application/pdf; name="from-content-type.pdf"
                Content-Disposition: attachment; filename="plain.pdf"; filename*=UTF-8''preferred.pdf

                f""",
                """
                Content-Type: application/pdf; name="from-content-type.pdf"
                Content-Disposition: attachment

                g""",
                """
                Content-Type: application/pdf
                Content-Disposition: attachment; filename*0="a rather long file ";
                 filename*1="name split in two.pdf"

                h""")));

        assertThat(parsed.attachments()).extracting(AttachmentInfo::originalName).containsExactly(
                "Résumé final.pdf", "日本語.txt", "Grüße.txt", "Bericht für Köln.pdf", "Café crème.pdf",
                "preferred.pdf", "from-content-type.pdf", "a rather long file name split in two.pdf");
        assertThat(parsed.attachments()).extracting(AttachmentInfo::fileName).containsExactly(
                "Résumé final.pdf", "日本語.txt", "Grüße.txt", "Bericht für Köln.pdf", "Café crème.pdf",
                "preferred.pdf", "from-content-type.pdf", "a rather long file name split in two.pdf");
        assertThat(Files.readString(attachmentsDir().resolve("日本語.txt"))).isEqualTo("b");
    }

    @Test
    void decodesNonAsciiSubjects() throws Exception {
        String utf8 = "Grüße aus Köln – Rechnung Nr. 42";
        assertThat(inspect(eml("Subject: " + b64Word("UTF-8", utf8) + "\n\nbody")).subject()).isEqualTo(utf8);
        assertThat(inspect(eml("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me_br=FBl=E9e?=\n\nbody")).subject())
                .isEqualTo("Café crème brûlée");
        assertThat(inspect(eml("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n =?utf-8?q?_und_mehr?= !\n\nbody")).subject())
                .isEqualTo("Grüße und mehr !");
    }

    @Test
    void readsRawEightBitHeaders() throws Exception {
        byte[] utf8 = crlf("From: Jörg Müller <joerg@example.com>\nSubject: Grüße\n\nbody")
                .getBytes(StandardCharsets.UTF_8);
        ParsedMessage parsedUtf8 = inspect(eml(utf8));
        assertThat(parsedUtf8.from()).isEqualTo("Jörg Müller <joerg@example.com>");
        assertThat(parsedUtf8.subject()).isEqualTo("Grüße");

        byte[] latin1 = crlf("Subject: Café\n\nbody").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(inspect(eml(latin1)).subject()).isEqualTo("Café");
    }

    @Test
    void parsesAddressListsLeniently() throws Exception {
        ParsedMessage parsed = inspect(eml("""
                From: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>
                Sender: "Mailer, Bulk" <bulk@example.com>
                To: team: a@example.com, "X" <x@example.com>;, Jörg <j@example.de>
                To: second@example.com
                Cc: undisclosed-recipients:;
                Reply-To: =?UTF-8?Q?Nur_Text?=

                body"""));

        assertThat(parsed.from()).isEqualTo("André Pirard <pirard@example.be>");
        assertThat(parsed.sender()).isEqualTo("\"Mailer, Bulk\" <bulk@example.com>");
        assertThat(parsed.to()).containsExactly("a@example.com", "X <x@example.com>", "Jörg <j@example.de>",
                "second@example.com");
        assertThat(parsed.cc()).isEmpty();
        assertThat(parsed.replyTo()).containsExactly("Nur Text");
    }

    @Test
    void garbageAddressHeadersNeverThrow() throws Exception {
        ParsedMessage parsed = inspect(eml("""
                From: <<<@@@>>>
                To: "unterminated <a@b
                Cc: ,,,;;;
                Reply-To: <>

                body"""));

        assertThat(parsed.from()).isNotBlank();
        assertThat(parsed.to()).isNotEmpty();
        assertThat(parsed.replyTo()).containsExactly("<>");
    }

    @Test
    void singlePartMessageCanBeAnAttachmentItself() throws Exception {
        byte[] pdf = samplePdf();
        ParsedMessage parsed = inspect(eml("""
                From: scanner@example.com
                Subject: Scan
                Content-Type: application/pdf; name="scan 0001.pdf"
                Content-Transfer-Encoding: base64

                """ + base64Lines(pdf) + "\n"));

        assertThat(parsed.attachments()).singleElement().satisfies(a -> {
            assertThat(a.fileName()).isEqualTo("scan 0001.pdf");
            assertThat(a.inline()).isFalse();
            assertThat(a.sha256()).isEqualTo(sha256(pdf));
        });
    }

    @Test
    void toleratesAnMboxFromLineBeforeTheHeaders() throws Exception {
        ParsedMessage parsed = inspect(eml("""
                From sender@example.com Mon Jan  1 00:00:00 2024
                From: sender@example.com
                Subject: exported

                body"""));

        assertThat(parsed.subject()).isEqualTo("exported");
        assertThat(parsed.from()).isEqualTo("sender@example.com");
    }

    // ---------------------------------------------------------------- hostile names

    @Test
    void storesHostileNamesSafelyInsideTheAttachmentsDirectory() throws Exception {
        String longName = "a".repeat(300) + ".pdf";
        ParsedMessage parsed = inspect(eml(multipart(HEADERS,
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\n\n1",
                "Content-Type: application/x-msdownload\n"
                        + "Content-Disposition: attachment; filename=\"C:\\Windows\\system32\\evil.dll\"\n\n2",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"CON\"\n\n3",
                "Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"" + longName + "\"\n\n4",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename*=UTF-8''evil%00na%0D%0Ame.txt\n\n5",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?invoice=E2=80=AEfdp.exe?=\"\n\n6",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"..\\\\..\\\\..\\\\tmp\\\\x.sh\"\n\n7",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"/etc/shadow\"\n\n8",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"..\"\n\n9",
                "Content-Type: text/plain\nContent-Disposition: attachment; filename=\"passwd\"\n\n10")));

        assertThat(parsed.attachments()).extracting(AttachmentInfo::fileName).containsExactly(
                "passwd", "evil.dll", "_CON", "a".repeat(116) + ".pdf", "evilname.txt", "invoicefdp.exe", "x.sh",
                "shadow", "attachment.txt", "passwd (2)");
        assertThat(parsed.attachments()).extracting(AttachmentInfo::originalName).startsWith(
                "../../etc/passwd", "C:\\Windows\\system32\\evil.dll", "CON", longName, "evil\u0000na\r\nme.txt",
                "invoice\u202Efdp.exe", "..\\..\\..\\tmp\\x.sh");

        Path dir = attachmentsDir().toAbsolutePath().normalize();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(tmp)) {
            walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".eml"))
                    .forEach(files::add);
        }
        assertThat(files).hasSize(10).allSatisfy(f -> assertThat(f.toAbsolutePath().getParent()).isEqualTo(dir));
        assertThat(Files.readString(dir.resolve("evil.dll"))).isEqualTo("2");
    }

    // ---------------------------------------------------------------- malformed input

    private static void assertMalformed(ThrowingRunnable action, String detailFragment) {
        assertThatThrownBy(action::run)
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining(detailFragment)
                .satisfies(e -> assertThat(((PermanentMessageFailure) e).reason())
                        .isEqualTo(MalformedMessageException.REASON));
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void emptyFileIsMalformed() throws Exception {
        Path eml = eml(new byte[0]);
        assertMalformed(() -> inspect(eml), "empty file");
    }

    @Test
    void binaryGarbageWithoutHeaderFieldsIsMalformed() throws Exception {
        byte[] garbage = new byte[64 * 1024];
        new Random(7).nextBytes(garbage);
        for (int i = 0; i < garbage.length; i++) {
            if (garbage[i] == ':') {
                garbage[i] = '.';
            }
        }
        Path eml = eml(garbage);
        assertMalformed(() -> inspect(eml), "no header fields");
        assertThat(attachmentsDir()).doesNotExist();
    }

    @Test
    void blankLinesOnlyAreMalformed() throws Exception {
        Path eml = eml("\n\n\n");
        assertMalformed(() -> inspect(eml), "no header fields");
    }

    @Test
    void hugeSingleLineWithoutHeadersIsMalformed() throws Exception {
        Path eml = tmp.resolve("blob.eml");
        Random random = new Random(11);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(eml))) {
            for (int written = 0; written < 10 * 1024 * 1024; written += chunk.length) {
                random.nextBytes(chunk);
                for (int i = 0; i < chunk.length; i++) {
                    if (chunk[i] == '\r' || chunk[i] == '\n') {
                        chunk[i] = 'x';
                    }
                }
                out.write(chunk);
            }
        }
        assertMalformed(() -> inspect(eml), "longer than " + MimeInspector.MAX_LINE_LEN);
    }

    @Test
    void tooManyHeaderFieldsAreMalformed() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= MimeInspector.MAX_HEADER_COUNT; i++) {
            sb.append("X-Filler-").append(i).append(": ").append(i).append('\n');
        }
        Path eml = eml(sb.append("\nbody").toString());
        assertMalformed(() -> inspect(eml), "more than 1000 header fields");
    }

    @Test
    void tooLongFoldedHeaderFieldIsMalformed() throws Exception {
        StringBuilder sb = new StringBuilder("Subject: start");
        for (int i = 0; i < 150; i++) {
            sb.append("\n ").append("y".repeat(999));
        }
        Path eml = eml(sb.append("\n\nbody").toString());
        assertMalformed(() -> inspect(eml), "longer than " + MimeInspector.MAX_HEADER_LEN);
    }

    @Test
    void failureAfterAnAttachmentRemovesWhatWasWritten() throws Exception {
        Path eml = eml(multipart(HEADERS,
                "Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"ok.pdf\"\n\n%PDF",
                "Content-Type: application/pdf\nX-Long: " + "z".repeat(MimeInspector.MAX_LINE_LEN + 10) + "\n\nx"));
        assertMalformed(() -> inspect(eml), "longer than");
        assertThat(attachmentsDir()).doesNotExist();
    }

    @Test
    void multipartWithoutBoundaryIsTreatedAsOpaqueBody() throws Exception {
        ParsedMessage parsed = inspect(eml("""
                Subject: no boundary
                Content-Type: multipart/mixed

                --x
                Content-Type: application/pdf; name="a.pdf"

                %PDF
                --x--
                """));
        assertThat(parsed.subject()).isEqualTo("no boundary");
        assertThat(parsed.attachments()).isEmpty();
    }

    @Test
    void missingFileIsAnIoExceptionNotMalformed() {
        assertThatThrownBy(() -> inspect(tmp.resolve("missing.eml"))).isInstanceOf(NoSuchFileException.class);
    }

    // ---------------------------------------------------------------- streaming

    /** Closing it flushes but leaves the underlying stream open. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    private record Generated(Path eml, long decodedSize, String sha256) {
    }

    /** Writes a message with one base64 attachment of {@code decodedSize} pseudo-random bytes, chunk by chunk. */
    private Generated generateLargeMessage(long decodedSize) throws Exception {
        Path eml = tmp.resolve("large.eml");
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        Random random = new Random(42);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(eml), 64 * 1024)) {
            out.write(crlf(multipartHead()).getBytes(StandardCharsets.US_ASCII));
            try (OutputStream base64 = Base64.getMimeEncoder().wrap(new KeepOpen(out))) {
                long remaining = decodedSize;
                while (remaining > 0) {
                    int n = (int) Math.min(chunk.length, remaining);
                    random.nextBytes(chunk);
                    digest.update(chunk, 0, n);
                    base64.write(chunk, 0, n);
                    remaining -= n;
                }
            }
            out.write("\r\n--big--\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return new Generated(eml, decodedSize, HexFormat.of().formatHex(digest.digest()));
    }

    private static String multipartHead() {
        return """
                From: scanner@example.com
                To: intake@example.com
                Subject: large scan
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary="big"

                --big
                Content-Type: text/plain

                See attachment.
                --big
                Content-Type: application/pdf; name="scan.pdf"
                Content-Disposition: attachment; filename="scan.pdf"
                Content-Transfer-Encoding: base64

                """;
    }

    @Test
    void streamsALargeBase64Attachment() throws Exception {
        Generated generated = generateLargeMessage(22_800_000L);
        assertThat(Files.size(generated.eml())).isGreaterThan(30_000_000L);

        ParsedMessage parsed = inspect(generated.eml());

        assertThat(parsed.attachments()).singleElement().satisfies(a -> {
            assertThat(a.fileName()).isEqualTo("scan.pdf");
            assertThat(a.size()).isEqualTo(generated.decodedSize());
            assertThat(a.sha256()).isEqualTo(generated.sha256());
        });
        assertThat(Files.size(attachmentsDir().resolve("scan.pdf"))).isEqualTo(generated.decodedSize());
    }

    @Test
    void largeAttachmentFitsInASmallHeap() throws Exception {
        Generated generated = generateLargeMessage(22_800_000L);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process process = new ProcessBuilder(javaBin, "-Xmx24m", "-cp", classPath,
                LowHeapMain.class.getName(), generated.eml().toString(), attachmentsDir().toString())
                .redirectErrorStream(true)
                .start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("RESULT " + generated.decodedSize() + " " + generated.sha256());
    }

    /** Entry point of the low-heap child JVM. */
    public static final class LowHeapMain {
        private LowHeapMain() {
        }

        public static void main(String[] args) throws Exception {
            ParsedMessage parsed = new MimeInspector().inspect(Path.of(args[0]), Path.of(args[1]));
            AttachmentInfo attachment = parsed.attachments().get(0);
            System.out.println("RESULT " + attachment.size() + " " + attachment.sha256());
        }
    }
}

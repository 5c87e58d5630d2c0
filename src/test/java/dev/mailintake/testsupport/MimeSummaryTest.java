package dev.mailintake.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The fake's {@code hasAttachments}: Graph's "doesn't include inline attachments". */
class MimeSummaryTest {

    private static boolean hasAttachments(String partHeaders) {
        String mime = "From: a@example.com\r\nMessage-ID: <x@example.com>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
                + "--b\r\n" + partHeaders + "\r\n\r\nQUJD\r\n--b--\r\n";
        return MimeSummary.of(mime.getBytes(StandardCharsets.US_ASCII)).hasAttachments();
    }

    @Test
    void countsAttachmentsButNotInlinePictures() {
        assertThat(hasAttachments("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf"))
                .isTrue();
        assertThat(hasAttachments("Content-Type: application/pdf; name=a.pdf")).as("named, no disposition").isTrue();
        assertThat(hasAttachments("Content-Type: application/pdf")).as("a scanner's bare part").isTrue();
        assertThat(hasAttachments("Content-Type: application/pdf\r\nContent-Disposition: inline; filename=scan.pdf"))
                .as("Apple Mail's inline PDF").isTrue();
        assertThat(hasAttachments("Content-Type: message/rfc822")).as("an attached message").isTrue();
        assertThat(hasAttachments("Content-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline"))
                .isFalse();
        assertThat(hasAttachments("Content-Type: image/png; name=logo.png\r\nContent-ID: <logo>")).isFalse();
        assertThat(hasAttachments("Content-Type: text/html")).as("another body part").isFalse();
        assertThat(MimeSummary.of(Mimes.plain("<p@example.com>", "plain")).hasAttachments()).isFalse();
        assertThat(MimeSummary.of(Mimes.inlineImageMessage("<i@example.com>", "inline", 10)).hasAttachments()).isFalse();
        assertThat(MimeSummary.of(Mimes.pdfMessage("<a@example.com>", "pdf", 10)).hasAttachments()).isTrue();
    }
}

package dev.mailintake.testsupport;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Builds raw RFC 5322 messages for tests. */
public final class Mimes {
    private Mimes() {
    }

    public static byte[] plain(String messageId, String subject) {
        return ("From: Alice Sender <alice@example.com>\r\n"
                + "To: invoices@contoso.test\r\n"
                + "Subject: " + subject + "\r\n"
                + "Message-ID: " + messageId + "\r\n"
                + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "\r\n"
                + "Hello, no attachment here.\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** A multipart/mixed message with one base64 attachment; {@code rawFileNameParam} goes into the header as is. */
    public static byte[] withAttachment(String messageId, String subject, String rawFileNameParam, String contentType,
                                        byte[] content) {
        String b64 = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(content);
        return ("From: Alice Sender <alice@example.com>\r\n"
                + "To: invoices@contoso.test\r\n"
                + "Subject: " + subject + "\r\n"
                + "Message-ID: " + messageId + "\r\n"
                + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                + "\r\n"
                + "--b1\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "\r\n"
                + "Please find the document attached.\r\n"
                + "--b1\r\n"
                + "Content-Type: " + contentType + "\r\n"
                + "Content-Disposition: attachment; " + rawFileNameParam + "\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "\r\n"
                + b64 + "\r\n"
                + "--b1--\r\n").getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] pdfMessage(String messageId, String subject, int pdfBytes) {
        byte[] pdf = new byte[pdfBytes];
        byte[] head = "%PDF-1.7\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, pdf, 0, Math.min(head.length, pdf.length));
        for (int i = head.length; i < pdf.length; i++) {
            pdf[i] = (byte) ((i * 31 + messageId.hashCode()) & 0xff);
        }
        return withAttachment(messageId, subject, "filename=\"invoice.pdf\"", "application/pdf", pdf);
    }

    /**
     * An HTML message whose only other part is an image shown in the body (multipart/related, {@code Content-ID},
     * disposition {@code inline}): no attachment in Graph's sense ({@code hasAttachments=false}) nor for the rules.
     */
    public static byte[] inlineImageMessage(String messageId, String subject, int imageBytes) {
        byte[] png = new byte[imageBytes];
        for (int i = 0; i < png.length; i++) {
            png[i] = (byte) ((i * 17 + messageId.hashCode()) & 0xff);
        }
        String b64 = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(png);
        return ("From: Alice Sender <alice@example.com>\r\n"
                + "To: invoices@contoso.test\r\n"
                + "Subject: " + subject + "\r\n"
                + "Message-ID: " + messageId + "\r\n"
                + "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/related; boundary=\"r1\"; type=\"text/html\"\r\n"
                + "\r\n"
                + "--r1\r\n"
                + "Content-Type: text/html; charset=utf-8\r\n"
                + "\r\n"
                + "<html><body><p>Our logo:</p><img src=\"cid:logo@example.com\"></body></html>\r\n"
                + "--r1\r\n"
                + "Content-Type: image/png\r\n"
                + "Content-Disposition: inline\r\n"
                + "Content-ID: <logo@example.com>\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "\r\n"
                + b64 + "\r\n"
                + "--r1--\r\n").getBytes(StandardCharsets.UTF_8);
    }
}

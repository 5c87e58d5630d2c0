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
}

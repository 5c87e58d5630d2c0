package dev.mailintake.intake;

/**
 * One attachment of a parsed message, already written to disk.
 *
 * @param originalName the decoded name from the message (Content-Disposition {@code filename}, RFC 2231
 *                     {@code filename*}, or Content-Type {@code name}), or {@code null} when it had none
 * @param fileName     the safe name under which the decoded bytes were stored in the attachments directory
 * @param contentType  the lower-case MIME type without parameters, e.g. {@code application/pdf}
 * @param size         number of decoded bytes
 * @param sha256       lower-case hex SHA-256 of the decoded bytes
 * @param inline       {@code true} for parts that do not count as attachments for the rules: inline images
 *                     (disposition {@code inline} or a Content-ID), signatures and reports; see {@link MimeInspector}
 * @param contentId    the Content-ID header as sent, trimmed (angle brackets kept), or {@code null}
 */
public record AttachmentInfo(
        String originalName,
        String fileName,
        String contentType,
        long size,
        String sha256,
        boolean inline,
        String contentId) {
}

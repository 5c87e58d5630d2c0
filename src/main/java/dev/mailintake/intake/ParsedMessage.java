package dev.mailintake.intake;

import java.util.List;

/**
 * Summary of a parsed message: decoded envelope headers and the attachments written to disk.
 *
 * @param messageId the Message-ID header trimmed, angle brackets kept; {@code null} when absent
 * @param subject   the Subject with RFC 2047 encoded words decoded; {@code null} when absent
 * @param from      the From addresses as display strings joined with {@code ", "}; {@code null} when absent
 * @param sender    the Sender address(es) like {@code from}; {@code null} when absent
 * @param to        the To addresses, e.g. {@code Jörg Müller <joerg@example.com>}; empty when absent
 * @param cc        the Cc addresses; empty when absent
 * @param replyTo   the Reply-To addresses; empty when absent
 * @param date      the Date header as sent (trimmed); {@code null} when absent
 * @param size      size of the raw message in bytes
 * @param attachments all attachments, including inline ones, in message order
 */
public record ParsedMessage(
        String messageId,
        String subject,
        String from,
        String sender,
        List<String> to,
        List<String> cc,
        List<String> replyTo,
        String date,
        long size,
        List<AttachmentInfo> attachments) {

    public ParsedMessage {
        to = List.copyOf(to);
        cc = List.copyOf(cc);
        replyTo = List.copyOf(replyTo);
        attachments = List.copyOf(attachments);
    }

    /** The attachments that are not {@linkplain AttachmentInfo#inline() inline}. */
    public List<AttachmentInfo> realAttachments() {
        return attachments.stream().filter(a -> !a.inline()).toList();
    }
}

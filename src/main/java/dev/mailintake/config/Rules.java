package dev.mailintake.config;

import java.util.List;

/**
 * What a message must satisfy to be imported; a violation moves it to the Error folder.
 *
 * @param requireAttachment      at least one (non-inline) attachment
 * @param allowedAttachmentTypes file extensions ({@code pdf}) or MIME types ({@code application/pdf},
 *                               {@code image/*}); empty means any
 * @param maxMessageBytes        upper bound of the raw message size
 */
public record Rules(boolean requireAttachment, List<String> allowedAttachmentTypes, long maxMessageBytes) {
}

package dev.mailintake.intake;

import java.io.File;
import java.nio.charset.StandardCharsets;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.hc.client5.http.entity.mime.HttpMultipartMode;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;

/**
 * Bean {@code multipart}: one attachment of an {@code attachments} split as a {@code multipart/form-data} body for
 * camel-http, with a part {@code file} (the attachment, streamed from its spooled file, with its name and content
 * type) and a part {@code metadata} (the message's {@code MailIntakeMetadata} JSON).
 */
public final class MultipartForm {
    public HttpEntity attachment(Exchange exchange) {
        Message in = exchange.getMessage();
        String file = in.getHeader(AttachmentSplitter.FILE, String.class);
        if (file == null) {
            throw new IllegalArgumentException("multipart.attachment needs a part of an attachments split");
        }
        String type = in.getHeader(AttachmentSplitter.CONTENT_TYPE, "application/octet-stream", String.class);
        String metadata = in.getHeader(DeliveryHeaders.METADATA, "{}", String.class);
        return MultipartEntityBuilder.create()
                .setMode(HttpMultipartMode.EXTENDED) // UTF-8 file names (RFC 7578)
                .addBinaryBody("file", new File(file), ContentType.parseLenient(type),
                        in.getHeader(AttachmentSplitter.NAME, String.class))
                .addTextBody("metadata", metadata, ContentType.APPLICATION_JSON.withCharset(StandardCharsets.UTF_8))
                .build();
    }
}

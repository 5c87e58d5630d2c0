package dev.mailintake.intake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.converter.stream.FileInputStreamCache;
import org.apache.camel.util.ObjectHelper;
import org.apache.camel.util.URISupport;

/**
 * Any Camel endpoint as target, e.g. a user's route ({@code direct:dms}): the raw MIME as a file-backed stream body,
 * the metadata as {@code MailIntake*} headers ({@link DeliveryHeaders}, plus {@code CamelFileName} =
 * {@code <key-hash>.eml}); the contract is in docs/routes.md.
 */
public final class EndpointTarget implements MessageTarget {
    private final String uri;
    private final Path spoolRoot;
    private final ProducerTemplate producer;
    private final ObjectMapper json;

    public EndpointTarget(String uri, Path spoolRoot, ProducerTemplate producer, ObjectMapper json) {
        this.uri = uri;
        this.spoolRoot = spoolRoot;
        this.producer = producer;
        this.json = json;
    }

    @Override
    public Path newSpoolDir() throws IOException {
        Path dir = spoolRoot.resolve(UUID.randomUUID().toString());
        Files.createDirectories(dir);
        return dir;
    }

    /** The spool is only a staging copy: the endpoint is handed a stream of it. */
    @Override
    public SweptLeftovers sweepLeftovers() throws IOException {
        return Leftovers.sweep(spoolRoot);
    }

    @Override
    public SweptLeftovers sweepLeftovers(java.time.Instant before) throws IOException {
        return Leftovers.sweep(spoolRoot, before);
    }

    /**
     * Sends the message to the endpoint and waits for the outcome: completed = delivered; header
     * {@value RejectMessage#HEADER} set or {@link RejectMessage} thrown = rejected ({@link PermanentMessageFailure}, to
     * Error); any other failure = {@link TargetUnavailableException} (retried, then left in the Inbox).
     */
    @Override
    public String deliver(SpooledMessage m, Map<String, Object> metadata) {
        // a file-backed stream cache: Camel's stream caching keeps it as it is (no copy in memory) and every step of a
        // route (two sinks, a split) can read it from the start
        FileInputStreamCache body = new FileInputStreamCache(m.eml().toFile());
        try {
            Exchange result = producer.send(uri, ex -> {
                ex.setProperty(DeliveryHeaders.SPOOLED_MESSAGE, m);
                ex.getIn().setBody(body);
                ex.getIn().setHeader(DeliveryHeaders.MAILBOX, metadata.get("mailbox"));
                ex.getIn().setHeader(DeliveryHeaders.MESSAGE_KEY, metadata.get("messageKey"));
                ex.getIn().setHeader(DeliveryHeaders.INTERNET_MESSAGE_ID, metadata.get("internetMessageId"));
                ex.getIn().setHeader(DeliveryHeaders.SUBJECT, metadata.get("subject"));
                ex.getIn().setHeader(DeliveryHeaders.FROM, metadata.get("from"));
                ex.getIn().setHeader(DeliveryHeaders.TO, metadata.get("to"));
                ex.getIn().setHeader(DeliveryHeaders.RECEIVED_AT, metadata.get("receivedAt"));
                ex.getIn().setHeader(DeliveryHeaders.SHA256, metadata.get("sha256"));
                ex.getIn().setHeader(DeliveryHeaders.SIZE, m.parsed().size());
                ex.getIn().setHeader(DeliveryHeaders.ATTACHMENT_COUNT, m.parsed().realAttachments().size());
                ex.getIn().setHeader(DeliveryHeaders.METADATA, toJson(metadata));
                ex.getIn().setHeader(DeliveryHeaders.POSSIBLE_DUPLICATE,
                        Boolean.TRUE.equals(metadata.get("possibleDuplicate")));
                ex.getIn().setHeader(Exchange.FILE_NAME, FolderTarget.folderName(m) + ".eml");
            });
            String target = URISupport.sanitizeUri(uri);
            Exception failure = result.getException();
            RejectMessage reject = failure == null ? null : ObjectHelper.getException(RejectMessage.class, failure);
            if (reject != null) {
                throw rejected(target, reject.reason());
            }
            if (failure != null) {
                // without the cause: Camel picks the error clause by the innermost cause, and a route's failure may
                // carry one of ours (a malformed attachment) that would send the message elsewhere
                throw new TargetUnavailableException("target " + target + " failed: " + failure, null);
            }
            String reason = result.getMessage().getHeader(RejectMessage.HEADER, String.class);
            if (reason != null) {
                throw rejected(target, reason);
            }
            return target;
        } finally {
            body.close();
        }
    }

    private static PermanentMessageFailure rejected(String target, String reason) {
        return new PermanentMessageFailure(reasonText(reason), "rejected by " + target);
    }

    /** A route's reason as a short single line (it becomes a category or keyword mark in the mailbox). */
    static String reasonText(String reason) {
        String r = reason == null ? "" : reason.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (r.isEmpty()) {
            return "rejected by the delivery route";
        }
        return r.length() > 100 ? r.substring(0, 100) : r;
    }

    private String toJson(Map<String, Object> metadata) {
        try {
            return json.writeValueAsString(metadata);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

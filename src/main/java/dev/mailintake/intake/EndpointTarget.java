package dev.mailintake.intake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.util.URISupport;

/**
 * Any Camel endpoint as target: the raw MIME as a stream body, the metadata as {@code MailIntake*} headers (plus
 * {@code CamelFileName} = {@code <key-hash>.eml}).
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
    public String deliver(SpooledMessage m, Map<String, Object> metadata) {
        try (InputStream body = Files.newInputStream(m.eml())) {
            Exchange result = producer.send(uri, ex -> {
                ex.getIn().setBody(body);
                ex.getIn().setHeader("MailIntakeMailbox", metadata.get("mailbox"));
                ex.getIn().setHeader("MailIntakeMessageKey", metadata.get("messageKey"));
                ex.getIn().setHeader("MailIntakeInternetMessageId", metadata.get("internetMessageId"));
                ex.getIn().setHeader("MailIntakeSubject", metadata.get("subject"));
                ex.getIn().setHeader("MailIntakeFrom", metadata.get("from"));
                ex.getIn().setHeader("MailIntakeTo", metadata.get("to"));
                ex.getIn().setHeader("MailIntakeReceivedAt", metadata.get("receivedAt"));
                ex.getIn().setHeader("MailIntakeSha256", metadata.get("sha256"));
                ex.getIn().setHeader("MailIntakeMetadata", toJson(metadata));
                ex.getIn().setHeader(Exchange.FILE_NAME, FolderTarget.folderName(m) + ".eml");
            });
            if (result.getException() != null) {
                throw new TargetUnavailableException("target " + URISupport.sanitizeUri(uri) + " failed: "
                        + result.getException().getMessage(), result.getException());
            }
            return URISupport.sanitizeUri(uri);
        } catch (IOException e) {
            throw new TargetUnavailableException("cannot read spooled message: " + e.getMessage(), e);
        }
    }

    private String toJson(Map<String, Object> metadata) {
        try {
            return json.writeValueAsString(metadata);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

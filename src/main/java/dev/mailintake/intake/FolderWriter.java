package dev.mailintake.intake;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.camel.Exchange;

/**
 * The built-in folder layout as a step of a user's delivery route (bean {@code folderWriter}): writes the message
 * being delivered to {@code <folder>/<yyyy-MM-dd>/<safe-id>/} with {@code message.eml}, {@code metadata.json} and
 * {@code attachments/}, staged under {@code <folder>/.incoming/} and renamed into place, so a watcher never sees a
 * half-written message; a message already there is not written again. Unlike the {@code folder:} target (whose spool
 * already lies in {@code .incoming/}, so delivering is one rename) this copies the spooled files first.
 */
public final class FolderWriter {
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private final ObjectMapper json;

    public FolderWriter(ObjectMapper json) {
        this.json = json;
    }

    /** Header set by {@link #write}: the message's folder. */
    public static final String LOCATION = "MailIntakeFolderLocation";

    /** Writes the message; leaves the body as it is and sets header {@value #LOCATION} to the message's folder. */
    public void write(Exchange exchange, String folder) throws IOException {
        SpooledMessage m = exchange.getProperty(DeliveryHeaders.SPOOLED_MESSAGE, SpooledMessage.class);
        if (m == null) {
            throw new IllegalArgumentException("folderWriter.write needs a message that Mail Intake is delivering"
                    + " (a route named by a mailbox's target)");
        }
        String metadata = exchange.getMessage().getHeader(DeliveryHeaders.METADATA, String.class);
        FolderTarget target = new FolderTarget(Path.of(folder), json);
        Path staging = target.newSpoolDir();
        try {
            Files.copy(m.eml(), staging.resolve(SpooledMessage.MESSAGE_FILE));
            Path attachments = m.dir().resolve(SpooledMessage.ATTACHMENTS_DIR);
            if (Files.isDirectory(attachments, LinkOption.NOFOLLOW_LINKS)) {
                Path copy = Files.createDirectory(staging.resolve(SpooledMessage.ATTACHMENTS_DIR));
                try (Stream<Path> files = Files.list(attachments)) {
                    for (Path f : files.toList()) {
                        Files.copy(f, copy.resolve(f.getFileName().toString()), LinkOption.NOFOLLOW_LINKS);
                    }
                }
            }
            SpooledMessage staged = new SpooledMessage(m.ref(), staging, staging.resolve(SpooledMessage.MESSAGE_FILE),
                    m.sha256(), m.parsed());
            exchange.getMessage().setHeader(LOCATION, target.deliver(staged,
                    metadata == null ? Map.of() : json.readValue(metadata, MAP)));
        } finally {
            deleteTree(staging);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return; // renamed into place
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> paths = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}

package dev.mailintake.intake;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default target: one folder per message, {@code <root>/<yyyy-MM-dd>/<safe-id>/} with {@code message.eml},
 * {@code metadata.json} and {@code attachments/}. Spooled under {@code <root>/.incoming/} and renamed into place
 * atomically, so a watcher never sees a half-written message. The folder name derives from the message key, so a
 * second delivery of the same message finds its folder and writes nothing.
 */
public final class FolderTarget implements MessageTarget {
    private static final Logger LOG = LoggerFactory.getLogger(FolderTarget.class);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    public static final String INCOMING = ".incoming";

    private final Path root;
    private final ObjectWriter metadataWriter;

    public FolderTarget(Path root, ObjectMapper json) {
        this.root = root.toAbsolutePath().normalize();
        this.metadataWriter = json.writerWithDefaultPrettyPrinter();
    }

    @Override
    public Path newSpoolDir() throws IOException {
        Path dir = root.resolve(INCOMING).resolve(UUID.randomUUID().toString());
        Files.createDirectories(dir);
        return dir;
    }

    /** The {@code .incoming} entries: a message is delivered only by its rename out of there. */
    @Override
    public SweptLeftovers sweepLeftovers() throws IOException {
        return Leftovers.sweep(root.resolve(INCOMING));
    }

    @Override
    public SweptLeftovers sweepLeftovers(java.time.Instant before) throws IOException {
        return Leftovers.sweep(root.resolve(INCOMING), before);
    }

    /** The folder name derives from the message key: a second delivery finds the folder and writes nothing. */
    @Override
    public boolean idempotentByKey() {
        return true;
    }

    @Override
    public String deliver(SpooledMessage m, Map<String, Object> metadata) {
        Path day = root.resolve(DAY.format(m.ref().receivedAt()));
        Path finalDir = day.resolve(folderName(m));
        try {
            if (Files.exists(finalDir)) {
                LOG.info("mailbox '{}': message {} is already in {}; not written again", m.ref().mailbox(),
                        m.ref().shortKey(), finalDir);
                return finalDir.toString();
            }
            // UTF-8, as Files.writeString of the same text would
            metadataWriter.writeValue(m.dir().resolve(SpooledMessage.METADATA_FILE).toFile(), metadata);
            if (!Files.isDirectory(day)) {
                // only for the day's first message: on an existing directory createDirectories throws and catches two
                // exceptions (the JDK's own FileAlreadyExistsException), a cost every message paid
                Files.createDirectories(day);
            }
            try {
                Files.move(m.dir(), finalDir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new TargetUnavailableException("target folder " + root + " does not support atomic renames", e);
            } catch (FileAlreadyExistsException e) {
                LOG.info("mailbox '{}': message {} appeared in {} meanwhile; not written again", m.ref().mailbox(),
                        m.ref().shortKey(), finalDir);
            }
            return finalDir.toString();
        } catch (IOException e) {
            throw new TargetUnavailableException("cannot write to target folder " + root + ": " + e, e);
        }
    }

    /** Sortable and unique per message key: {@code 20261122T101530Z-<20 hex of sha256(key)>}. */
    static String folderName(SpooledMessage m) {
        byte[] hash = LimitedCopy.sha256().digest(m.ref().key().getBytes(StandardCharsets.UTF_8));
        return STAMP.format(m.ref().receivedAt()) + "-" + HexFormat.of().formatHex(hash).substring(0, 20);
    }
}

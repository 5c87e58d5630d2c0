package dev.mailintake.intake;

import java.nio.file.Path;

/**
 * A message fetched into a spool directory: {@code message.eml} and {@code attachments/}, not yet delivered.
 *
 * @param sha256 of the raw message
 */
public record SpooledMessage(MessageRef ref, Path dir, Path eml, String sha256, ParsedMessage parsed) {
    public static final String MESSAGE_FILE = "message.eml";
    public static final String ATTACHMENTS_DIR = "attachments";
    public static final String METADATA_FILE = "metadata.json";
}

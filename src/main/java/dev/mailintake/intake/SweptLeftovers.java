package dev.mailintake.intake;

import java.nio.file.Path;

/** How many leftovers of interrupted imports were removed from a spool directory at start-up. */
public record SweptLeftovers(Path spool, int removed) {
}

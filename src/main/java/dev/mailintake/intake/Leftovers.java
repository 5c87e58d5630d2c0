package dev.mailintake.intake;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

/**
 * What an interrupted import (a crash, {@code kill -9}) leaves in a spool directory: its entries named by a random
 * UUID, each one message being spooled. None is a delivered message, so they are removed at start-up, before any
 * import runs. Symbolic links are never followed: a link is removed as a link, and a spool directory that is itself a
 * link is refused.
 */
final class Leftovers {
    private Leftovers() {
    }

    /** Removes the UUID-named entries of {@code spool}; returns how many. */
    static SweptLeftovers sweep(Path spool) throws IOException {
        return sweep(spool, java.time.Instant.MAX);
    }

    /**
     * Removes the UUID-named entries of {@code spool} last changed before {@code before} (with several instances on one
     * target, a young entry may be another instance's message being imported now); returns how many.
     */
    static SweptLeftovers sweep(Path spool, java.time.Instant before) throws IOException {
        if (Files.notExists(spool, LinkOption.NOFOLLOW_LINKS)) {
            return new SweptLeftovers(spool, 0);
        }
        if (!Files.isDirectory(spool, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(spool + " is not a directory (a symbolic link?); nothing removed");
        }
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(spool, p -> isUuid(p.getFileName().toString()))) {
            for (Path entry : entries) {
                if (Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
                    deleteTree(entry);
                    removed++;
                }
            }
        }
        return new SweptLeftovers(spool, removed);
    }

    private static boolean isUuid(String name) {
        try {
            return UUID.fromString(name).toString().equals(name);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Deletes a tree bottom-up; without FOLLOW_LINKS a link (to a file or a directory) is visited as a file. */
    private static void deleteTree(Path top) throws IOException {
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}

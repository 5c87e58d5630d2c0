package dev.mailintake.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Reads what the default folder target wrote. */
public final class Delivered {
    private Delivered() {
    }

    /** Every delivered message folder ({@code <day>/<id>/} holding message.eml), outside the spool. */
    public static List<Path> messageDirs(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.getFileName().toString().equals("message.eml"))
                    .filter(p -> !root.relativize(p).toString().startsWith(".incoming"))
                    .map(Path::getParent)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.mailintake.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where imported messages go: a folder written by Mail Intake ({@code folder:<path>}) or any Camel endpoint URI.
 */
public record Target(Optional<Path> folder, Optional<String> endpointUri) {
    public static Target folder(Path path) {
        return new Target(Optional.of(path), Optional.empty());
    }

    public static Target endpoint(String uri) {
        return new Target(Optional.empty(), Optional.of(uri));
    }

    @Override
    public String toString() {
        return folder.map(p -> "folder:" + p).orElseGet(endpointUri::get);
    }
}

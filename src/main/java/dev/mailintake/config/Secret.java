package dev.mailintake.config;

/** A secret value that never shows itself in {@code toString()}, logs or pages. */
public record Secret(String value) {
    public Secret {
        if (value == null) {
            throw new IllegalArgumentException("secret value must not be null");
        }
    }

    @Override
    public String toString() {
        return "****";
    }
}

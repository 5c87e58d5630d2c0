package dev.mailintake.config;

import dev.mailintake.config.ConfigKey.Bool;
import dev.mailintake.config.ConfigKey.Choice;
import dev.mailintake.config.ConfigKey.Dur;
import dev.mailintake.config.ConfigKey.Int;
import dev.mailintake.config.ConfigKey.Scope;
import dev.mailintake.config.ConfigKey.SecretText;
import dev.mailintake.config.ConfigKey.Size;
import dev.mailintake.config.ConfigKey.Type;
import dev.mailintake.config.ConfigKey.Url;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The values of one scope's keys (the global ones, one connection's or one mailbox's), read as {@link ConfigSchema}
 * declares them: its default, its range. A value that does not fit adds a problem (the key, what is wrong, the fix) and
 * reads as the default. A blank value reads as absent. Secret keys are read only as {@link Secret}s, so their values
 * cannot reach a message.
 */
final class Settings {
    private final Scope scope;
    private final String prefix;
    private final Map<String, String> values;
    private final List<String> problems;

    /**
     * @param prefix   the keys' prefix as written ({@code mailintake.connections.contoso.})
     * @param values   the settings below it
     * @param problems where problems are added
     */
    Settings(Scope scope, String prefix, Map<String, String> values, List<String> problems) {
        this.scope = scope;
        this.prefix = prefix;
        this.values = values;
        this.problems = problems;
    }

    String prefix() {
        return prefix;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    /** Adds a problem of key {@code name}. */
    void problem(String name, String text) {
        problems.add(prefix + name + ": " + text);
    }

    /** The value as written, trimmed (blank too), else the declared default. */
    String text(String name) {
        ConfigKey key = key(name, Type.class);
        String v = values.get(name);
        return v == null ? key.dflt() : v.trim();
    }

    /** The declared default. */
    String dflt(String name) {
        return key(name, Type.class).dflt();
    }

    /** The value exactly as written (white space too), unless absent or empty. */
    Optional<String> raw(String name) {
        key(name, Type.class);
        return Optional.ofNullable(values.get(name)).filter(v -> !v.isEmpty());
    }

    /** The value, trimmed, unless absent or blank. */
    Optional<String> optional(String name) {
        key(name, Type.class);
        String v = values.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    Optional<Path> path(String name) {
        return optional(name).map(Path::of);
    }

    /** A file that must be readable; {@code fix} says what to give instead. */
    Optional<Path> readableFile(String name, String fix) {
        Optional<Path> file = path(name);
        file.filter(f -> !Files.isReadable(f)).ifPresent(f ->
                problem(name, "file " + f.toAbsolutePath() + " is not readable; " + fix));
        return file;
    }

    Optional<Secret> secret(String name) {
        key(name, SecretText.class);
        String v = values.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(new Secret(v));
    }

    /** The members of a family of secrets ({@code token-params.<name>}) by name, blank values too. */
    Map<String, Secret> secrets(String family) {
        String familyPrefix = key(family, SecretText.class).familyPrefix();
        Map<String, Secret> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(familyPrefix)) {
                out.put(k.substring(familyPrefix.length()), new Secret(v == null ? "" : v));
            }
        });
        return out;
    }

    /** Separated by commas or white space. */
    List<String> list(String name) {
        return optional(name).map(v -> Arrays.stream(v.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList())
                .orElse(List.of());
    }

    int integer(String name) {
        return integer(name, ((Int) key(name, Int.class).type()).note());
    }

    /** With a {@code note} that explains the range here. */
    int integer(String name, String note) {
        return integer(name, Integer.parseInt(key(name, Int.class).dflt()), note);
    }

    /** With a default computed from other keys and a {@code note} that explains the range. */
    int integer(String name, int dflt, String note) {
        Int type = (Int) key(name, Int.class).type();
        Optional<String> v = optional(name);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.get());
            if (n < type.min() || n > type.max()) {
                problem(name, n + " is out of range; use " + type.min() + ".." + type.max()
                        + (note.isEmpty() ? "" : " (" + note + ")"));
                return dflt;
            }
            return n;
        } catch (NumberFormatException e) {
            problem(name, "'" + values.get(name) + "' is not a whole number");
            return dflt;
        }
    }

    boolean bool(String name) {
        boolean dflt = Boolean.parseBoolean(key(name, Bool.class).dflt());
        Optional<String> v = optional(name);
        if (v.isEmpty()) {
            return dflt;
        }
        if (!v.get().equalsIgnoreCase("true") && !v.get().equalsIgnoreCase("false")) {
            problem(name, "'" + values.get(name) + "' must be true or false");
            return dflt;
        }
        return Boolean.parseBoolean(v.get());
    }

    Duration duration(String name) {
        ConfigKey key = key(name, Dur.class);
        Duration min = ((Dur) key.type()).min();
        String v = optional(name).orElse(key.dflt());
        try {
            Duration d = Units.duration(v);
            if (d.compareTo(min) < 0) {
                problem(name, v + " is too short; give at least " + Units.format(min));
            }
            return d;
        } catch (RuntimeException e) {
            problem(name, "'" + v + "' is not a duration; use e.g. " + key.dflt());
            return Units.duration(key.dflt());
        }
    }

    /** In bytes. */
    long size(String name) {
        ConfigKey key = key(name, Size.class);
        Size type = (Size) key.type();
        String v = optional(name).orElse(key.dflt());
        long n;
        try {
            n = Units.bytes(v);
        } catch (RuntimeException e) {
            problem(name, "'" + v + "' is not a size; use e.g. 25MB");
            return Units.bytes(key.dflt());
        }
        if (!type.min().isEmpty() && (n < Units.bytes(type.min()) || n > Units.bytes(type.max()))) {
            problem(name, v + " is out of range; use " + type.min() + ".." + type.max()
                    + (type.note().isEmpty() ? "" : " (" + type.note() + ")"));
            return Units.bytes(key.dflt());
        }
        return n;
    }

    /** One of an enum's constants, written in lower case with {@code -}. */
    <E extends Enum<E>> E choice(String name, Class<E> type) {
        ConfigKey key = key(name, Choice.class);
        E dflt = constant(type, key.dflt());
        Optional<String> v = optional(name);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            return constant(type, v.get());
        } catch (IllegalArgumentException e) {
            problem(name, "'" + values.get(name) + "' is not one of " + ((Choice) key.type()).values());
            return dflt;
        }
    }

    private static <E extends Enum<E>> E constant(Class<E> type, String v) {
        return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    URI url(String name) {
        return url(name, key(name, Url.class).dflt());
    }

    /** An absolute URL ({@code https}, or also {@code http} as declared); null if it is not a URL at all. */
    URI url(String name, String dflt) {
        boolean httpsOnly = ((Url) key(name, Url.class).type()).httpsOnly();
        String v = optional(name).orElse(dflt);
        try {
            URI u = URI.create(v);
            boolean ok = "https".equals(u.getScheme()) || (!httpsOnly && "http".equals(u.getScheme()));
            if (!ok || u.getHost() == null) {
                problem(name, "'" + v + "' must be an absolute " + (httpsOnly ? "https" : "http(s)") + " URL");
            }
            return u;
        } catch (IllegalArgumentException e) {
            problem(name, "'" + v + "' is not a URL");
            return null;
        }
    }

    /** The Quartz form of a 5-field Unix or 6/7-field Quartz cron; empty (and a problem) if invalid. */
    Optional<String> cron(String name, String value, String example) {
        key(name, Type.class);
        try {
            return Optional.of(Crons.toQuartz(value));
        } catch (IllegalArgumentException e) {
            problem(name, e.getMessage() + "; give a cron, " + example);
            return Optional.empty();
        }
    }

    private ConfigKey key(String name, Class<? extends Type> type) {
        ConfigKey key = ConfigSchema.get(scope, name);
        if (!type.isInstance(key.type()) || (key.type() instanceof SecretText && type != SecretText.class)) {
            throw new IllegalArgumentException(key.scope().prefix() + name + " is declared as " + key.type()
                    + ", not read as " + type.getSimpleName());
        }
        return key;
    }
}

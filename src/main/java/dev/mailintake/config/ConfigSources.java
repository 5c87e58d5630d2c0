package dev.mailintake.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the application's properties come from, lowest precedence first: the jar's defaults
 * ({@value #DEFAULTS}), the user's file, the environment, the command line ({@code --key=value}).
 *
 * @param userFile    the file read ({@code --config}, {@code MAILINTAKE_CONFIG} or {@code ./application.properties});
 *                    empty when the jar's copy of {@code application.properties} is used
 * @param environment the process environment (tests pass their own)
 * @param commandLine {@code --key=value} arguments (tests pass their settings here)
 */
public record ConfigSources(Optional<Path> userFile, Map<String, String> environment, Map<String, String> commandLine) {
    /** The jar's defaults: every {@code camel.*} key the application needs; always loaded under the user's file. */
    public static final String DEFAULTS = "mail-intake-defaults.properties";
    static final String JAR_COPY = "application.properties";

    public ConfigSources {
        userFile = userFile.map(p -> p.toAbsolutePath().normalize());
        environment = Map.copyOf(environment);
        commandLine = Map.copyOf(new LinkedHashMap<>(commandLine));
    }

    /**
     * The file named by {@code --config} or {@code MAILINTAKE_CONFIG}, else {@code ./application.properties} if it
     * exists, else the jar's copy.
     */
    public static Optional<Path> userFile(String configArgument) {
        if (configArgument != null && !configArgument.isBlank()) {
            return Optional.of(Path.of(configArgument));
        }
        Path local = Path.of(JAR_COPY);
        return Files.exists(local) ? Optional.of(local) : Optional.empty();
    }

    /** Camel's property locations, the first one winning: the user's file over the jar's defaults. */
    public String locations() {
        return userFile.map(p -> "file:" + p).orElse("classpath:" + JAR_COPY) + ",classpath:" + DEFAULTS;
    }

    /** The directory of the file read (the working directory when the jar's copy is used): where routes/ and lib/ live. */
    public Path baseDirectory() {
        return userFile.map(Path::getParent).orElse(Path.of("").toAbsolutePath());
    }

    /** The files' properties as written (placeholders not resolved), the user's file over the jar's defaults. */
    public Properties fileProperties() {
        Properties p = new Properties();
        readClasspath(DEFAULTS, p);
        if (userFile.isPresent()) {
            if (Files.isRegularFile(userFile.get())) {
                try (Reader r = Files.newBufferedReader(userFile.get(), StandardCharsets.ISO_8859_1)) {
                    p.load(r);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + userFile.get() + ": " + e.getMessage(), e);
                }
            }
        } else {
            readClasspath(JAR_COPY, p);
        }
        return p;
    }

    /**
     * A key's value as written in the layer that wins (command line, environment, the files); placeholders not
     * resolved.
     */
    public Optional<String> raw(String key) {
        if (commandLine.containsKey(key)) {
            return Optional.of(commandLine.get(key));
        }
        String env = environment.get(environmentName(key));
        if (env != null) {
            return Optional.of(env);
        }
        return Optional.ofNullable(fileProperties().getProperty(key));
    }

    /** The environment variable of a key: upper case, {@code .} and {@code -} turned into {@code _}. */
    public static String environmentName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static void readClasspath(String name, Properties into) {
        try (InputStream in = ConfigSources.class.getClassLoader().getResourceAsStream(name)) {
            if (in != null) {
                into.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " from the jar: " + e.getMessage(), e);
        }
    }
}

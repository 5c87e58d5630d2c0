package dev.mailintake.config;

import dev.mailintake.config.ConfigKey.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key tables of the docs, generated from {@link ConfigSchema} between marker comments:
 * {@code <!-- generated: global keys -->} … {@code <!-- end generated -->} (also {@code connection keys},
 * {@code mailbox keys}; {@code mailbox keys imap.} for the settings that start with {@code imap.} only).
 * {@link ConfigReferenceTest} fails when a committed file differs; {@link #main} rewrites them.
 */
public final class ConfigReference {
    /** The reference (every key) and the pages with a part of it. */
    static final Path DOCS = Path.of("docs/configuration.md");
    static final List<Path> PAGES = List.of(DOCS, Path.of("docs/imap.md"));
    static final Pattern SECTION = Pattern.compile(
            "(<!-- generated: (global|connection|mailbox) keys ?([^>]*?) ?-->\\n)(.*?)(<!-- end generated -->)",
            Pattern.DOTALL);

    private ConfigReference() {
    }

    /** Rewrites the pages (run from the project directory). */
    public static void main(String[] args) throws IOException {
        for (Path page : PAGES) {
            Files.writeString(page, render(Files.readString(page, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        }
    }

    /** {@code markdown} with every generated section regenerated. */
    static String render(String markdown) {
        Matcher m = SECTION.matcher(markdown);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Scope scope = Scope.valueOf(m.group(2).toUpperCase(Locale.ROOT));
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + table(scope, m.group(3)) + m.group(5)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The table of a scope's keys (those that start with {@code only}, unless empty), in declaration order. */
    static String table(Scope scope, String only) {
        StringBuilder b = new StringBuilder();
        b.append(scope == Scope.GLOBAL ? "| key" : "| setting").append(" | default | range | meaning |\n");
        b.append("|---|---|---|---|\n");
        for (ConfigKey k : ConfigSchema.keys(scope).stream().filter(k -> k.name().startsWith(only)).toList()) {
            String name = scope == Scope.GLOBAL ? scope.prefix() + k.name() : k.name();
            b.append("| `").append(name).append("` | ").append(cell(k.shownDefault())).append(" | ")
                    .append(cell(k.type().range())).append(" | ").append(cell(k.help())).append(" |\n");
        }
        return b.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }
}

package dev.mailintake.config;

import dev.mailintake.config.ConfigKey.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key tables of docs/configuration.md, generated from {@link ConfigSchema} between marker comments:
 * {@code <!-- generated: global keys … -->} … {@code <!-- end generated -->} (also {@code connection keys},
 * {@code mailbox keys}). {@link ConfigReferenceTest} fails when the committed file differs; {@link #main} rewrites it.
 */
public final class ConfigReference {
    static final Path DOCS = Path.of("docs/configuration.md");
    static final Pattern SECTION = Pattern.compile(
            "(<!-- generated: (global|connection|mailbox) keys[^>]*-->\\n)(.*?)(<!-- end generated -->)", Pattern.DOTALL);

    private ConfigReference() {
    }

    /** Rewrites docs/configuration.md (run from the project directory). */
    public static void main(String[] args) throws IOException {
        Path docs = args.length > 0 ? Path.of(args[0]) : DOCS;
        Files.writeString(docs, render(Files.readString(docs, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    /** {@code markdown} with every generated section regenerated. */
    static String render(String markdown) {
        Matcher m = SECTION.matcher(markdown);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Scope scope = Scope.valueOf(m.group(2).toUpperCase(Locale.ROOT));
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + table(scope) + m.group(4)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The table of a scope's keys, in declaration order. */
    static String table(Scope scope) {
        StringBuilder b = new StringBuilder();
        b.append(scope == Scope.GLOBAL ? "| key" : "| setting").append(" | default | range | meaning |\n");
        b.append("|---|---|---|---|\n");
        for (ConfigKey k : ConfigSchema.keys(scope)) {
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

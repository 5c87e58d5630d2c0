package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.mailintake.config.ConfigKey.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The key tables in docs/configuration.md are ConfigSchema's: they cannot drift from what the application checks. */
class ConfigReferenceTest {
    @Test
    void theReferenceHasATableOfEveryKey() throws IOException {
        List<String> tables = new ArrayList<>();
        Matcher m = ConfigReference.SECTION.matcher(Files.readString(ConfigReference.DOCS, StandardCharsets.UTF_8));
        while (m.find()) {
            tables.add(m.group(2) + " keys" + (m.group(3).isEmpty() ? "" : " " + m.group(3)));
        }
        assertThat(tables).as("the generated tables of " + ConfigReference.DOCS)
                .containsExactlyInAnyOrder("global keys", "connection keys", "mailbox keys");
    }

    @Test
    void theDocsShowTheSchema() throws IOException {
        for (Path page : ConfigReference.PAGES) {
            String docs = Files.readString(page, StandardCharsets.UTF_8);
            if (ConfigReference.render(docs).equals(docs)) {
                continue;
            }
            StringBuilder sections = new StringBuilder();
            Matcher m = ConfigReference.SECTION.matcher(docs);
            while (m.find()) {
                Scope scope = Scope.valueOf(m.group(2).toUpperCase(Locale.ROOT));
                sections.append("\n").append(m.group(1)).append(ConfigReference.table(scope, m.group(3)))
                        .append(m.group(5)).append("\n");
            }
            fail(page + " differs from ConfigSchema; rewrite it with"
                    + " `java -cp target/classes:target/test-classes dev.mailintake.config.ConfigReference`, or paste"
                    + " the regenerated sections:\n" + sections);
        }
    }

    /** A key in a generated table of a page is in no other table of that page. */
    @ParameterizedTest
    @ValueSource(strings = {"docs/configuration.md", "docs/imap.md"})
    void noHandWrittenTableListsAGeneratedKey(String page) throws IOException {
        String docs = Files.readString(Path.of(page), StandardCharsets.UTF_8);
        String outside = ConfigReference.SECTION.matcher(docs).replaceAll("");
        Matcher m = ConfigReference.SECTION.matcher(docs);
        while (m.find()) {
            Scope scope = Scope.valueOf(m.group(2).toUpperCase(Locale.ROOT));
            for (ConfigKey k : ConfigSchema.keys(scope)) {
                String row = "\n| `" + (scope == Scope.GLOBAL ? scope.prefix() : "") + k.name() + "` |";
                if (k.name().startsWith(m.group(3))) {
                    assertThat(outside).as(page + ": a hand-written table row for " + k.name()).doesNotContain(row);
                }
            }
        }
    }
}

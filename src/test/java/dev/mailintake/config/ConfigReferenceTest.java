package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.mailintake.config.ConfigKey.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The key tables in docs/configuration.md are ConfigSchema's: they cannot drift from what the application checks. */
class ConfigReferenceTest {
    @Test
    void theDocsShowTheSchema() throws IOException {
        String docs = Files.readString(ConfigReference.DOCS, StandardCharsets.UTF_8);
        List<String> scopes = new ArrayList<>();
        Matcher m = ConfigReference.SECTION.matcher(docs);
        while (m.find()) {
            scopes.add(m.group(2));
        }
        assertThat(scopes).as("one generated table per scope in " + ConfigReference.DOCS)
                .containsExactlyInAnyOrder("global", "connection", "mailbox");
        String regenerated = ConfigReference.render(docs);
        if (!regenerated.equals(docs)) {
            StringBuilder sections = new StringBuilder();
            for (Scope scope : Scope.values()) {
                sections.append("\n<!-- generated: ").append(scope.word()).append(" keys -->\n")
                        .append(ConfigReference.table(scope)).append("<!-- end generated -->\n");
            }
            fail(ConfigReference.DOCS + " differs from ConfigSchema; rewrite it with"
                    + " `java -cp target/classes:target/test-classes dev.mailintake.config.ConfigReference`, or paste"
                    + " the regenerated sections:\n" + sections);
        }
    }

    @Test
    void noOtherTableOfTheConfigurationReferenceListsAKey() throws IOException {
        String outside = ConfigReference.SECTION.matcher(Files.readString(ConfigReference.DOCS, StandardCharsets.UTF_8))
                .replaceAll("");
        for (ConfigKey k : ConfigSchema.KEYS) {
            String cell = "\n| `" + (k.scope() == Scope.GLOBAL ? k.scope().prefix() : "") + k.name() + "` |";
            assertThat(outside).as("a hand-written table row for " + k.name()).doesNotContain(cell);
        }
    }
}

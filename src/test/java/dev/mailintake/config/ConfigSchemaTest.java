package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mailintake.config.ConfigKey.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ConfigSchemaTest {
    @Test
    void everyKeyIsDeclaredOnceWithHelpAndADefaultThatFitsItsType() {
        assertThat(ConfigSchema.KEYS.stream().map(k -> k.scope() + " " + k.name())).doesNotHaveDuplicates();
        List<String> problems = new ArrayList<>();
        for (ConfigKey k : ConfigSchema.KEYS) {
            assertThat(k.help()).as(k.name()).isNotBlank().doesNotContain("\n");
            assertThat(k.shownDefault()).as(k.name()).isNotBlank();
            if (k.dflt() == null || k.type() instanceof ConfigKey.SecretText) {
                continue;
            }
            // the default, written as a value, is accepted as it is
            Settings s = new Settings(k.scope(), k.scope().prefix(), Map.of(k.name(), k.dflt()), problems);
            ConfigKey.Type t = k.type();
            if (t instanceof ConfigKey.Int) {
                assertThat(s.integer(k.name())).isEqualTo(Integer.parseInt(k.dflt()));
            } else if (t instanceof ConfigKey.Bool) {
                s.bool(k.name());
            } else if (t instanceof ConfigKey.Dur) {
                s.duration(k.name());
            } else if (t instanceof ConfigKey.Size) {
                s.size(k.name());
            } else if (t instanceof ConfigKey.Url) {
                s.url(k.name());
            } else if (t instanceof ConfigKey.Choice c) {
                assertThat(c.values()).as(k.name()).contains(k.dflt());
            } else if (t instanceof ConfigKey.Cron) {
                s.cron(k.name(), k.dflt(), "");
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theDefaultsInTheBuiltInRoutesAreTheSchemas() throws IOException {
        Pattern placeholder = Pattern.compile("\\{\\{mailintake\\.([a-z0-9.-]+):([^}]*)}}");
        int found = 0;
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/routes"))) {
            for (Path f : files.toList()) {
                Matcher m = placeholder.matcher(Files.readString(f, StandardCharsets.UTF_8));
                while (m.find()) {
                    found++;
                    assertThat(ConfigSchema.find(Scope.GLOBAL, m.group(1))).as(f + ": " + m.group())
                            .hasValueSatisfying(k -> assertThat(k.dflt()).isEqualTo(m.group(2)));
                }
            }
        }
        assertThat(found).isPositive();
    }

    @Test
    void aMistypedGlobalKeyGetsADidYouMean() {
        Map<String, String> m = new HashMap<>();
        m.put("mailintake.admin.prot", "9000");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).isInstanceOfSatisfying(ConfigurationException.class,
                e -> assertThat(e.problems()).singleElement().asString().startsWith(
                        "mailintake.admin.prot: unknown key (did you mean 'mailintake.admin.port'?); known keys are"
                                + " mailintake.admin.host, mailintake.admin.password,"));
    }

    @Test
    void secretValuesAreNeverPartOfAProblem() {
        String secret = "Sekr3t-value";
        Map<String, String> m = new HashMap<>();
        m.put("mailintake.store.password", secret);
        m.put("mailintake.admin.password", secret);
        m.put("mailintake.admin.host", "0.0.0.0.0");
        m.put("mailintake.connections.c.tenant-id", "t");
        m.put("mailintake.connections.c.client-id", "c");
        m.put("mailintake.connections.c.client-secret", secret);
        m.put("mailintake.connections.c.client-certificate", "/no/such.p12");
        m.put("mailintake.connections.c.client-certificate-password", secret);
        m.put("mailintake.connections.c.trust-store-password", secret);
        m.put("mailintake.connections.c.token-params.password", secret);
        m.put("mailintake.connections.c.client-secrt", secret);
        m.put("mailintake.mailboxes.m.connection", "c");
        m.put("mailintake.mailboxes.m.address", "m@example.com");
        m.put("mailintake.mailboxes.m.imap.trust-store-password", secret);
        m.put("mailintake.admin.pasword", secret);
        assertThatThrownBy(() -> new ConfigLoader(m).load()).isInstanceOfSatisfying(ConfigurationException.class,
                e -> {
                    assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(7);
                    assertThat(e.getMessage()).doesNotContain(secret);
                });
    }

    @Test
    void aKeyIsReadOnlyAsItIsDeclared() {
        Settings s = new Settings(Scope.CONNECTION, "mailintake.connections.c.", Map.of("client-secret", "x"),
                new ArrayList<>());
        assertThatThrownBy(() -> s.text("client-secret")).hasMessageContaining("not read as");
        assertThatThrownBy(() -> s.integer("no-such-key")).hasMessageContaining("not declared");
        assertThat(s.secret("client-secret")).hasValueSatisfying(v -> assertThat(v.toString()).isEqualTo("****"));
    }
}

package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EnvironmentKeysTest {
    private final List<String> problems = new ArrayList<>();

    @Test
    void namesWithDashesAndSettingsWithDotsAndDashes() {
        Map<String, String> p = new EnvironmentKeys().properties(Map.of(
                "MAILINTAKE_MAILBOXES_SCAN_IN_ADDRESS", "scan@contoso.com",
                "MAILINTAKE_MAILBOXES_SCAN_IN_FOLDERS_ERROR", "Inbox/Failed",
                "MAILINTAKE_CONNECTIONS_CONTOSO_CLIENT_SECRET_FILE", "/run/secrets/s",
                "MAILINTAKE_CONNECTIONS_CONTOSO_TRUST_STORE_PASSWORD", "x",
                "MAILINTAKE_ROUTES_DIR", "/etc/mi/routes",
                "MAILINTAKE_STORE_KEY", "not a key", "PATH", "/bin"), Set.of(), problems);
        assertThat(problems).isEmpty();
        assertThat(p).containsOnly(Map.entry("mailintake.mailboxes.scan-in.address", "scan@contoso.com"),
                Map.entry("mailintake.mailboxes.scan-in.folders.error", "Inbox/Failed"),
                Map.entry("mailintake.connections.contoso.client-secret-file", "/run/secrets/s"),
                Map.entry("mailintake.connections.contoso.trust-store-password", "x"),
                Map.entry("mailintake.routes-dir", "/etc/mi/routes"));
    }

    @Test
    void keysInTheFilesMapExactlyAnyKey() {
        Map<String, String> p = new EnvironmentKeys().properties(Map.of("DMS_URL", "http://x",
                "MAILINTAKE_CONNECTIONS_G_TOKEN_PARAMS_RESOURCE", "api://r", "CAMEL_MAIN_NAME", "n"),
                Set.of("dms.url", "mailintake.connections.g.token-params.resource", "camel.main.name"), problems);
        assertThat(problems).isEmpty();
        assertThat(p).containsOnly(Map.entry("dms.url", "http://x"),
                Map.entry("mailintake.connections.g.token-params.resource", "api://r"),
                Map.entry("camel.main.name", "n"));
    }

    @Test
    void aVariableThatFitsTwoKeysIsRefused() {
        // with a setting 'host' beside 'imap.host', A_IMAP_HOST is mailbox 'a' imap.host or mailbox 'a-imap' host
        EnvironmentKeys keys = new EnvironmentKeys(Set.of(), Set.of("imap.host", "host"), Set.of());
        Map<String, String> p = keys.properties(Map.of("MAILINTAKE_MAILBOXES_A_IMAP_HOST", "h"), Set.of(), problems);
        assertThat(p).isEmpty();
        assertThat(problems).singleElement().asString().contains("ambiguous", "mailintake.mailboxes.a.imap.host",
                "mailintake.mailboxes.a-imap.host");
    }
}

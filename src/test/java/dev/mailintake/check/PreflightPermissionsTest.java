package dev.mailintake.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.TokenService;
import dev.mailintake.auth.TokenSource;
import dev.mailintake.config.ConfigLoader;
import dev.mailintake.config.MailIntakeConfig;
import dev.mailintake.intake.Mailboxes;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The permission check reads an Entra token's roles (app-only) or scopes (delegated) and names what is missing. */
class PreflightPermissionsTest {
    private static String jwt(String claimsJson) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8)) + ".c2lnbmF0dXJl";
    }

    private static List<CheckResult> check(Map<String, String> settings, String token) {
        MailIntakeConfig config = new ConfigLoader(settings).load();
        Map<String, TokenSource> sources = new HashMap<>();
        config.connections().keySet().forEach(c -> sources.put(c,
                skip -> new AccessToken(token, Instant.now().plus(Duration.ofHours(1)))));
        TokenService tokens = new TokenService(sources, Clock.systemUTC(), Duration.ofMinutes(5));
        return new Preflight(config, new Mailboxes(List.of()), tokens, Map.of()).run(List.of());
    }

    private static Map<String, String> graphMailbox() {
        Map<String, String> m = new HashMap<>();
        m.put("mailintake.connections.contoso.tenant-id", "t1");
        m.put("mailintake.connections.contoso.client-id", "c1");
        m.put("mailintake.connections.contoso.client-secret", "s");
        m.put("mailintake.mailboxes.invoices.connection", "contoso");
        m.put("mailintake.mailboxes.invoices.address", "invoices@contoso.com");
        return m;
    }

    private static CheckResult permissions(List<CheckResult> results) {
        return results.stream().filter(r -> r.check().equals("permissions")).findFirst().orElseThrow();
    }

    @Test
    void aMissingApplicationRoleIsNamedWithItsFix() {
        CheckResult r = permissions(check(graphMailbox(), jwt("{\"roles\":[\"Mail.Read\",\"User.Read.All\"]}")));
        assertThat(r.ok()).isFalse();
        assertThat(r.detail()).isEqualTo("the token lacks [Mail.ReadWrite]; add the application permission(s) in the"
                + " app registration (API permissions) and grant admin consent");
    }

    @Test
    void theRightRolePassesAndImapNeedsImapAccessAsApp() {
        assertThat(permissions(check(graphMailbox(), jwt("{\"roles\":[\"Mail.ReadWrite\"]}"))).ok()).isTrue();
        Map<String, String> imap = graphMailbox();
        imap.put("mailintake.mailboxes.invoices.protocol", "imap");
        CheckResult r = permissions(check(imap, jwt("{\"roles\":[\"Mail.ReadWrite\"]}")));
        assertThat(r.ok()).isFalse();
        assertThat(r.detail()).startsWith("the token lacks [IMAP.AccessAsApp]");
        assertThat(permissions(check(imap, jwt("{\"roles\":[\"IMAP.AccessAsApp\"]}"))).ok()).isTrue();
    }

    @Test
    void anOpaqueTokenSaysItCannotTell() {
        CheckResult r = permissions(check(graphMailbox(), "opaque-token"));
        assertThat(r.ok()).isTrue();
        assertThat(r.detail()).contains("does not show its permissions");
    }
}

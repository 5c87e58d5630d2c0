package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    private static Map<String, String> valid() {
        Map<String, String> m = new HashMap<>();
        m.put("mailintake.connections.contoso.tenant-id", "t1");
        m.put("mailintake.connections.contoso.client-id", "c1");
        m.put("mailintake.connections.contoso.client-secret", "s");
        m.put("mailintake.mailboxes.invoices.connection", "contoso");
        m.put("mailintake.mailboxes.invoices.address", "invoices@contoso.com");
        return m;
    }

    @Test
    void appliesSafeDefaults() {
        MailIntakeConfig c = new ConfigLoader(valid()).load();
        MailboxConfig mb = c.mailboxes().get("invoices");
        assertThat(mb.protocol()).isEqualTo(Protocol.GRAPH);
        assertThat(mb.folders()).isEqualTo(new Folders("inbox", "Inbox/Processed", "Inbox/Error"));
        assertThat(mb.poll().interval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(mb.concurrency()).isEqualTo(4);
        assertThat(mb.requestBudget()).isEqualTo(new RequestBudget(9000, Duration.ofMinutes(10)));
        assertThat(mb.target().folder()).isPresent();
        ConnectionConfig cc = c.connections().get("contoso");
        assertThat(cc.authority()).isEqualTo("https://login.microsoftonline.com/t1/");
        assertThat(cc.scopes()).containsExactly("https://graph.microsoft.com/.default");
        assertThat(cc.clientSecret().orElseThrow().toString()).doesNotContain("s").isEqualTo("****");
    }

    @Test
    void imapMailboxesDefaultToExchangeOnlineWithTlsAndTheImapScopes() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.protocol", "imap");
        MailIntakeConfig c = new ConfigLoader(m).load();
        ImapServer imap = c.mailboxes().get("invoices").imap().orElseThrow();
        assertThat(imap).isEqualTo(new ImapServer("outlook.office365.com", 993, ImapServer.Security.SSL,
                "invoices@contoso.com", Duration.ofSeconds(60), 1024 * 1024, java.util.Optional.empty(),
                java.util.Optional.empty()));
        assertThat(c.connections().get("contoso").scopes()).containsExactly("https://outlook.office365.com/.default");

        m.put("mailintake.connections.contoso.flow", "delegated");
        m.put("mailintake.mailboxes.invoices.imap.security", "starttls");
        m.put("mailintake.mailboxes.invoices.address", "shared@contoso.com");
        c = new ConfigLoader(m).load();
        assertThat(c.connections().get("contoso").scopes())
                .containsExactly("https://outlook.office.com/IMAP.AccessAsUser.All");
        imap = c.mailboxes().get("invoices").imap().orElseThrow();
        assertThat(imap.port()).isEqualTo(143);
        assertThat(imap.user()).as("XOAUTH2 user= is the (shared) mailbox").isEqualTo("shared@contoso.com");
    }

    @Test
    void imapSettingsAreCheckedByKey() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.protocol", "imap");
        m.put("mailintake.mailboxes.invoices.imap.host", "imap.example.com");
        m.put("mailintake.mailboxes.invoices.imap.security", "none");
        m.put("mailintake.mailboxes.invoices.folders.processed", "id:AAMkAG");
        m.put("mailintake.mailboxes.invoices.request-budget", "100/1m");
        m.put("mailintake.mailboxes.orders.connection", "contoso");
        m.put("mailintake.mailboxes.orders.address", "orders@contoso.com");
        m.put("mailintake.mailboxes.orders.imap.port", "993");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "mailintake.mailboxes.invoices.imap.security: none would send the access token in the clear to"
                                + " imap.example.com; use ssl (port 993) or starttls (port 143); none is only for a server"
                                + " on this machine",
                        "mailintake.mailboxes.invoices.request-budget: only for protocol=graph mailboxes (Graph's request"
                                + " limit); remove it",
                        "mailintake.mailboxes.invoices.folders.processed: IMAP folders have no ids; give a path"
                                + " (INBOX/Processed) or a folder name",
                        "mailintake.mailboxes.orders.imap.port: only for protocol=imap mailboxes; remove it or set"
                                + " mailintake.mailboxes.orders.protocol=imap",
                        "mailintake.connections.contoso.scopes: connection 'contoso' serves both graph and imap"
                                + " mailboxes, but a token is issued for one resource (Graph or Exchange IMAP); define a"
                                + " second connection with the same app registration for the imap mailboxes"));
    }

    @Test
    void nationalCloudsDeriveTheirScopeFromTheGraphUrl() {
        Map<String, String> m = valid();
        m.put("mailintake.connections.contoso.authority-host", "https://login.microsoftonline.us");
        m.put("mailintake.connections.contoso.graph-base-url", "https://graph.microsoft.us/v1.0");
        ConnectionConfig cc = new ConfigLoader(m).load().connections().get("contoso");
        assertThat(cc.authority()).isEqualTo("https://login.microsoftonline.us/t1/");
        assertThat(cc.scopes()).containsExactly("https://graph.microsoft.us/.default");
    }

    @Test
    void reportsEveryProblemAtOnceByKeyWithTheFix() {
        Map<String, String> m = valid();
        m.remove("mailintake.connections.contoso.client-secret");
        m.put("mailintake.mailboxes.invoices.concurency", "4");
        m.put("mailintake.mailboxes.invoices.poll", "often");
        m.put("mailintake.mailboxes.orders.connection", "fabrikam");
        m.put("mailintake.mailboxes.orders.address", "orders");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> {
                    assertThat(e.problems()).hasSize(5);
                    assertThat(e.getMessage())
                            .contains("mailintake.connections.contoso.client-secret: connections need a client secret")
                            .contains("mailintake.mailboxes.invoices.concurency: unknown mailbox setting 'concurency' (did you mean 'concurrency'?)")
                            .contains("mailintake.mailboxes.invoices.poll: 'often' is neither a duration")
                            .contains("mailintake.mailboxes.orders.connection: no connection named 'fabrikam'")
                            .contains("mailintake.mailboxes.orders.address: 'orders' is not a mailbox address");
                });
    }

    @Test
    void acceptsTheUnixCronFormAndConvertsItForQuartz() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.poll", "5 * * * *");
        Poll p = new ConfigLoader(m).load().mailboxes().get("invoices").poll();
        assertThat(p.cron()).contains("0 5 * * * ?");
        m.put("mailintake.mailboxes.invoices.poll", "0 */5 * * * ?");
        assertThat(new ConfigLoader(m).load().mailboxes().get("invoices").poll().cron()).contains("0 */5 * * * ?");
    }

    @Test
    void targetIsAFolderOrAnyCamelEndpoint() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.target", "sftp://capture@scanhost/inbox");
        assertThat(new ConfigLoader(m).load().mailboxes().get("invoices").target().endpointUri())
                .contains("sftp://capture@scanhost/inbox");
        m.put("mailintake.mailboxes.invoices.target", "just words");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).hasMessageContaining("target: 'just words' is neither");
    }

    @Test
    void concurrencyIsCappedAtGraphsLimit() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.concurrency", "8");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .hasMessageContaining("concurrency: 8 is out of range; use 1..4 (Microsoft allows 4 concurrent requests per mailbox)");
    }

    @Test
    void twoMailboxesReadingTheSameInboxAreRefused() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.copy.connection", "contoso");
        m.put("mailintake.mailboxes.copy.address", "Invoices@Contoso.com");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .hasMessageContaining("mailboxes 'copy' and 'invoices' both read folder inbox of");
    }

    @Test
    void adminServerAndRefreshSettings() {
        Map<String, String> m = valid();
        m.put("mailintake.admin.port", "9000");
        m.put("mailintake.refresh.cron", "5 * * * *");
        m.put("mailintake.delivery.redeliveries", "-1");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).hasMessageContaining("mailintake.delivery.redeliveries: -1 is out of range");
        m.remove("mailintake.delivery.redeliveries");
        MailIntakeConfig c = new ConfigLoader(m).load();
        assertThat(c.admin().redirectUri()).isEqualTo("http://localhost:9000/oauth/callback");
        assertThat(c.refresh().cron()).isEqualTo("0 5 * * * ?");
        m.put("mailintake.admin.public-base-url", "https://intake.contoso.com/");
        assertThat(new ConfigLoader(m).load().admin().redirectUri()).isEqualTo("https://intake.contoso.com/oauth/callback");
    }

    @Test
    void anAdminServerBeyondLocalhostNeedsAPassword() {
        Map<String, String> m = valid();
        m.put("mailintake.admin.host", "0.0.0.0");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).hasMessageContaining("mailintake.admin.password: the admin server listens on 0.0.0.0");
        m.put("mailintake.admin.password", "s3cret-pass");
        assertThat(new ConfigLoader(m).load().admin().password()).isPresent();
    }

    @Test
    void theAdminHostIsCheckedAsTheServerWillBindIt() {
        for (String ok : new String[] {"127.0.0.1", "0.0.0.0", "localhost", "[::1]", "10.1.2.3"}) {
            Map<String, String> m = valid();
            m.put("mailintake.admin.host", ok);
            m.put("mailintake.admin.password", "s3cret-pass");
            assertThat(new ConfigLoader(m).load().admin().host()).isEqualTo(ok);
        }
        Map<String, String> m = valid();
        m.put("mailintake.admin.host", "127.1");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
                        "mailintake.admin.host: '127.1' is not a dotted-quad IPv4 address (short and numeric forms"
                                + " cannot be bound); use 127.0.0.1"));
        for (String bad : new String[] {"2130706433", "0x7f.1", "127.0.0.256", "::1", "[nope]", "no such host!",
                "no-such-host.invalid"}) {
            m.put("mailintake.admin.host", bad);
            m.put("mailintake.admin.password", "s3cret-pass");
            assertThatThrownBy(() -> new ConfigLoader(m).load()).as(bad)
                    .hasMessageContaining("mailintake.admin.host: '" + bad + "'").hasMessageContaining("use");
        }
    }
}

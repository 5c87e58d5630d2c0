package dev.mailintake.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
                "invoices@contoso.com", Duration.ofSeconds(60), 1024 * 1024, 50, java.util.Optional.empty(),
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

    /** Unix day-of-week 0 and 7 are Sunday, Quartz's 1 is Sunday: every form must land on the same days. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "0 9 * * 1-5      | 0 0 9 ? * 2-6",
            "0 9 * * MON-FRI  | 0 0 9 ? * 2-6",
            "0 9 * * mon-fri  | 0 0 9 ? * 2-6",
            "* * * * 0        | 0 * * ? * 1",
            "* * * * 7        | 0 * * ? * 1",
            "0 9 * * SUN      | 0 0 9 ? * 1",
            "0 9 * * 0,6      | 0 0 9 ? * 1,7",
            "0 9 * * SAT,SUN  | 0 0 9 ? * 7,1",
            "0 9 * * 1-5/2    | 0 0 9 ? * 2-6/2",
            "0 9 * * 5-7      | 0 0 9 ? * 6-1",
            "*/15 * * * *     | 0 */15 * * * ?",
            "5 * * * *        | 0 5 * * * ?",
            "0 9 1-5 * *      | 0 0 9 1-5 * ?",
            "0 0 * JAN,feb *  | 0 0 0 * 1,2 ?",
            "0 */5 * * * ?    | 0 */5 * * * ?",
            "0 0 9 ? * MON-FRI | 0 0 9 ? * MON-FRI",
            "0 0 9 ? * 2-6 2027 | 0 0 9 ? * 2-6 2027",
    })
    void convertsUnixCronsToQuartzWithTheRightWeekdays(String cron, String quartz) {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.poll", cron);
        m.put("mailintake.refresh.cron", cron);
        MailIntakeConfig c = new ConfigLoader(m).load();
        assertThat(c.mailboxes().get("invoices").poll().cron()).contains(quartz);
        assertThat(c.refresh().cron()).isEqualTo(quartz);
    }

    @Test
    void theWeekdayCronFiresNextOnMondayFromASaturday() throws Exception {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.poll", "0 9 * * 1-5");
        String quartz = new ConfigLoader(m).load().mailboxes().get("invoices").poll().cron().orElseThrow();
        org.quartz.CronExpression e = new org.quartz.CronExpression(quartz);
        e.setTimeZone(java.util.TimeZone.getTimeZone("UTC"));
        java.time.Instant saturday = java.time.Instant.parse("2026-11-21T12:00:00Z");
        assertThat(saturday.atZone(java.time.ZoneOffset.UTC).getDayOfWeek()).isEqualTo(java.time.DayOfWeek.SATURDAY);
        java.util.List<java.time.DayOfWeek> days = new java.util.ArrayList<>();
        java.util.Date t = java.util.Date.from(saturday);
        for (int i = 0; i < 6; i++) {
            t = e.getNextValidTimeAfter(t);
            days.add(t.toInstant().atZone(java.time.ZoneOffset.UTC).getDayOfWeek());
        }
        assertThat(t.toInstant().atZone(java.time.ZoneOffset.UTC).getHour()).isEqualTo(9);
        assertThat(days).containsExactly(java.time.DayOfWeek.MONDAY, java.time.DayOfWeek.TUESDAY,
                java.time.DayOfWeek.WEDNESDAY, java.time.DayOfWeek.THURSDAY, java.time.DayOfWeek.FRIDAY,
                java.time.DayOfWeek.MONDAY);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "61 * * * *        | '61 * * * *' is not a valid Unix cron (minute hour day-of-month month day-of-week; day-of-week 0-7 or SUN-SAT): Value 61 not in range [0, 59]",
            "0 9 * * 8         | '0 9 * * 8' is not a valid Unix cron",
            "0 9 * * FUN       | '0 9 * * FUN' is not a valid Unix cron",
            "0 9 1 * 1         | '0 9 1 * 1' restricts both the day of the month and the day of the week; Unix cron runs when either matches, which Quartz cannot express: set one of them to *",
            "0 5 * * * *       | '0 5 * * * *' is not a valid Quartz cron (seconds minutes hours day-of-month month day-of-week [year], '?' in one of the day fields, day-of-week 1-7 = SUN-SAT): Support for specifying both a day-of-week AND a day-of-month parameter is not implemented.",
            "0 0 25 * * ?      | '0 0 25 * * ?' is not a valid Quartz cron",
            "0 0 9 ? * 0       | '0 0 9 ? * 0' is not a valid Quartz cron",
    })
    void refusesInvalidCronsAtStartUpByKeyWithTheFix(String cron, String why) {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.poll", cron);
        m.put("mailintake.refresh.cron", cron);
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> {
                    assertThat(e.problems()).hasSize(2);
                    assertThat(e.problems().stream().filter(pr -> pr.startsWith("mailintake.mailboxes.invoices.poll: " + why)))
                            .singleElement().asString().contains("; give a cron, e.g. poll=0 9 * * 1-5");
                    assertThat(e.problems().stream().filter(pr -> pr.startsWith("mailintake.refresh.cron: " + why)))
                            .singleElement().asString().contains("; give a cron, e.g. '5 * * * *'");
                });
    }

    private static Map<String, String> genericClientCredentials() {
        Map<String, String> m = valid();
        m.remove("mailintake.connections.contoso.tenant-id");
        m.put("mailintake.connections.contoso.provider", "generic");
        m.put("mailintake.connections.contoso.flow", "client-credentials");
        m.put("mailintake.connections.contoso.token-url", "http://127.0.0.1:8089/oauth/token");
        m.put("mailintake.connections.contoso.scopes", "mail.read");
        m.put("mailintake.mailboxes.invoices.protocol", "imap");
        return m;
    }

    @Test
    void genericProvidersTakeClientCredentialsWithTokenParamsAndBasicAuth() {
        Map<String, String> m = genericClientCredentials();
        m.put("mailintake.connections.contoso.client-auth", "basic");
        m.put("mailintake.connections.contoso.token-params.username", "alice@example.test");
        m.put("mailintake.connections.contoso.token-params.audience", "imap");
        ConnectionConfig cc = new ConfigLoader(m).load().connections().get("contoso");
        assertThat(cc.flow()).isEqualTo(Flow.CLIENT_CREDENTIALS);
        assertThat(cc.tokenUrl()).contains(java.net.URI.create("http://127.0.0.1:8089/oauth/token"));
        assertThat(cc.authorizeUrl()).isEmpty();
        assertThat(cc.generic().basicAuth()).isTrue();
        assertThat(cc.generic().tokenParams()).containsOnlyKeys("audience", "username");
        assertThat(cc.generic().tokenParams().get("username").value()).isEqualTo("alice@example.test");
        assertThat(cc.generic().tokenParams().toString()).doesNotContain("alice");
        assertThat(cc.scopes()).containsExactly("mail.read");

        m.put("mailintake.connections.contoso.token-url", "https://[::1]:8443/token");
        assertThat(new ConfigLoader(m).load().connections().get("contoso").tokenUrl()).isPresent();
        m.put("mailintake.connections.contoso.token-url", "http://localhost:8089/token");
        assertThat(new ConfigLoader(m).load().connections().get("contoso").tokenUrl()).isPresent();
    }

    @Test
    void genericEndpointsAreHttpsUnlessOnThisMachine() {
        Map<String, String> m = genericClientCredentials();
        m.put("mailintake.connections.contoso.token-url", "http://idp.example.com/oauth/token");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).isInstanceOfSatisfying(ConfigurationException.class,
                e -> assertThat(e.problems()).containsExactly("mailintake.connections.contoso.token-url:"
                        + " 'http://idp.example.com/oauth/token' must be https; http is allowed only for a loopback host"
                        + " (localhost, 127.*, ::1), e.g. a test server or a sidecar on this machine"));
        m.put("mailintake.connections.contoso.flow", "delegated");
        m.put("mailintake.connections.contoso.token-url", "https://idp.example.com/oauth/token");
        m.put("mailintake.connections.contoso.authorize-url", "http://10.0.0.5/authorize");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).hasMessageContaining(
                "mailintake.connections.contoso.authorize-url: 'http://10.0.0.5/authorize' must be https; http is"
                        + " allowed only for a loopback host");
    }

    @Test
    void genericClientCredentialsAreCheckedByKey() {
        Map<String, String> m = genericClientCredentials();
        m.remove("mailintake.connections.contoso.token-url");
        m.put("mailintake.connections.contoso.token-params.client_secret", "x");
        m.put("mailintake.connections.contoso.token-params.bad name", "x");
        m.put("mailintake.connections.contoso.token-params.empty", " ");
        m.put("mailintake.connections.fabrikam.tenant-id", "t2");
        m.put("mailintake.connections.fabrikam.client-id", "c2");
        m.put("mailintake.connections.fabrikam.client-secret", "s2");
        m.put("mailintake.connections.fabrikam.token-params.username", "bob");
        m.put("mailintake.connections.fabrikam.token-param.username", "bob");
        assertThatThrownBy(() -> new ConfigLoader(m).load()).isInstanceOfSatisfying(ConfigurationException.class,
                e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "mailintake.connections.contoso.token-url: missing; give the provider's token url (https)",
                        "mailintake.connections.contoso.token-params.client_secret: client_secret is set by the"
                                + " application (from client-id, client-secret, scopes and flow); remove"
                                + " token-params.client_secret",
                        "mailintake.connections.contoso.token-params.bad name: 'bad name' is not a form field name;"
                                + " use letters, digits, '_', '-', '.' or '~', e.g."
                                + " mailintake.connections.contoso.token-params.username",
                        "mailintake.connections.contoso.token-params.empty: empty; give the value (a secret one as"
                                + " {{env:VAR}}) or remove the key",
                        "mailintake.connections.fabrikam.token-params.username: token-params are for provider=generic"
                                + " connections; msal4j builds Microsoft's token requests",
                        "mailintake.connections.fabrikam.token-param.username: unknown connection setting"
                                + " 'token-param.username' (did you mean 'token-params.username'?); known settings:"
                                + " authority-host, authorize-params,"
                                + " authorize-url, client-auth, client-certificate, client-certificate-key,"
                                + " client-certificate-password, client-id, client-secret, client-secret-expires, client-secret-file, flow,"
                                + " graph-base-url, instance-discovery, provider, scope-separator, scopes, tenant-id,"
                                + " token-params.<name>, token-url, trust-store, trust-store-password"));
        Map<String, String> d = genericClientCredentials();
        d.put("mailintake.connections.contoso.flow", "device-code");
        d.remove("mailintake.connections.contoso.client-secret");
        assertThatThrownBy(() -> new ConfigLoader(d).load()).hasMessageContaining(
                "mailintake.connections.contoso.flow: generic OAuth2 providers support flow=delegated");
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
    void folderFormsFromTheRootAndWellKnownAreAcceptedAndEmptySegmentsRefused() {
        Map<String, String> m = valid();
        m.put("mailintake.mailboxes.invoices.folders.inbox", "well-known:inbox");
        m.put("mailintake.mailboxes.invoices.folders.processed", "/Archive");
        m.put("mailintake.mailboxes.invoices.folders.error", "/Inbox/Scans/Error");
        assertThat(new ConfigLoader(m).load().mailboxes().get("invoices").folders())
                .isEqualTo(new Folders("well-known:inbox", "/Archive", "/Inbox/Scans/Error"));

        m.put("mailintake.mailboxes.invoices.folders.inbox", "/");
        m.put("mailintake.mailboxes.invoices.folders.processed", "/Inbox//Processed");
        m.put("mailintake.mailboxes.invoices.folders.error", "well-known:attic");
        m.put("mailintake.connections.contoso-imap.tenant-id", "t1");
        m.put("mailintake.connections.contoso-imap.client-id", "c1");
        m.put("mailintake.connections.contoso-imap.client-secret", "s");
        m.put("mailintake.mailboxes.orders.connection", "contoso-imap");
        m.put("mailintake.mailboxes.orders.address", "orders@contoso.com");
        m.put("mailintake.mailboxes.orders.protocol", "imap");
        m.put("mailintake.mailboxes.orders.folders.processed", "well-known:archive");
        m.put("mailintake.mailboxes.orders.folders.error", "Inbox/Error/");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "mailintake.mailboxes.invoices.folders.inbox: '/' is not a folder; give a well-known name"
                                + " (inbox, well-known:archive), a path (Inbox/Scans), a path from the root (/Archive),"
                                + " an id (id:AAMk...) or a folder name",
                        "mailintake.mailboxes.invoices.folders.processed: '/Inbox//Processed' is not a folder; give a"
                                + " well-known name (inbox, well-known:archive), a path (Inbox/Scans), a path from the"
                                + " root (/Archive), an id (id:AAMk...) or a folder name",
                        "mailintake.mailboxes.invoices.folders.error: 'attic' is not a well-known folder name; give one"
                                + " of " + new java.util.TreeSet<>(Folders.WELL_KNOWN),
                        "mailintake.mailboxes.orders.folders.processed: IMAP's only well-known folder is"
                                + " well-known:inbox; give a path from the root (/archive) or a folder name",
                        "mailintake.mailboxes.orders.folders.error: 'Inbox/Error/' is not a folder; give a well-known"
                                + " name (inbox, well-known:archive), a path (Inbox/Scans), a path from the root"
                                + " (/Archive), an id (id:AAMk...) or a folder name"));
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

    @Test
    void secretExpiryAndAlertsAreCheckedWithTheirFix() {
        Map<String, String> m = valid();
        m.put("mailintake.connections.contoso.client-secret-expires", "2027-06-30");
        m.put("mailintake.alerts.endpoint", "https://hooks.example.com/mail-intake");
        m.put("mailintake.alerts.check-interval", "30s");
        MailIntakeConfig c = new ConfigLoader(m).load();
        assertThat(c.connections().get("contoso").clientSecretExpires()).contains(java.time.LocalDate.of(2027, 6, 30));
        assertThat(c.alerts()).isEqualTo(new AlertsConfig(java.util.Optional.of("https://hooks.example.com/mail-intake"),
                java.time.Duration.ofSeconds(30), 3));

        m.put("mailintake.connections.contoso.client-secret-expires", "30.06.2027");
        m.put("mailintake.alerts.check-interval", "often");
        m.put("mailintake.alerts.stall-polls", "1");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "mailintake.connections.contoso.client-secret-expires: '30.06.2027' is not a date; give the"
                                + " secret's expiry as shown in the app registration, e.g. 2027-06-30",
                        "mailintake.alerts.check-interval: 'often' is not a duration; use e.g. 60s",
                        "mailintake.alerts.stall-polls: 1 is out of range; use 2..1000 (polls an interval-polled"
                                + " mailbox may miss)"));
    }

    @Test
    void kubernetesLeasesTakeThePodsNamespaceNameAndLabelsAndCamelsTimingRules() {
        Map<String, String> m = valid();
        m.put("mailintake.store.url", "jdbc:postgresql://db:5432/intake");
        m.put("mailintake.cluster.service", "kubernetes");
        m.put("mailintake.cluster.kubernetes.namespace", "mail");
        m.put("mailintake.cluster.kubernetes.pod-name", "mail-intake-7d9f-x2x4q");
        ClusterConfig c = new ConfigLoader(m).load().cluster();
        assertThat(c.service()).isEqualTo(ClusterConfig.Service.KUBERNETES);
        assertThat(c.instanceId()).as("the pod's name").isEqualTo("mail-intake-7d9f-x2x4q");
        assertThat(c.kubernetes()).contains(new ClusterConfig.Kubernetes("mail", "mail-intake-7d9f-x2x4q",
                Map.of("app.kubernetes.io/name", "mail-intake"), java.util.Optional.empty(), Duration.ofSeconds(15),
                Duration.ofSeconds(10), Duration.ofSeconds(5)));

        m.put("mailintake.cluster.kubernetes.labels", "app=mail-intake, tier=intake");
        m.put("mailintake.cluster.kubernetes.master-url", "https://10.0.0.1:443");
        c = new ConfigLoader(m).load().cluster();
        assertThat(c.kubernetes().orElseThrow().labels()).isEqualTo(Map.of("app", "mail-intake", "tier", "intake"));
        assertThat(c.kubernetes().orElseThrow().masterUrl()).contains(java.net.URI.create("https://10.0.0.1:443"));
        assertThat(new ConfigLoader(valid()).load().cluster().kubernetes()).as("only for kubernetes").isEmpty();
    }

    @Test
    void badKubernetesSettingsAreAllReportedByKey() {
        Map<String, String> m = valid();
        m.put("mailintake.cluster.service", "kubernetes");
        m.put("mailintake.cluster.kubernetes.namespace", "Mail_Intake");
        m.put("mailintake.cluster.kubernetes.pod-name", "Pod A");
        m.put("mailintake.cluster.kubernetes.labels", "app=mail-intake,tier");
        m.put("mailintake.cluster.kubernetes.master-url", "kube-api:6443");
        m.put("mailintake.cluster.kubernetes.lease-duration", "10s");
        m.put("mailintake.cluster.kubernetes.renew-deadline", "10s");
        m.put("mailintake.cluster.kubernetes.retry-period", "9s");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "mailintake.cluster.service: kubernetes needs the instances to share a PostgreSQL store; set"
                                + " mailintake.store.url=jdbc:postgresql://… (the embedded H2 store allows one process)",
                        "mailintake.cluster.kubernetes.namespace: 'Mail_Intake' is not a Kubernetes namespace name"
                                + " (lower-case letters, digits and '-', at most 63)",
                        "mailintake.cluster.kubernetes.pod-name: 'Pod A' is not a pod name (lower-case letters,"
                                + " digits, '-' and '.')",
                        "mailintake.cluster.kubernetes.labels: 'tier' is not a label name=value; give the pods'"
                                + " labels as name=value[,name=value…], e.g. app.kubernetes.io/name=mail-intake",
                        "mailintake.cluster.kubernetes.master-url: 'kube-api:6443' must be an absolute http(s) URL",
                        "mailintake.cluster.kubernetes.lease-duration: 10s must be longer than"
                                + " cluster.kubernetes.renew-deadline (10s): a new holder must wait until the old one"
                                + " has stopped",
                        "mailintake.cluster.kubernetes.renew-deadline: 10s must be longer than 1.2 ×"
                                + " cluster.kubernetes.retry-period (9s): a holder renews once per retry period (with"
                                + " up to 20 % jitter)"));
    }

    @Test
    void outsideAPodTheKubernetesNamespaceMustBeGiven() {
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(ConfigLoader.POD_NAMESPACE_FILE),
                "runs outside a pod");
        Map<String, String> m = valid();
        m.put("mailintake.store.url", "jdbc:postgresql://db:5432/intake");
        m.put("mailintake.cluster.service", "kubernetes");
        m.put("mailintake.cluster.kubernetes.pod-name", "mail-intake-a");
        assertThatThrownBy(() -> new ConfigLoader(m).load())
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
                        "mailintake.cluster.kubernetes.namespace: missing, and " + ConfigLoader.POD_NAMESPACE_FILE
                                + " cannot be read (not in a pod, or automountServiceAccountToken: false); give the"
                                + " pods' namespace, e.g. from the downward API (fieldRef metadata.namespace into"
                                + " MAILINTAKE_CLUSTER_KUBERNETES_NAMESPACE)"));
    }
}

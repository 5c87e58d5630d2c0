package dev.mailintake.config;

import static dev.mailintake.config.ConfigKey.Scope.CONNECTION;
import static dev.mailintake.config.ConfigKey.Scope.GLOBAL;
import static dev.mailintake.config.ConfigKey.Scope.MAILBOX;

import dev.mailintake.config.ConfigKey.Bool;
import dev.mailintake.config.ConfigKey.Choice;
import dev.mailintake.config.ConfigKey.Cron;
import dev.mailintake.config.ConfigKey.Date;
import dev.mailintake.config.ConfigKey.Dur;
import dev.mailintake.config.ConfigKey.FilePath;
import dev.mailintake.config.ConfigKey.Int;
import dev.mailintake.config.ConfigKey.ListOf;
import dev.mailintake.config.ConfigKey.Scope;
import dev.mailintake.config.ConfigKey.SecretText;
import dev.mailintake.config.ConfigKey.Size;
import dev.mailintake.config.ConfigKey.Text;
import dev.mailintake.config.ConfigKey.Type;
import dev.mailintake.config.ConfigKey.Url;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Every {@code mailintake.*} key, declared once: the known keys and "did you mean" of {@link ConfigLoader}, the checks
 * of {@link Settings}, the documented keys of {@link EnvironmentKeys} and the key tables of docs/configuration.md
 * (generated; ConfigReferenceTest fails when they differ) all come from this list. Rules that involve several keys
 * (IMAP scopes against Graph, secret or certificate, a cluster on PostgreSQL) are code in {@link ConfigLoader}.
 */
public final class ConfigSchema {
    private static final Duration NONE = Duration.ZERO;
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);
    private static final Text TEXT = new Text("");
    private static final Bool BOOL = new Bool();
    private static final SecretText SECRET = new SecretText();
    private static final FilePath FILE = new FilePath("file");
    private static final FilePath DIRECTORY = new FilePath("directory");
    private static final Text FOLDER = new Text("folder");
    private static final String REQUIRED = "**required**";

    public static final List<ConfigKey> KEYS = List.of(
            key(GLOBAL, "data-dir", DIRECTORY, "data", "Home of the embedded store (`<data-dir>/mail-intake.mv.db`),"
                    + " the store key (`<data-dir>/store.key`), the default folder targets (`<data-dir>/out/<mailbox>`)"
                    + " and the spool of endpoint targets (`<data-dir>/spool/<mailbox>`). Relative to the working"
                    + " directory."),
            computed(GLOBAL, "store.url", new Text("JDBC URL"),
                    "`jdbc:h2:file:<absolute data-dir>/mail-intake;DB_CLOSE_ON_EXIT=FALSE`", "The store: the"
                    + " exactly-once ledger, the delegated grants (encrypted) and pending sign-ins. Flyway creates and"
                    + " upgrades its schema at start (`db/migration/V<n>__*.sql`, history in `mi_schema_history`). The"
                    + " jar holds the H2 and PostgreSQL (`jdbc:postgresql://…`) drivers. With an H2 file the"
                    + " ledger's records are written to the file (`CHECKPOINT`, shared by the messages handled at"
                    + " that moment) before each move and each hand-over that depends on them, and every grant at"
                    + " once, so a crash cannot undo them; H2 writes the rest in the background. Do not set"
                    + " `WRITE_DELAY=0`: it stops H2's housekeeping and the file grows with every commit."),
            key(GLOBAL, "store.user", TEXT, "sa", "Store user."),
            key(GLOBAL, "store.password", SECRET, null, "Store password."),
            key(GLOBAL, "delivery.redeliveries", new Int(0, 100, ""), "3",
                    "Retries of a target that fails, within one poll."),
            key(GLOBAL, "delivery.redelivery-delay", new Int(0, 3_600_000, "milliseconds"), "2000",
                    "Milliseconds before the first retry. The delay doubles for each retry: 2 s, 4 s, 8 s."),
            computed(GLOBAL, "routes-dir", DIRECTORY, "`routes/` beside the configuration file", "Your route files"
                    + " (`*.yaml`), loaded with the built-in routes ([routes.md](routes.md)). A relative path is taken"
                    + " from the working directory."),
            key(GLOBAL, "routes-reload", BOOL, "false", "`true` (or `--dev`) reloads changed route files: for"
                    + " development."),
            key(GLOBAL, "admin.host", new Text("dotted-quad IPv4, `[IPv6]` or a name this machine resolves"),
                    "127.0.0.1", "Interface the admin web server listens on. `localhost`, `127.*` and `[::1]` count"
                    + " as this machine; anything else needs `admin.password`. Short and numeric forms such as"
                    + " `127.1` are refused (use `127.0.0.1`)."),
            key(GLOBAL, "admin.port", new Int(1, 65535, ""), "8765", "Port of the admin web server."),
            computed(GLOBAL, "admin.public-base-url", new Url(false), "`http://localhost:<admin.port>`", "The address"
                    + " browsers use, e.g. `https://intake.contoso.com` behind a reverse proxy; its host (and origin)"
                    + " is the one the admin server accepts besides loopback, so the proxy must pass that `Host` on or"
                    + " connect to `127.0.0.1`. The redirect URI is `<public-base-url>/oauth/callback` (a trailing `/`"
                    + " is dropped). A path prefix works (`https://portal.contoso.com/intake`, with the proxy stripping"
                    + " `/intake`): the status page uses relative links. Only `https` for hosts other than localhost"
                    + " (Entra accepts `http` only for `localhost`)."),
            key(GLOBAL, "admin.password", SECRET, null, "Password of the admin pages (HTTP Basic, user `admin`)."
                    + " Once set, every page except `/oauth/callback` asks for it, on localhost too. Required when"
                    + " `admin.host` is not this machine. Use `{{env:MAILINTAKE_ADMIN_PASSWORD}}`."),
            key(GLOBAL, "refresh.cron", new Cron(), "0 5 * * * ?", "When the `refresh-tokens` route runs: five past"
                    + " every hour. 5-field Unix (`5 * * * *`) or 6/7-field Quartz, as for `poll`; JVM time zone."),
            key(GLOBAL, "refresh.window", new Dur(NONE), "30m", "A delegated connection is refreshed when its access"
                    + " token expires within this window (or none is known), and in any case when its refresh token"
                    + " was last redeemed 23 hours ago or more."),
            key(GLOBAL, "refresh.retry-delay", new Dur(NONE), "5s", "Wait before retrying a refresh after a"
                    + " transient failure. It doubles: up to 4 attempts (5 s, 10 s, 20 s), then the next run tries"
                    + " again."),
            computed(GLOBAL, "alerts.endpoint", new Text("Camel endpoint URI"), "— (logged only)", "Where alerts go,"
                    + " as JSON (`Content-Type: application/json`, POST for http): a webhook"
                    + " `https://hooks.example.com/…`, `smtp:…` (with camel-mail's settings), or `direct:<name>` of a"
                    + " user route. Without it alerts are only logged (WARN `alert FIRING …`, INFO"
                    + " `alert RESOLVED …`). An alert the endpoint refuses is sent again at the next check."),
            key(GLOBAL, "alerts.check-interval", new Dur(ONE_SECOND), "60s",
                    "How often the alert conditions are evaluated."),
            key(GLOBAL, "alerts.stall-polls", new Int(2, 1000, "polls an interval-polled mailbox may miss"), "3",
                    "A mailbox polled at an interval has stalled when no poll completed and nothing was delivered for"
                    + " (stall-polls + 1) intervals (twice that before its first poll). Cron-polled mailboxes are not"
                    + " checked for stalls."),
            key(GLOBAL, "cluster.service", Choice.of(ClusterConfig.Service.class), "none", "Several instances on one"
                    + " **PostgreSQL** store. Each mailbox and the `refresh-tokens` route is a Camel `master:` route of"
                    + " its own namespace (`mailintake-mailbox-<name>`), owned by one instance at a time: mailboxes"
                    + " spread over the instances and each moves to another one when its owner dies"
                    + " ([Several instances](#several-instances-scale-out))."
                    + " `none`: one instance per store; a second one on the same store is refused at start, naming the"
                    + " other. `file` and `zookeeper`: see their keys. `kubernetes`: a Lease per namespace in the pods'"
                    + " Kubernetes namespace (camel-kubernetes' `KubernetesClusterService`; the"
                    + " `cluster.kubernetes.*` keys; [deploy/kubernetes](operations.md#kubernetes))."),
            key(GLOBAL, "cluster.file.root", DIRECTORY, null, "`file`: a directory every instance sees (one host, or"
                    + " a shared volume with working file locks), one lock file per namespace (camel-file's"
                    + " `FileLockClusterService`)."),
            key(GLOBAL, "cluster.zookeeper.nodes", new Text("`host:port,…`"), null, "`zookeeper`: the ensemble"
                    + " (camel-zookeeper's `ZooKeeperClusterService`, base path `/mail-intake/cluster`, session timeout"
                    + " 10 s)."),
            computed(GLOBAL, "cluster.kubernetes.namespace", new Text("a Kubernetes namespace name"), "the pod's"
                    + " namespace (`/var/run/secrets/kubernetes.io/serviceaccount/namespace`)", "`kubernetes`: the"
                    + " namespace of the Leases (`mail-intake-mailintake-mailbox-<name>`,"
                    + " `mail-intake-mailintake-refresh-tokens`) and of the member pods. One Mail Intake deployment per"
                    + " namespace: the Leases are named after the mailboxes."),
            computed(GLOBAL, "cluster.kubernetes.pod-name", new Text("a pod name"), "`POD_NAME`, else `HOSTNAME`"
                    + " (environment)", "`kubernetes`: this pod's name, the Leases' holder identity. It must be the name"
                    + " of a pod with `cluster.kubernetes.labels` (the downward API's `metadata.name`)."),
            key(GLOBAL, "cluster.kubernetes.labels", new Text("`name=value,…`"), "app.kubernetes.io/name=mail-intake",
                    "`kubernetes`: the labels of the member pods. A Lease's holder counts only while its pod has these"
                    + " labels and is Running and Ready; a pod that is not among them never takes a Lease."),
            computed(GLOBAL, "cluster.kubernetes.master-url", new Url(false), "in-cluster (the service account's"
                    + " API server, token and CA)", "`kubernetes`: the API server, e.g. `https://10.0.0.1:443` (the"
                    + " credentials then come from `~/.kube/config` or the service account, as for `kubectl`)."),
            key(GLOBAL, "cluster.kubernetes.lease-duration", new Dur(ONE_SECOND), "15s", "`kubernetes`: a pod that"
                    + " takes a Lease over waits this long before it starts the mailbox, so the old holder has stopped."
                    + " Longer than `renew-deadline`."),
            key(GLOBAL, "cluster.kubernetes.renew-deadline", new Dur(ONE_SECOND), "10s", "`kubernetes`: a holder"
                    + " that could not renew its Lease (or read the member pods) for this long stops the mailbox."
                    + " Longer than 1.2 × `retry-period`."),
            key(GLOBAL, "cluster.kubernetes.retry-period", new Dur(ONE_SECOND), "5s", "`kubernetes`: how often each"
                    + " instance reads each Lease and lists the member pods (each wait 1 to 1.2 times this): about"
                    + " 2 × mailboxes × instances / `retry-period` API requests per second."),
            computed(GLOBAL, "cluster.instance-id", TEXT, "host name + `:` + data directory (`kubernetes`: the pod"
                    + " name)", "This instance's name"
                    + " among the others (status page, health `owner`, the store's `mi_instances`). Keep it stable"
                    + " across restarts."),
            key(GLOBAL, "cluster.claim-lease", new Dur(ONE_SECOND), "2m", "How long an instance's claim on a message"
                    + " it is importing holds without renewal; after it, another instance may take the message over"
                    + " (its owner died or was frozen)."),

            computed(CONNECTION, "tenant-id", TEXT, REQUIRED + " (not for `generic`)",
                    "Directory (tenant) ID, or a tenant domain (`contoso.onmicrosoft.com`)."),
            computed(CONNECTION, "client-id", TEXT, REQUIRED, "Application (client) ID."),
            key(CONNECTION, "client-secret", SECRET, null, "The client secret's **value** (not its *Secret ID*)."),
            key(CONNECTION, "client-secret-file", FILE, null,
                    "File that holds the client secret. Not together with `client-secret`."),
            key(CONNECTION, "client-secret-expires", new Date(), null, "The client secret's expiry date as the app"
                    + " registration shows it (*Certificates & secrets* → *Expires*). From 30 days before (and again"
                    + " from 7 days) the connection's health check carries a warning,"
                    + " `mailintake_credential_expiry_seconds` counts down and an alert fires; once expired the check"
                    + " is DOWN. A certificate's expiry is read from the certificate itself."),
            key(CONNECTION, "client-certificate", FILE, null, "The certificate **and its RSA private key**: a PKCS#12"
                    + " file (`.p12`/`.pfx`), or PEM with a `CERTIFICATE` block and an unencrypted PKCS#8"
                    + " `PRIVATE KEY` block (the key may be in `client-certificate-key` instead). The certificate"
                    + " (public part) is uploaded to the app registration."),
            key(CONNECTION, "client-certificate-key", FILE, null, "PEM file with the unencrypted PKCS#8 private key,"
                    + " when it is not in the `client-certificate` file."),
            key(CONNECTION, "client-certificate-password", SECRET, "",
                    "Password of the PKCS#12 file. Not used for PEM."),
            key(CONNECTION, "provider", Choice.of(Provider.class), "microsoft", "`microsoft` (Entra ID through msal4j)"
                    + " or `generic` (any OAuth2 server; see [Generic OAuth2 providers](#generic-oauth2-providers))."),
            key(CONNECTION, "flow", Choice.of(Flow.class), "client-credentials", "`client-credentials` (app-only),"
                    + " `delegated` (authorization code with PKCE; a user signs in through the status page) or"
                    + " `device-code` (delegated, signed in on the command line; a public client without secret or"
                    + " certificate)."),
            key(CONNECTION, "authority-host", new Url(true), "https://login.microsoftonline.com",
                    "Entra ID host. The authority is `<authority-host>/<tenant-id>/`."),
            key(CONNECTION, "graph-base-url", new Url(false), "https://graph.microsoft.com/v1.0", "Graph root."
                    + " Mailboxes are read at `<graph-base-url>/users/<address>/…`. When it is not a Microsoft Graph"
                    + " host (a proxy, a test server), set `scopes`: the default derived from it names that host, which"
                    + " Entra refuses with AADSTS500011."),
            computed(CONNECTION, "scopes", new ListOf("scopes"), "app-only: `<scheme>://<host[:port] of"
                    + " graph-base-url>/.default`; delegated: that resource followed by `/Mail.ReadWrite`,"
                    + " `/Mail.ReadWrite.Shared`, `/MailboxSettings.ReadWrite`, `/User.Read`. For a connection used by"
                    + " `imap` mailboxes: app-only `https://outlook.office365.com/.default`, delegated"
                    + " `https://outlook.office.com/IMAP.AccessAsUser.All`", "Scopes of the token request. Leave it"
                    + " unset: it follows `graph-base-url`, or the IMAP defaults. For delegated connections msal4j"
                    + " adds `openid`, `profile` and `offline_access` itself. A token is issued for one resource, so a"
                    + " connection without `scopes` cannot serve both `graph` and `imap` mailboxes: define two"
                    + " connections with the same app registration ([imap.md](imap.md#connections-and-scopes))."),
            key(CONNECTION, "instance-discovery", BOOL, "true", "`false` turns off msal4j's instance discovery and its"
                    + " authority validation. Use it for authorities msal4j does not know (private or test servers)."),
            key(CONNECTION, "trust-store", FILE, null, "PKCS#12 trust store with the CA of the **token endpoint**. It"
                    + " replaces the JVM's trust for token requests. Graph calls keep using the JVM's default trust"
                    + " store; IMAP connections use it or the mailbox's `imap.trust-store`."),
            key(CONNECTION, "trust-store-password", SECRET, "", "Password of the trust store."),
            computed(CONNECTION, "authorize-url", new Url(true), REQUIRED + " for `generic` with `flow=delegated`",
                    "The provider's authorization endpoint (`http://` only on a loopback host: `localhost`, `127.*`,"
                    + " `::1`)."),
            computed(CONNECTION, "token-url", new Url(true), REQUIRED + " for `generic`", "The provider's token"
                    + " endpoint (`http://` only on a loopback host: `localhost`, `127.*`, `::1`, e.g. a test server or"
                    + " a sidecar)."),
            computed(CONNECTION, "scope-separator", TEXT, "a space",
                    "How `generic` scopes are joined in requests (some providers want `,`)."),
            key(CONNECTION, "client-auth", new Choice(List.of("post", "basic")), "post", "`generic`: `post` (client id"
                    + " and secret in the form) or `basic` (HTTP Basic, RFC 6749 §2.3.1)."),
            key(CONNECTION, "token-params" + ConfigKey.FAMILY, SECRET, null, "`generic`: an extra form field"
                    + " `<name>=<value>` of every token request. Names are form-field names (letters, digits,"
                    + " `_ - . ~`); the fields the application sets itself (`grant_type`, `client_id`, `client_secret`,"
                    + " `scope`, `code`, `redirect_uri`, `code_verifier`, `refresh_token`, `client_assertion*`) are"
                    + " refused. Values may use `{{env:…}}` and are never logged; the key itself must be in the file."),
            key(CONNECTION, "authorize-params", new Text("query string"), "", "`generic`: extra query parameters for"
                    + " the authorize request, e.g. `access_type=offline&prompt=consent` (Google)."),

            computed(MAILBOX, "connection", new Text("a connection name"), REQUIRED,
                    "The connection (app registration) used to read this mailbox."),
            computed(MAILBOX, "address", new Text("contains `@`"), REQUIRED,
                    "SMTP address or UPN of a user or shared mailbox."),
            key(MAILBOX, "protocol", Choice.of(Protocol.class), "graph", "How the mailbox is read: Microsoft Graph, or"
                    + " IMAP with SASL XOAUTH2 ([imap.md](imap.md))."),
            key(MAILBOX, "folders.inbox", FOLDER, "inbox", "Polled folder ([Folders](#folders)). It is never created."),
            key(MAILBOX, "folders.processed", FOLDER, "Inbox/Processed", "Imported messages are moved here."),
            key(MAILBOX, "folders.error", FOLDER, "Inbox/Error", "Rejected messages are moved here."),
            key(MAILBOX, "create-folders", BOOL, "false",
                    "Create missing Processed and Error folders (and missing path segments) at the first poll."),
            key(MAILBOX, "rules.require-attachment", BOOL, "false",
                    "At least one real (non-inline) attachment ([Rules](#rules))."),
            computed(MAILBOX, "rules.allowed-attachment-types", new ListOf("extensions or MIME types"), "empty (any)",
                    "Attachment types allowed: `pdf`, `.pdf`, `application/pdf`, `image/*` ([Rules](#rules))."),
            key(MAILBOX, "rules.max-size", new Size("", "", ""), "150MB",
                    "Largest raw message. Larger ones go to Error as `too large`."),
            computed(MAILBOX, "target", new Text("`folder:<path>` or `scheme:…`"), "`folder:<data-dir>/out/<name>`",
                    "Where messages are delivered: a folder, a Camel endpoint or `direct:<name>` of a user route"
                    + " ([Targets](#targets))."),
            key(MAILBOX, "poll", new Text("duration ≥ 1s, or cron"), "60s", "When the mailbox is polled"
                    + " ([Polling](#polling))."),
            key(MAILBOX, "concurrency", new Int(1, 4, "Microsoft allows 4 concurrent requests per mailbox"), "4",
                    "Graph requests in flight for this mailbox. IMAP: connections used in parallel during a poll to"
                    + " fetch and move messages ([imap.md](imap.md#what-a-poll-does)). Either way, workers that parse"
                    + " and deliver: 2 × `concurrency`."),
            key(MAILBOX, "max-messages-per-poll", new Int(1, 100_000, ""), "500", "Messages listed and imported per"
                    + " poll, oldest first. A poll that took this many is followed at once by the next one"
                    + " ([Polling](#polling))."),
            key(MAILBOX, "page-size", new Int(1, 1000, "Graph's $top accepts 1..1000; lower it if listing answers 504"),
                    "100", "`$top` of each listing request, at most `max-messages-per-poll`. Lower it if listing"
                    + " answers 504. IMAP: UIDs whose envelopes are fetched per `UID FETCH` while listing."),
            key(MAILBOX, "request-budget", new Text("`<requests>/<duration>`"), "9000/10m", "Graph requests per"
                    + " sliding window (Microsoft allows 10,000 per 10 minutes per app and mailbox). Refused for IMAP"
                    + " mailboxes."),
            key(MAILBOX, "max-delivery-attempts", new Int(1, 1000, ""), "5", "Failed polls after which a message whose"
                    + " delivery keeps failing goes to Error ([Delivery failures](#delivery-failures))."),
            key(MAILBOX, "enabled", BOOL, "true", "`false`: validated, shown in health as `DISABLED`, not polled."),
            key(MAILBOX, "imap.host", new Text("host name or IP"), ImapServer.MICROSOFT_HOST,
                    "`protocol = imap` only: the IMAP server. Gmail: `imap.gmail.com`."),
            computed(MAILBOX, "imap.port", new Int(1, 65535, ""), "`993` with `ssl`, else `143`",
                    "`protocol = imap` only: the IMAP port."),
            key(MAILBOX, "imap.security", Choice.of(ImapServer.Security.class), "ssl", "`protocol = imap` only."
                    + " `ssl`: TLS from the first byte (port 993). `starttls`: plain connection, then `STARTTLS`, which"
                    + " is required (no fallback to plain text). `none`: no TLS, accepted only for a server on this"
                    + " machine (`localhost`, `127.*`, `::1`), since the token would travel in the clear."),
            computed(MAILBOX, "imap.user", TEXT, "the mailbox `address`", "`protocol = imap` only: the `user=` of"
                    + " XOAUTH2, the mailbox to open. For a shared mailbox it is the shared mailbox's address, while"
                    + " the token is the signed-in user's (delegated) or the app's (app-only)."),
            key(MAILBOX, "imap.timeout", new Dur(NONE), "60s",
                    "`protocol = imap` only: connect, read and write timeout of the IMAP connection."),
            key(MAILBOX, "imap.fetch-size",
                    new Size("4KB", "64MB", "bytes fetched per round trip while streaming a message"), "1MB",
                    "`protocol = imap` only: bytes per partial `UID FETCH` while a message is streamed to the spool"
                    + " file. It bounds the memory a message in flight takes, and the bytes of a batch of small"
                    + " messages fetched together (`imap.batch-size`)."),
            key(MAILBOX, "imap.batch-size", new Int(1, 500, "messages per UID FETCH and per UID MOVE"), "50",
                    "`protocol = imap` only: messages fetched together in one `UID FETCH` (small ones, as many as fit"
                    + " into `imap.fetch-size` bytes by their listed sizes) and moved together in one `UID MOVE` (or"
                    + " `UID COPY` + `UID STORE` + `UID EXPUNGE` of exactly those messages) once each is recorded in"
                    + " the ledger. After a crash, delivered messages that were waiting for their batch's move are only"
                    + " moved by the next poll, never delivered again. `1` fetches and moves each message on its own."),
            computed(MAILBOX, "imap.trust-store", FILE, "— (the JVM's trusted CAs)", "`protocol = imap` only:"
                    + " PKCS#12 trust store with the CA of an IMAP server whose certificate a private CA issued. It"
                    + " replaces the JVM's trusted CAs for this mailbox's IMAP connections (`ssl` and `starttls`); the"
                    + " host name is still checked. A file that is not readable, or cannot be opened (wrong password,"
                    + " not PKCS#12), stops start-up."),
            key(MAILBOX, "imap.trust-store-password", SECRET, "", "`protocol = imap` only: its password."));

    private ConfigSchema() {
    }

    private static ConfigKey key(Scope scope, String name, Type type, String dflt, String help) {
        String shown = dflt == null ? "—" : dflt.isEmpty() ? "empty" : "`" + dflt + "`";
        return new ConfigKey(scope, name, type, dflt, shown, help);
    }

    /** A key whose default is computed from other keys (or that has none but is described). */
    private static ConfigKey computed(Scope scope, String name, Type type, String shown, String help) {
        return new ConfigKey(scope, name, type, null, shown, help);
    }

    /** The keys of a scope, in the order of the docs. */
    public static List<ConfigKey> keys(Scope scope) {
        return KEYS.stream().filter(k -> k.scope() == scope).toList();
    }

    /** The declared key {@code name} of {@code scope} (a family's member by its family). */
    public static Optional<ConfigKey> find(Scope scope, String name) {
        return keys(scope).stream()
                .filter(k -> k.family() ? name.startsWith(k.familyPrefix()) : k.name().equals(name)).findFirst();
    }

    static ConfigKey get(Scope scope, String name) {
        return find(scope, name).orElseThrow(() -> new IllegalArgumentException(scope.prefix() + name
                + " is not declared in ConfigSchema"));
    }

    /** The names of a scope's single keys (not the families), sorted. */
    public static Set<String> names(Scope scope) {
        return keys(scope).stream().filter(k -> !k.family()).map(ConfigKey::name)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * The problem with an undeclared setting of a connection or a mailbox ({@code fullKey} ends in {@code setting}):
     * "did you mean" and the known settings.
     */
    static String unknownSetting(Scope scope, String fullKey, String setting) {
        Set<String> all = new TreeSet<>(keys(scope).stream().map(ConfigKey::name).toList());
        return fullKey + ": unknown " + scope.word() + " setting '" + setting + "'" + didYouMean(scope, setting, "")
                + "; known settings: " + String.join(", ", all);
    }

    /** The problem with an undeclared global key ({@code mailintake.} + {@code name}). */
    static String unknownGlobal(String name) {
        return GLOBAL.prefix() + name + ": unknown key" + didYouMean(GLOBAL, name, GLOBAL.prefix())
                + "; known keys are mailintake."
                + String.join(", mailintake.", names(GLOBAL))
                + ", mailintake.connections.<name>.* and mailintake.mailboxes.<name>.*";
    }

    /** {@code " (did you mean 'x'?)"} for a declared key at most two edits away, else empty. */
    private static String didYouMean(Scope scope, String name, String prefix) {
        String best = null;
        int bestDistance = 3;
        for (ConfigKey k : keys(scope)) {
            String candidate = k.name();
            if (k.family()) {
                // token-param.username: compare with token-params.username
                int dots = (int) k.familyPrefix().chars().filter(c -> c == '.').count();
                String[] parts = name.split("\\.", dots + 1);
                if (parts.length <= dots) {
                    continue;
                }
                candidate = k.familyPrefix() + parts[dots];
            }
            int d = distance(name, candidate);
            if (d > 0 && d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best == null ? "" : " (did you mean '" + prefix + best + "'?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}

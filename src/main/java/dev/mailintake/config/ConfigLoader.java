package dev.mailintake.config;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns the {@code mailintake.*} properties into a {@link MailIntakeConfig}, collecting every problem (by key, with
 * the fix) before failing, so a wrong configuration never half-starts the application.
 */
public final class ConfigLoader {
    public static final String PREFIX = "mailintake.";
    static final String CONNECTIONS = PREFIX + "connections.";
    static final String MAILBOXES = PREFIX + "mailboxes.";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final int MAX_GRAPH_CONCURRENCY = 4;

    static final Set<String> CONNECTION_KEYS = Set.of("provider", "flow", "tenant-id", "client-id", "client-secret",
            "client-secret-file", "client-certificate", "client-certificate-key", "client-certificate-password", "authority-host",
            "graph-base-url", "scopes", "instance-discovery", "trust-store", "trust-store-password", "authorize-url",
            "token-url", "scope-separator", "client-auth", "authorize-params", "client-secret-expires");
    /** Connection key families: {@code token-params.<form field name>}. */
    static final String TOKEN_PARAMS = "token-params.";
    private static final Pattern FORM_FIELD = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.~-]*");
    /** Form fields the application sets itself from other keys; a token-params.* entry may not replace them. */
    private static final Set<String> OWN_FORM_FIELDS = Set.of("grant_type", "client_id", "client_secret", "scope",
            "code", "redirect_uri", "code_verifier", "refresh_token", "client_assertion", "client_assertion_type");
    static final Set<String> MAILBOX_KEYS = Set.of("connection", "protocol", "address", "folders.inbox",
            "folders.processed", "folders.error", "create-folders", "rules.require-attachment",
            "rules.allowed-attachment-types", "rules.max-size", "target", "poll", "concurrency",
            "max-messages-per-poll", "page-size", "request-budget", "max-delivery-attempts", "enabled",
            "imap.host", "imap.port", "imap.security", "imap.user", "imap.timeout", "imap.fetch-size",
            "imap.trust-store", "imap.trust-store-password");
    static final Set<String> GLOBAL_KEYS = Set.of("data-dir", "store.url", "store.user", "store.password",
            "delivery.redeliveries", "delivery.redelivery-delay", "admin.host", "admin.port", "admin.public-base-url",
            "admin.password",
            "refresh.cron", "refresh.window", "refresh.retry-delay", "routes-dir", "routes-reload",
            "alerts.endpoint", "alerts.check-interval", "alerts.stall-polls",
            "cluster.service", "cluster.file.root", "cluster.zookeeper.nodes", "cluster.instance-id",
            "cluster.claim-lease");
    /** Exchange Online IMAP: app-only (client credentials) and delegated scopes (msal4j adds offline_access). */
    static final List<String> APP_IMAP_SCOPES = List.of("https://outlook.office365.com/.default");
    static final List<String> DELEGATED_IMAP_SCOPES = List.of("https://outlook.office.com/IMAP.AccessAsUser.All");
    /** Delegated Graph permissions (the resource prefix is added from graph-base-url). */
    static final List<String> DELEGATED_GRAPH_SCOPES = List.of("Mail.ReadWrite", "Mail.ReadWrite.Shared",
            "MailboxSettings.ReadWrite", "User.Read");

    private final Map<String, String> props;
    private final java.util.function.Predicate<String> componentExists;
    private final java.util.function.Predicate<String> directRouteExists;
    private final List<String> problems = new ArrayList<>();

    /** @param props the resolved {@code mailintake.*} properties (placeholders already substituted) */
    public ConfigLoader(Map<String, String> props) {
        this(props, scheme -> true);
    }

    /** @param componentExists whether a Camel component of that scheme is on the classpath (endpoint targets) */
    public ConfigLoader(Map<String, String> props, java.util.function.Predicate<String> componentExists) {
        this(props, componentExists, name -> true);
    }

    /** @param directRouteExists whether a route consumes {@code direct:<name>} (a user's delivery route) */
    public ConfigLoader(Map<String, String> props, java.util.function.Predicate<String> componentExists,
                        java.util.function.Predicate<String> directRouteExists) {
        this.props = new TreeMap<>(props);
        this.componentExists = componentExists;
        this.directRouteExists = directRouteExists;
    }

    /** Loads or throws a {@link ConfigurationException} listing every problem. */
    public MailIntakeConfig load() {
        Map<String, Map<String, String>> connectionProps = group(CONNECTIONS, CONNECTION_KEYS, Set.of(TOKEN_PARAMS),
                "connection");
        Map<String, Map<String, String>> mailboxProps = group(MAILBOXES, MAILBOX_KEYS, Set.of(), "mailbox");
        for (String key : props.keySet()) {
            if (!key.startsWith(CONNECTIONS) && !key.startsWith(MAILBOXES)
                    && !GLOBAL_KEYS.contains(key.substring(PREFIX.length()))) {
                problems.add(key + ": unknown key; known keys are mailintake." + String.join(", mailintake.",
                        new TreeSet<>(GLOBAL_KEYS)) + ", mailintake.connections.<name>.* and mailintake.mailboxes.<name>.*");
            }
        }
        Path dataDir = Path.of(props.getOrDefault(PREFIX + "data-dir", "data"));
        StoreConfig store = new StoreConfig(
                props.getOrDefault(PREFIX + "store.url",
                        "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("mail-intake") + ";DB_CLOSE_ON_EXIT=FALSE"),
                props.getOrDefault(PREFIX + "store.user", "sa"),
                Optional.ofNullable(blankToNull(props.get(PREFIX + "store.password"))).map(Secret::new));

        Map<String, String> global = new TreeMap<>();
        props.forEach((key, value) -> {
            if (key.startsWith(PREFIX) && GLOBAL_KEYS.contains(key.substring(PREFIX.length()))) {
                global.put(key.substring(PREFIX.length()), value);
            }
        });
        integer(global, PREFIX, "delivery.redeliveries", 3, 0, 100, "");
        integer(global, PREFIX, "delivery.redelivery-delay", 2000, 0, 3_600_000, "milliseconds");

        int adminPort = integer(global, PREFIX, "admin.port", 8765, 1, 65535, "");
        String adminHost = global.getOrDefault("admin.host", "127.0.0.1").trim();
        adminHostProblem(adminHost).ifPresent(p -> problems.add(PREFIX + "admin.host: " + p));
        URI publicBase = uri(global, PREFIX, "admin.public-base-url", "http://localhost:" + adminPort, false);
        if (publicBase != null && "http".equals(publicBase.getScheme()) && !isLoopbackHost(publicBase.getHost())) {
            problems.add(PREFIX + "admin.public-base-url: " + publicBase + " must be https: Entra ID and most providers"
                    + " accept http redirect URIs only for localhost");
        }
        Optional<Secret> adminPassword = Optional.ofNullable(blankToNull(global.get("admin.password"))).map(Secret::new);
        boolean loopback = isLoopbackHost(adminHost);
        if (!loopback && adminPassword.isEmpty()) {
            problems.add(PREFIX + "admin.password: the admin server listens on " + adminHost + ", beyond this machine;"
                    + " set a password (mailintake.admin.password={{env:MAILINTAKE_ADMIN_PASSWORD}}) or keep"
                    + " mailintake.admin.host=127.0.0.1 behind a reverse proxy");
        }
        AdminConfig admin = new AdminConfig(adminHost, adminPort, publicBase, adminPassword);
        Optional<String> refreshCron = cron(PREFIX + "refresh.cron", global.getOrDefault("refresh.cron", "0 5 * * * ?"),
                "e.g. '5 * * * *' or '0 5 * * * ?' (five past every hour)");
        Duration refreshWindow;
        try {
            refreshWindow = Units.duration(global.getOrDefault("refresh.window", "30m"));
        } catch (RuntimeException e) {
            problems.add(PREFIX + "refresh.window: not a duration; use e.g. 30m");
            refreshWindow = Duration.ofMinutes(30);
        }
        Duration retryDelay;
        try {
            retryDelay = Units.duration(global.getOrDefault("refresh.retry-delay", "5s"));
        } catch (RuntimeException e) {
            problems.add(PREFIX + "refresh.retry-delay: not a duration; use e.g. 5s");
            retryDelay = Duration.ofSeconds(5);
        }
        AlertsConfig alerts = new AlertsConfig(
                Optional.ofNullable(blankToNull(global.get("alerts.endpoint"))).map(String::trim),
                duration(global, "alerts.check-interval", "60s"),
                integer(global, PREFIX, "alerts.stall-polls", 3, 2, 1000, "polls an interval-polled mailbox may miss"));
        ClusterConfig cluster = cluster(global, store, dataDir);
        RefreshConfig refresh = new RefreshConfig(refreshCron.orElse("0 5 * * * ?"), refreshWindow, retryDelay);

        // read from the raw properties, not the parsed mailboxes: a mailbox with another problem still counts, so
        // every problem (e.g. one connection for graph and imap mailboxes) is reported at once
        Map<String, Set<Protocol>> protocols = new TreeMap<>();
        mailboxProps.forEach((name, p) -> {
            String protocol = p.getOrDefault("protocol", "graph").trim().toUpperCase(Locale.ROOT);
            if (p.get("connection") != null && (protocol.equals("GRAPH") || protocol.equals("IMAP"))) {
                protocols.computeIfAbsent(p.get("connection").trim(), c -> EnumSet.noneOf(Protocol.class))
                        .add(Protocol.valueOf(protocol));
            }
        });
        Map<String, ConnectionConfig> connections = new LinkedHashMap<>();
        connectionProps.forEach((name, p) -> connection(name, p, protocols.getOrDefault(name, Set.of()))
                .ifPresent(c -> connections.put(name, c)));
        Map<String, MailboxConfig> mailboxes = new LinkedHashMap<>();
        mailboxProps.forEach((name, p) -> mailbox(name, p, dataDir, connectionProps.keySet())
                .ifPresent(m -> mailboxes.put(name, m)));
        Map<String, String> readers = new LinkedHashMap<>();
        for (MailboxConfig m : mailboxes.values()) {
            String source = m.connection() + "|" + m.address().toLowerCase(Locale.ROOT) + "|"
                    + m.folders().inbox().toLowerCase(Locale.ROOT);
            String other = readers.putIfAbsent(source, m.name());
            if (other != null) {
                problems.add(MAILBOXES + m.name() + ".address: mailboxes '" + other + "' and '" + m.name()
                        + "' both read folder " + m.folders().inbox() + " of " + m.address()
                        + " through connection '" + m.connection() + "'; keep one of them");
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        return new MailIntakeConfig(dataDir, store, admin, refresh, alerts, cluster, Map.copyOf(connections),
                Map.copyOf(mailboxes));
    }

    private Map<String, Map<String, String>> group(String prefix, Set<String> known, Set<String> families, String what) {
        Map<String, Map<String, String>> groups = new TreeMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                continue;
            }
            String rest = e.getKey().substring(prefix.length());
            int dot = rest.indexOf('.');
            if (dot <= 0) {
                problems.add(e.getKey() + ": incomplete key; use " + prefix + "<name>.<setting>");
                continue;
            }
            String name = rest.substring(0, dot);
            String key = rest.substring(dot + 1);
            if (!NAME.matcher(name).matches()) {
                problems.add(e.getKey() + ": the " + what + " name '" + name
                        + "' must be lower-case letters, digits and '-', starting with a letter or digit");
                continue;
            }
            if (!known.contains(key) && families.stream().noneMatch(key::startsWith)) {
                Set<String> all = new TreeSet<>(known);
                families.forEach(f -> all.add(f + "<name>"));
                problems.add(e.getKey() + ": unknown " + what + " setting '" + key + "'"
                        + suggestion(key, known) + "; known settings: " + String.join(", ", all));
                continue;
            }
            groups.computeIfAbsent(name, n -> new TreeMap<>()).put(key, e.getValue());
        }
        return groups;
    }

    /** @param protocols how the mailboxes using this connection are read (decides the default scopes) */
    private Optional<ConnectionConfig> connection(String name, Map<String, String> p, Set<Protocol> protocols) {
        String k = CONNECTIONS + name + ".";
        int before = problems.size();
        Provider provider = enumValue(p, k, "provider", Provider.class, Provider.MICROSOFT);
        Flow flow = enumValue(p, k, "flow", Flow.class, Flow.CLIENT_CREDENTIALS);
        String tenant = provider == Provider.GENERIC ? p.getOrDefault("tenant-id", "")
                : required(p, k, "tenant-id", "the Directory (tenant) ID of the app registration, or a tenant domain");
        String clientId = required(p, k, "client-id", "the Application (client) ID of the app registration");
        Optional<Secret> secret = secret(p, k, "client-secret", "client-secret-file");
        Optional<Path> certificate = Optional.ofNullable(blankToNull(p.get("client-certificate"))).map(Path::of);
        Optional<Path> certificateKey = Optional.ofNullable(blankToNull(p.get("client-certificate-key"))).map(Path::of);
        Optional<Secret> certificatePassword = Optional.ofNullable(blankToNull(p.get("client-certificate-password")))
                .map(Secret::new);
        if (certificateKey.isPresent() && certificate.isEmpty()) {
            problems.add(k + "client-certificate-key: given without client-certificate; give the certificate (PEM) too");
        }
        certificateKey.ifPresent(c -> {
            if (!Files.isReadable(c)) {
                problems.add(k + "client-certificate-key: file " + c.toAbsolutePath() + " is not readable; give the PEM file with the PKCS#8 private key");
            }
        });
        certificate.ifPresent(c -> {
            if (!Files.isReadable(c)) {
                problems.add(k + "client-certificate: file " + c.toAbsolutePath() + " is not readable; give the path of a PKCS#12 (.p12/.pfx) file, or a PEM file with the certificate and its PKCS#8 key");
            }
        });
        ConnectionConfig.GenericOAuth generic = ConnectionConfig.GenericOAuth.none();
        Map<String, Secret> tokenParams = tokenParams(p, k, provider);
        if (provider == Provider.GENERIC) {
            if (flow == Flow.DEVICE_CODE) {
                problems.add(k + "flow: generic OAuth2 providers support flow=delegated (an administrator signs in"
                        + " in the browser) or flow=client-credentials (app tokens); device-code is for provider=microsoft");
            }
            if (certificate.isPresent()) {
                problems.add(k + "client-certificate: generic OAuth2 providers take a client-secret");
            }
            if (blankToNull(p.get("scopes")) == null) {
                problems.add(k + "scopes: generic OAuth2 providers need their scopes, e.g. https://mail.google.com/ for Gmail IMAP");
            }
            String auth = p.getOrDefault("client-auth", "post").trim();
            if (!auth.equals("post") && !auth.equals("basic")) {
                problems.add(k + "client-auth: '" + auth + "' must be post (client_secret in the form) or basic (HTTP Basic)");
            }
            boolean signsIn = flow == Flow.DELEGATED || p.containsKey("authorize-url");
            generic = new ConnectionConfig.GenericOAuth(
                    Optional.ofNullable(signsIn ? providerUrl(p, k, "authorize-url") : null),
                    Optional.ofNullable(providerUrl(p, k, "token-url")),
                    p.getOrDefault("scope-separator", " ").isEmpty() ? " " : p.getOrDefault("scope-separator", " "),
                    auth.equals("basic"), p.getOrDefault("authorize-params", "").trim(), tokenParams);
        }
        if (flow == Flow.DEVICE_CODE && (secret.isPresent() || certificate.isPresent())) {
            problems.add(k + "flow: device-code connections are public clients: remove client-secret and"
                    + " client-certificate (and allow public client flows in the app registration)");
        }
        if (flow != Flow.DEVICE_CODE && secret.isEmpty() && certificate.isEmpty()) {
            problems.add(k + "client-secret: connections need a client secret (client-secret={{env:VAR}} or client-secret-file=<path>) or client-certificate=<file.p12>");
        }
        if (secret.isPresent() && certificate.isPresent()) {
            problems.add(k + "client-certificate: give either client-secret or client-certificate, not both");
        }
        URI authorityHost = uri(p, k, "authority-host", "https://login.microsoftonline.com", true);
        URI graph = uri(p, k, "graph-base-url", "https://graph.microsoft.com/v1.0", false);
        List<String> scopes = list(p.get("scopes"));
        if (scopes.isEmpty() && protocols.contains(Protocol.IMAP)) {
            if (protocols.contains(Protocol.GRAPH)) {
                problems.add(k + "scopes: connection '" + name + "' serves both graph and imap mailboxes, but a token"
                        + " is issued for one resource (Graph or Exchange IMAP); define a second connection with the"
                        + " same app registration for the imap mailboxes");
            }
            scopes = flow == Flow.CLIENT_CREDENTIALS ? APP_IMAP_SCOPES : DELEGATED_IMAP_SCOPES;
        } else if (scopes.isEmpty() && graph != null) {
            String resource = graph.getScheme() + "://" + graph.getRawAuthority();
            scopes = flow == Flow.CLIENT_CREDENTIALS ? List.of(resource + "/.default")
                    : DELEGATED_GRAPH_SCOPES.stream().map(s -> resource + "/" + s).toList();
        }
        boolean discovery = bool(p, k, "instance-discovery", true);
        Optional<Path> trustStore = Optional.ofNullable(blankToNull(p.get("trust-store"))).map(Path::of);
        trustStore.ifPresent(t -> {
            if (!Files.isReadable(t)) {
                problems.add(k + "trust-store: file " + t.toAbsolutePath() + " is not readable; give a PKCS#12 trust store with the authority's CA certificate, or remove the key");
            }
        });
        Optional<Secret> trustStorePassword = Optional.ofNullable(blankToNull(p.get("trust-store-password"))).map(Secret::new);
        Optional<LocalDate> secretExpires = Optional.empty();
        String expires = blankToNull(p.get("client-secret-expires"));
        if (expires != null) {
            try {
                secretExpires = Optional.of(LocalDate.parse(expires.trim()));
            } catch (java.time.format.DateTimeParseException e) {
                problems.add(k + "client-secret-expires: '" + expires + "' is not a date; give the secret's expiry as"
                        + " shown in the app registration, e.g. 2027-06-30");
            }
            if (secret.isEmpty()) {
                problems.add(k + "client-secret-expires: only with a client-secret (a certificate's expiry is read from"
                        + " the certificate)");
            }
        }
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new ConnectionConfig(name, provider, flow, tenant, clientId, secret, certificate,
                certificateKey, certificatePassword, authorityHost, graph, scopes, discovery, trustStore, trustStorePassword,
                generic, secretExpires));
    }

    private Optional<MailboxConfig> mailbox(String name, Map<String, String> p, Path dataDir, Set<String> connectionNames) {
        String k = MAILBOXES + name + ".";
        int before = problems.size();
        String connection = required(p, k, "connection", "the name of a connection (mailintake.connections.<name>.*)");
        if (connection != null && !connectionNames.contains(connection)) {
            problems.add(k + "connection: no connection named '" + connection + "'; define mailintake.connections."
                    + connection + ".* or use one of " + connectionNames);
        }
        Protocol protocol = enumValue(p, k, "protocol", Protocol.class, Protocol.GRAPH);
        String address = required(p, k, "address", "the mailbox address, e.g. invoices@contoso.com (user or shared mailbox)");
        if (address != null && !address.contains("@")) {
            problems.add(k + "address: '" + address + "' is not a mailbox address; give e.g. invoices@contoso.com");
        }
        Optional<ImapServer> imap = protocol == Protocol.IMAP ? Optional.ofNullable(imapServer(p, k, address))
                : Optional.empty();
        if (protocol != Protocol.IMAP) {
            p.keySet().stream().filter(key -> key.startsWith("imap.")).sorted().forEach(key ->
                    problems.add(k + key + ": only for protocol=imap mailboxes; remove it or set " + k + "protocol=imap"));
        }
        Folders folders = new Folders(
                folder(p, k, "folders.inbox", "inbox"),
                folder(p, k, "folders.processed", "Inbox/Processed"),
                folder(p, k, "folders.error", "Inbox/Error"));
        if (folders.inbox().equalsIgnoreCase(folders.processed()) || folders.inbox().equalsIgnoreCase(folders.error())
                || folders.processed().equalsIgnoreCase(folders.error())) {
            problems.add(k + "folders: inbox, processed and error must be three different folders (now "
                    + folders.inbox() + ", " + folders.processed() + ", " + folders.error() + ")");
        }
        if (protocol == Protocol.IMAP) {
            for (String key : List.of("folders.inbox", "folders.processed", "folders.error")) {
                String v = p.getOrDefault(key, "").trim();
                if (v.startsWith("id:")) {
                    problems.add(k + key + ": IMAP folders have no ids; give a path (INBOX/Processed) or a folder name");
                } else if (v.startsWith(Folders.WELL_KNOWN_PREFIX) && !v.equalsIgnoreCase(Folders.WELL_KNOWN_PREFIX + "inbox")
                        && Folders.WELL_KNOWN.contains(v.substring(Folders.WELL_KNOWN_PREFIX.length()).toLowerCase(Locale.ROOT))) {
                    problems.add(k + key + ": IMAP's only well-known folder is well-known:inbox; give a path from the"
                            + " root (/" + v.substring(Folders.WELL_KNOWN_PREFIX.length()) + ") or a folder name");
                }
            }
        }
        boolean createFolders = bool(p, k, "create-folders", false);
        Rules rules = new Rules(
                bool(p, k, "rules.require-attachment", false),
                list(p.get("rules.allowed-attachment-types")).stream().map(s -> s.toLowerCase(Locale.ROOT)).toList(),
                size(p, k, "rules.max-size", "150MB"));
        Target target = target(p, k, dataDir.resolve("out").resolve(name));
        Poll poll = poll(p, k);
        boolean imapBox = protocol == Protocol.IMAP;
        int concurrency = integer(p, k, "concurrency", 4, 1, MAX_GRAPH_CONCURRENCY, imapBox
                ? "IMAP connections per mailbox during a poll; servers limit connections per account"
                : "Microsoft allows 4 concurrent requests per mailbox");
        int maxPerPoll = integer(p, k, "max-messages-per-poll", 500, 1, 100_000, "");
        int pageSize = integer(p, k, "page-size", 100, 1, 1000, imapBox ? "messages per UID FETCH of envelopes"
                : "Graph's $top accepts 1..1000; lower it if listing answers 504");
        if (imapBox && p.containsKey("request-budget")) {
            problems.add(k + "request-budget: only for protocol=graph mailboxes (Graph's request limit); remove it");
        }
        RequestBudget budget = budget(p, k);
        int attempts = integer(p, k, "max-delivery-attempts", 5, 1, 1000, "");
        boolean enabled = bool(p, k, "enabled", true);
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new MailboxConfig(name, connection, protocol, address, folders, createFolders, rules,
                target, poll, concurrency, maxPerPoll, pageSize, budget, attempts, enabled, imap));
    }

    private ImapServer imapServer(Map<String, String> p, String k, String address) {
        String host = p.getOrDefault("imap.host", ImapServer.MICROSOFT_HOST).trim();
        if (host.isEmpty() || !host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
            problems.add(k + "imap.host: '" + host + "' is not a host name; give e.g. outlook.office365.com or imap.gmail.com");
        }
        ImapServer.Security security = enumValue(p, k, "imap.security", ImapServer.Security.class, ImapServer.Security.SSL);
        if (security == ImapServer.Security.NONE && !isLoopbackHost(host)) {
            problems.add(k + "imap.security: none would send the access token in the clear to " + host
                    + "; use ssl (port 993) or starttls (port 143); none is only for a server on this machine");
        }
        int port = integer(p, k, "imap.port", security == ImapServer.Security.SSL ? 993 : 143, 1, 65535, "");
        String user = p.getOrDefault("imap.user", address == null ? "" : address).trim();
        Duration timeout = Duration.ofSeconds(60);
        try {
            timeout = Units.duration(p.getOrDefault("imap.timeout", "60s"));
        } catch (RuntimeException e) {
            problems.add(k + "imap.timeout: not a duration; use e.g. 60s");
        }
        long fetchSize = size(p, k, "imap.fetch-size", "1MB");
        if (fetchSize < 4096 || fetchSize > 64L * 1024 * 1024) {
            problems.add(k + "imap.fetch-size: give 4KB..64MB (bytes fetched per round trip while streaming a message)");
        }
        Optional<Path> trustStore = Optional.ofNullable(blankToNull(p.get("imap.trust-store"))).map(Path::of);
        trustStore.ifPresent(t -> {
            if (!Files.isReadable(t)) {
                problems.add(k + "imap.trust-store: file " + t.toAbsolutePath() + " is not readable; give a PKCS#12 trust"
                        + " store with the IMAP server's CA certificate, or remove the key to use the JVM's trusted CAs");
            }
        });
        Optional<Secret> trustStorePassword = Optional.ofNullable(blankToNull(p.get("imap.trust-store-password")))
                .map(Secret::new);
        return new ImapServer(host, port, security, user, timeout, (int) Math.max(4096, Math.min(fetchSize, 64L << 20)),
                trustStore, trustStorePassword);
    }

    private String folder(Map<String, String> p, String k, String key, String dflt) {
        String v = p.getOrDefault(key, dflt).trim();
        // a leading '/' is the path from the root (/Archive); no empty segment anywhere
        if (v.isEmpty() || v.endsWith("/") || v.contains("//")) {
            problems.add(k + key + ": '" + v + "' is not a folder; give a well-known name (inbox, well-known:archive),"
                    + " a path (Inbox/Scans), a path from the root (/Archive), an id (id:AAMk...) or a folder name");
        } else if (v.startsWith(Folders.WELL_KNOWN_PREFIX)
                && !Folders.WELL_KNOWN.contains(v.substring(Folders.WELL_KNOWN_PREFIX.length()).toLowerCase(Locale.ROOT))) {
            problems.add(k + key + ": '" + v.substring(Folders.WELL_KNOWN_PREFIX.length()) + "' is not a well-known"
                    + " folder name; give one of " + new TreeSet<>(Folders.WELL_KNOWN));
        }
        return v;
    }

    private Target target(Map<String, String> p, String k, Path dflt) {
        String v = blankToNull(p.get("target"));
        if (v == null) {
            return Target.folder(dflt);
        }
        if (v.startsWith("folder:")) {
            String path = v.substring("folder:".length());
            if (path.isBlank()) {
                problems.add(k + "target: folder: needs a path, e.g. folder:data/out/invoices");
            }
            return Target.folder(Path.of(path));
        }
        if (!v.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.+")) {
            problems.add(k + "target: '" + v + "' is neither folder:<path> nor a Camel endpoint URI (scheme:...)");
        } else {
            String scheme = v.substring(0, v.indexOf(':'));
            if (!componentExists.test(scheme)) {
                problems.add(k + "target: no Camel component '" + scheme + "' in this build; add its jar (e.g."
                        + " org.apache.camel:camel-" + scheme + ") to lib/ (docs/routes.md) or use another target");
            } else if (scheme.equals("direct") && !directRouteExists.test(directName(v))) {
                problems.add(k + "target: no route consumes " + v + "; add a route file with 'from: uri: direct:"
                        + directName(v) + "' to the routes directory (mailintake.routes-dir, docs/routes.md)");
            }
        }
        return Target.endpoint(v);
    }

    /** {@code direct:dms?timeout=5} and {@code direct://dms} name {@code dms}. */
    public static String directName(String uri) {
        String rest = uri.substring(uri.indexOf(':') + 1);
        rest = rest.startsWith("//") ? rest.substring(2) : rest;
        int q = rest.indexOf('?');
        return q < 0 ? rest : rest.substring(0, q);
    }

    private Poll poll(Map<String, String> p, String k) {
        String v = p.getOrDefault("poll", "60s").trim();
        if (Crons.looksLikeCron(v)) {
            Optional<String> cron = cron(k + "poll", v, "e.g. poll=0 9 * * 1-5 (09:00 Monday to Friday) or poll=*/15 * * * *");
            return new Poll(cron.isPresent() ? Duration.ZERO : Duration.ofMinutes(1), cron);
        }
        try {
            Duration d = Units.duration(v);
            if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                problems.add(k + "poll: " + v + " is too short; poll at most once a second (e.g. poll=30s)");
            }
            return new Poll(d, Optional.empty());
        } catch (RuntimeException e) {
            problems.add(k + "poll: '" + v + "' is neither a duration (30s, 5m) nor a cron (5 fields '5 * * * *' or Quartz '0 5 * * * ?')");
            return new Poll(Duration.ofMinutes(1), Optional.empty());
        }
    }

    /** The Quartz form of a 5-field Unix or 6/7-field Quartz cron; empty (and a problem for {@code key}) if invalid. */
    private Optional<String> cron(String key, String v, String example) {
        try {
            return Optional.of(Crons.toQuartz(v));
        } catch (IllegalArgumentException e) {
            problems.add(key + ": " + e.getMessage() + "; give a cron, " + example);
            return Optional.empty();
        }
    }

    /** {@code token-params.<name> = <value>}: extra form fields of a generic provider's token requests. */
    private Map<String, Secret> tokenParams(Map<String, String> p, String k, Provider provider) {
        Map<String, Secret> params = new TreeMap<>();
        p.forEach((key, value) -> {
            if (!key.startsWith(TOKEN_PARAMS)) {
                return;
            }
            String name = key.substring(TOKEN_PARAMS.length());
            if (provider != Provider.GENERIC) {
                problems.add(k + key + ": token-params are for provider=generic connections; msal4j builds Microsoft's"
                        + " token requests");
            } else if (!FORM_FIELD.matcher(name).matches()) {
                problems.add(k + key + ": '" + name + "' is not a form field name; use letters, digits, '_', '-', '.'"
                        + " or '~', e.g. " + k + TOKEN_PARAMS + "username");
            } else if (OWN_FORM_FIELDS.contains(name)) {
                problems.add(k + key + ": " + name + " is set by the application (from client-id, client-secret,"
                        + " scopes and flow); remove " + key);
            } else if (value == null || value.isBlank()) {
                problems.add(k + key + ": empty; give the value (a secret one as {{env:VAR}}) or remove the key");
            } else {
                params.put(name, new Secret(value.trim()));
            }
        });
        return params;
    }

    /** A generic provider's endpoint: https, or http on a loopback host (a test server, a sidecar). */
    private URI providerUrl(Map<String, String> p, String k, String key) {
        String v = blankToNull(p.get(key));
        if (v == null) {
            problems.add(k + key + ": missing; give the provider's " + key.replace('-', ' ') + " (https)");
            return null;
        }
        URI u;
        try {
            u = URI.create(v.trim());
        } catch (IllegalArgumentException e) {
            problems.add(k + key + ": '" + v.trim() + "' is not a URL");
            return null;
        }
        if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()))) {
            problems.add(k + key + ": '" + v.trim() + "' must be an absolute https URL");
        } else if ("http".equals(u.getScheme()) && !isLoopbackHost(u.getHost())) {
            problems.add(k + key + ": '" + v.trim() + "' must be https; http is allowed only for a loopback host"
                    + " (localhost, 127.*, ::1), e.g. a test server or a sidecar on this machine");
        }
        return u;
    }

    private RequestBudget budget(Map<String, String> p, String k) {
        String v = p.getOrDefault("request-budget", "9000/10m").trim();
        String[] parts = v.split("/");
        try {
            int n = Integer.parseInt(parts[0].trim());
            Duration w = Units.duration(parts[1]);
            if (n < 1 || w.isZero() || w.isNegative()) {
                throw new IllegalArgumentException();
            }
            return new RequestBudget(n, w);
        } catch (RuntimeException e) {
            problems.add(k + "request-budget: '" + v + "' must be <requests>/<window>, e.g. 9000/10m (Microsoft's limit is 10000/10m per app and mailbox)");
            return new RequestBudget(9000, Duration.ofMinutes(10));
        }
    }

    private Optional<Secret> secret(Map<String, String> p, String k, String key, String fileKey) {
        String v = blankToNull(p.get(key));
        String file = blankToNull(p.get(fileKey));
        if (v != null && file != null) {
            problems.add(k + fileKey + ": give either " + key + " or " + fileKey + ", not both");
            return Optional.empty();
        }
        if (file != null) {
            try {
                String content = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
                if (content.isEmpty()) {
                    problems.add(k + fileKey + ": file " + file + " is empty; put the secret value in it");
                    return Optional.empty();
                }
                return Optional.of(new Secret(content));
            } catch (Exception e) {
                problems.add(k + fileKey + ": cannot read " + file + " (" + e.getClass().getSimpleName() + "); give a readable file holding the secret");
                return Optional.empty();
            }
        }
        return Optional.ofNullable(v).map(Secret::new);
    }

    private String required(Map<String, String> p, String k, String key, String what) {
        String v = blankToNull(p.get(key));
        if (v == null) {
            problems.add(k + key + ": missing; set it to " + what);
        }
        return v;
    }

    private <E extends Enum<E>> E enumValue(Map<String, String> p, String k, String key, Class<E> type, E dflt) {
        String v = blankToNull(p.get(key));
        if (v == null) {
            return dflt;
        }
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            problems.add(k + key + ": '" + v + "' is not one of " + Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
            return dflt;
        }
    }

    private URI uri(Map<String, String> p, String k, String key, String dflt, boolean httpsOnly) {
        String raw = p.getOrDefault(key, dflt);
        if (raw == null || raw.isBlank()) {
            problems.add(k + key + ": missing; give the provider's " + key.replace('-', ' ') + " (https)");
            return null;
        }
        String v = raw.trim();
        try {
            URI u = URI.create(v);
            boolean ok = "https".equals(u.getScheme()) || (!httpsOnly && "http".equals(u.getScheme()));
            if (!ok || u.getHost() == null) {
                problems.add(k + key + ": '" + v + "' must be an absolute " + (httpsOnly ? "https" : "http(s)") + " URL");
            }
            return u;
        } catch (IllegalArgumentException e) {
            problems.add(k + key + ": '" + v + "' is not a URL");
            return null;
        }
    }

    private ClusterConfig cluster(Map<String, String> global, StoreConfig store, Path dataDir) {
        String k = PREFIX + "cluster.";
        ClusterConfig.Service service = ClusterConfig.Service.NONE;
        String v = global.getOrDefault("cluster.service", "none").trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "none" -> service = ClusterConfig.Service.NONE;
            case "file" -> service = ClusterConfig.Service.FILE;
            case "zookeeper" -> service = ClusterConfig.Service.ZOOKEEPER;
            case "kubernetes" -> problems.add(k + "service: kubernetes (Leases) is not in this build yet; in"
                    + " Kubernetes use zookeeper, or one replica with none");
            default -> problems.add(k + "service: '" + v + "' is not one of none, file, zookeeper");
        }
        Optional<Path> root = Optional.ofNullable(blankToNull(global.get("cluster.file.root"))).map(r -> Path.of(r.trim()));
        if (service == ClusterConfig.Service.FILE && root.isEmpty()) {
            problems.add(k + "file.root: missing; give a directory every instance sees (one host, or a shared volume)");
        }
        Optional<String> nodes = Optional.ofNullable(blankToNull(global.get("cluster.zookeeper.nodes"))).map(String::trim);
        if (service == ClusterConfig.Service.ZOOKEEPER && nodes.isEmpty()) {
            problems.add(k + "zookeeper.nodes: missing; give the ensemble as host:port,host:port");
        }
        nodes.filter(n -> !n.matches("[A-Za-z0-9.\\[\\]:-]+:\\d+(,[A-Za-z0-9.\\[\\]:-]+:\\d+)*")).ifPresent(n ->
                problems.add(k + "zookeeper.nodes: '" + n + "' must be host:port[,host:port…], e.g. zk1:2181,zk2:2181"));
        if (service != ClusterConfig.Service.NONE && store.url().startsWith("jdbc:h2:")) {
            problems.add(k + "service: " + v + " needs the instances to share a PostgreSQL store; set"
                    + " mailintake.store.url=jdbc:postgresql://… (the embedded H2 store allows one process)");
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        String id = Optional.ofNullable(blankToNull(global.get("cluster.instance-id"))).map(String::trim)
                .orElse(host + ":" + dataDir.toAbsolutePath().normalize());
        return new ClusterConfig(service, root, nodes, id, duration(global, "cluster.claim-lease", "2m"));
    }

    /** A global duration key ({@code 30s}, {@code 5m}). */
    private Duration duration(Map<String, String> global, String key, String dflt) {
        String v = global.getOrDefault(key, dflt);
        try {
            Duration d = Units.duration(v);
            if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                problems.add(PREFIX + key + ": " + v + " is too short; give at least 1s");
            }
            return d;
        } catch (RuntimeException e) {
            problems.add(PREFIX + key + ": '" + v + "' is not a duration; use e.g. " + dflt);
            return Units.duration(dflt);
        }
    }

    private boolean bool(Map<String, String> p, String k, String key, boolean dflt) {
        String v = blankToNull(p.get(key));
        if (v == null) {
            return dflt;
        }
        if (!v.trim().equalsIgnoreCase("true") && !v.trim().equalsIgnoreCase("false")) {
            problems.add(k + key + ": '" + v + "' must be true or false");
            return dflt;
        }
        return Boolean.parseBoolean(v.trim());
    }

    private int integer(Map<String, String> p, String k, String key, int dflt, int min, int max, String why) {
        String v = blankToNull(p.get(key));
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                problems.add(k + key + ": " + n + " is out of range; use " + min + ".." + max + (why.isEmpty() ? "" : " (" + why + ")"));
                return dflt;
            }
            return n;
        } catch (NumberFormatException e) {
            problems.add(k + key + ": '" + v + "' is not a whole number");
            return dflt;
        }
    }

    private long size(Map<String, String> p, String k, String key, String dflt) {
        String v = p.getOrDefault(key, dflt);
        try {
            return Units.bytes(v);
        } catch (RuntimeException e) {
            problems.add(k + key + ": '" + v + "' is not a size; use e.g. 25MB");
            return Units.bytes(dflt);
        }
    }

    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    /**
     * The admin server binds exactly what is written: a dotted-quad IPv4 address, a bracketed IPv6 address or a name
     * this machine resolves. Short and numeric forms ({@code 127.1}, {@code 2130706433}, {@code 0x7f.1}) are refused:
     * Java would read them as addresses, Undertow does not.
     */
    static Optional<String> adminHostProblem(String host) {
        if (host.isEmpty()) {
            return Optional.of("empty; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface, with a password)");
        }
        if (host.matches("[0-9.]+") || host.matches("(?i)(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]+))*")) {
            if (IPV4.matcher(host).matches()) {
                return Optional.empty();
            }
            String hint = host.startsWith("127.") ? "127.0.0.1" : "all four parts in decimal, e.g. 127.0.0.1";
            return Optional.of("'" + host + "' is not a dotted-quad IPv4 address (short and numeric forms cannot be"
                    + " bound); use " + hint);
        }
        if (host.contains(":")) {
            String inner = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : null;
            if (inner == null || !inner.matches("[0-9a-fA-F:.]+") || !parsesAsAddress(inner)) {
                return Optional.of("'" + host + "' is not an IPv6 address in brackets; use the form of a URL, e.g. [::1]"
                        + " or [::]");
            }
            return Optional.empty();
        }
        if (!host.matches("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
            return Optional.of("'" + host + "' is neither an IP address nor a host name; use e.g. 127.0.0.1");
        }
        if (!parsesAsAddress(host)) {
            return Optional.of("'" + host + "' does not resolve on this machine; use an address such as 127.0.0.1"
                    + " (this machine only) or 0.0.0.0 (every interface, with a password), or a name it resolves");
        }
        return Optional.empty();
    }

    private static boolean parsesAsAddress(String host) {
        try {
            java.net.InetAddress.getByName(host);
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static boolean isLoopbackHost(String host) {
        return host != null && (host.equals("localhost") || host.startsWith("127.") || host.equals("::1")
                || host.equals("[::1]"));
    }

    private static List<String> list(String v) {
        if (v == null || v.isBlank()) {
            return List.of();
        }
        return Arrays.stream(v.split("[,\\s]+")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String blankToNull(String v) {
        return v == null || v.isBlank() ? null : v;
    }

    private static String suggestion(String key, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String candidate : known) {
            int d = distance(key, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
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

    /** Convenience for the bootstrap: resolves values with a lookup that may fail per key. */
    public static Map<String, String> resolveAll(Iterable<String> keys, Function<String, String> resolver,
                                                 List<String> problems) {
        Map<String, String> out = new TreeMap<>();
        for (String key : keys) {
            try {
                out.put(key, resolver.apply(key));
            } catch (RuntimeException e) {
                String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                problems.add(key + ": cannot resolve its value (" + msg + "); set the environment variable or property it refers to");
            }
        }
        return out;
    }
}

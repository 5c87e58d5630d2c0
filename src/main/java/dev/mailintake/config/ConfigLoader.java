package dev.mailintake.config;

import dev.mailintake.config.ConfigKey.Scope;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Turns the {@code mailintake.*} properties into a {@link MailIntakeConfig}, collecting every problem (by key, with
 * the fix) before failing, so a wrong configuration never half-starts the application. The keys, their defaults and
 * ranges are declared in {@link ConfigSchema} and read through {@link Settings}; what is here are the rules that
 * involve several keys or the world outside (files, hosts, components).
 */
public final class ConfigLoader {
    public static final String PREFIX = Scope.GLOBAL.prefix();
    static final String CONNECTIONS = PREFIX + "connections.";
    static final String MAILBOXES = PREFIX + "mailboxes.";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    /** Connection key family: {@code token-params.<form field name>}. */
    static final String TOKEN_PARAMS = "token-params.";
    private static final Pattern FORM_FIELD = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.~-]*");
    /** Form fields the application sets itself from other keys; a token-params.* entry may not replace them. */
    private static final Set<String> OWN_FORM_FIELDS = Set.of("grant_type", "client_id", "client_secret", "scope",
            "code", "redirect_uri", "code_verifier", "refresh_token", "client_assertion", "client_assertion_type");
    /** Exchange Online IMAP: app-only (client credentials) and delegated scopes (msal4j adds offline_access). */
    static final List<String> APP_IMAP_SCOPES = List.of("https://outlook.office365.com/.default");
    static final List<String> DELEGATED_IMAP_SCOPES = List.of("https://outlook.office.com/IMAP.AccessAsUser.All");
    /** Delegated Graph permissions (the resource prefix is added from graph-base-url). */
    static final List<String> DELEGATED_GRAPH_SCOPES = List.of("Mail.ReadWrite", "Mail.ReadWrite.Shared",
            "MailboxSettings.ReadWrite", "User.Read");

    private final Map<String, String> props;
    private final Predicate<String> componentExists;
    private final Predicate<String> directRouteExists;
    private final List<String> problems = new ArrayList<>();

    /** @param props the resolved {@code mailintake.*} properties (placeholders already substituted) */
    public ConfigLoader(Map<String, String> props) {
        this(props, scheme -> true);
    }

    /** @param componentExists whether a Camel component of that scheme is on the classpath (endpoint targets) */
    public ConfigLoader(Map<String, String> props, Predicate<String> componentExists) {
        this(props, componentExists, name -> true);
    }

    /** @param directRouteExists whether a route consumes {@code direct:<name>} (a user's delivery route) */
    public ConfigLoader(Map<String, String> props, Predicate<String> componentExists,
                        Predicate<String> directRouteExists) {
        this.props = new TreeMap<>(props);
        this.componentExists = componentExists;
        this.directRouteExists = directRouteExists;
    }

    /** Loads or throws a {@link ConfigurationException} listing every problem. */
    public MailIntakeConfig load() {
        Map<String, Map<String, String>> connectionProps = group(CONNECTIONS, Scope.CONNECTION);
        Map<String, Map<String, String>> mailboxProps = group(MAILBOXES, Scope.MAILBOX);
        Map<String, String> globalProps = new TreeMap<>();
        props.forEach((key, value) -> {
            String name = key.substring(PREFIX.length());
            if (key.startsWith(CONNECTIONS) || key.startsWith(MAILBOXES)) {
                return;
            } else if (ConfigSchema.find(Scope.GLOBAL, name).isPresent()) {
                globalProps.put(name, value);
            } else {
                problems.add(ConfigSchema.unknownGlobal(name));
            }
        });
        Settings global = new Settings(Scope.GLOBAL, PREFIX, globalProps, problems);
        Path dataDir = Path.of(global.text("data-dir"));
        StoreConfig store = new StoreConfig(global.optional("store.url").orElse("jdbc:h2:file:"
                + dataDir.toAbsolutePath().resolve("mail-intake") + ";DB_CLOSE_ON_EXIT=FALSE"),
                global.text("store.user"), global.secret("store.password"));
        global.integer("delivery.redeliveries");
        global.integer("delivery.redelivery-delay");
        AdminConfig admin = admin(global);
        RefreshConfig refresh = new RefreshConfig(global.cron("refresh.cron", global.text("refresh.cron"),
                "e.g. '5 * * * *' or '0 5 * * * ?' (five past every hour)").orElse(global.dflt("refresh.cron")),
                global.duration("refresh.window"), global.duration("refresh.retry-delay"));
        AlertsConfig alerts = new AlertsConfig(global.optional("alerts.endpoint"),
                global.duration("alerts.check-interval"), global.integer("alerts.stall-polls"));
        ClusterConfig cluster = cluster(global, store, dataDir);

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

    /** The settings of each connection or mailbox by name; undeclared settings and bad names are problems. */
    private Map<String, Map<String, String>> group(String prefix, Scope scope) {
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
                problems.add(e.getKey() + ": the " + scope.word() + " name '" + name
                        + "' must be lower-case letters, digits and '-', starting with a letter or digit");
            } else if (ConfigSchema.find(scope, key).isEmpty()) {
                problems.add(ConfigSchema.unknownSetting(scope, e.getKey(), key));
            } else {
                groups.computeIfAbsent(name, n -> new TreeMap<>()).put(key, e.getValue());
            }
        }
        return groups;
    }

    private AdminConfig admin(Settings global) {
        int port = global.integer("admin.port");
        String host = global.text("admin.host");
        adminHostProblem(host).ifPresent(p -> global.problem("admin.host", p));
        URI publicBase = global.url("admin.public-base-url", "http://localhost:" + port);
        if (publicBase != null && "http".equals(publicBase.getScheme()) && !isLoopbackHost(publicBase.getHost())) {
            global.problem("admin.public-base-url", publicBase + " must be https: Entra ID and most providers"
                    + " accept http redirect URIs only for localhost");
        }
        Optional<Secret> password = global.secret("admin.password");
        if (!isLoopbackHost(host) && password.isEmpty()) {
            global.problem("admin.password", "the admin server listens on " + host + ", beyond this machine;"
                    + " set a password (mailintake.admin.password={{env:MAILINTAKE_ADMIN_PASSWORD}}) or keep"
                    + " mailintake.admin.host=127.0.0.1 behind a reverse proxy");
        }
        return new AdminConfig(host, port, publicBase, password);
    }

    private ClusterConfig cluster(Settings global, StoreConfig store, Path dataDir) {
        ClusterConfig.Service service = global.choice("cluster.service", ClusterConfig.Service.class);
        Optional<Path> root = global.path("cluster.file.root");
        if (service == ClusterConfig.Service.FILE && root.isEmpty()) {
            global.problem("cluster.file.root", "missing; give a directory every instance sees (one host, or a shared"
                    + " volume)");
        }
        Optional<String> nodes = global.optional("cluster.zookeeper.nodes");
        if (service == ClusterConfig.Service.ZOOKEEPER && nodes.isEmpty()) {
            global.problem("cluster.zookeeper.nodes", "missing; give the ensemble as host:port,host:port");
        }
        nodes.filter(n -> !n.matches("[A-Za-z0-9.\\[\\]:-]+:\\d+(,[A-Za-z0-9.\\[\\]:-]+:\\d+)*")).ifPresent(n ->
                global.problem("cluster.zookeeper.nodes", "'" + n + "' must be host:port[,host:port…], e.g."
                        + " zk1:2181,zk2:2181"));
        if (service != ClusterConfig.Service.NONE && store.url().startsWith("jdbc:h2:")) {
            global.problem("cluster.service", service.name().toLowerCase(Locale.ROOT) + " needs the instances to"
                    + " share a PostgreSQL store; set mailintake.store.url=jdbc:postgresql://… (the embedded H2 store"
                    + " allows one process)");
        }
        Optional<ClusterConfig.Kubernetes> kubernetes = service == ClusterConfig.Service.KUBERNETES
                ? Optional.of(kubernetes(global)) : Optional.empty();
        String id = global.optional("cluster.instance-id").orElseGet(() -> kubernetes
                .map(ClusterConfig.Kubernetes::podName)
                .orElseGet(() -> localHostName() + ":" + dataDir.toAbsolutePath().normalize()));
        return new ClusterConfig(service, root, nodes, kubernetes, id, global.duration("cluster.claim-lease"));
    }

    /** The service account's namespace file of every pod (unless automountServiceAccountToken is false). */
    static final Path POD_NAMESPACE_FILE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
    /** A DNS-1123 label (namespace) and subdomain (pod name). */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    /** A label's name (optionally {@code prefix/}) and value. */
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

    private ClusterConfig.Kubernetes kubernetes(Settings global) {
        String namespace = global.optional("cluster.kubernetes.namespace").orElseGet(() -> {
            try {
                return Files.readString(POD_NAMESPACE_FILE, StandardCharsets.UTF_8).trim();
            } catch (java.io.IOException | RuntimeException e) {
                global.problem("cluster.kubernetes.namespace", "missing, and " + POD_NAMESPACE_FILE + " cannot be read"
                        + " (not in a pod, or automountServiceAccountToken: false); give the pods' namespace, e.g. from"
                        + " the downward API (fieldRef metadata.namespace into MAILINTAKE_CLUSTER_KUBERNETES_NAMESPACE)");
                return "default";
            }
        });
        if (!DNS_LABEL.matcher(namespace).matches()) {
            global.problem("cluster.kubernetes.namespace", "'" + namespace + "' is not a Kubernetes namespace name"
                    + " (lower-case letters, digits and '-', at most 63)");
        }
        String podName = global.optional("cluster.kubernetes.pod-name")
                .or(() -> Optional.ofNullable(System.getenv("POD_NAME")).filter(v -> !v.isBlank()))
                .or(() -> Optional.ofNullable(System.getenv("HOSTNAME")).filter(v -> !v.isBlank()))
                .map(String::trim).orElse("");
        if (podName.isEmpty()) {
            global.problem("cluster.kubernetes.pod-name", "missing, and neither POD_NAME nor HOSTNAME is set; give this"
                    + " pod's name (the downward API's fieldRef metadata.name into POD_NAME)");
        } else if (!DNS_SUBDOMAIN.matcher(podName).matches()) {
            global.problem("cluster.kubernetes.pod-name", "'" + podName + "' is not a pod name (lower-case letters,"
                    + " digits, '-' and '.')");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        for (String pair : global.text("cluster.kubernetes.labels").split(",")) {
            String p = pair.trim();
            int eq = p.indexOf('=');
            String name = eq < 0 ? p : p.substring(0, eq).trim();
            String value = eq < 0 ? "" : p.substring(eq + 1).trim();
            int slash = name.lastIndexOf('/');
            boolean nameOk = LABEL_NAME.matcher(name.substring(slash + 1)).matches()
                    && (slash < 0 || DNS_SUBDOMAIN.matcher(name.substring(0, slash)).matches());
            if (eq < 0 || !nameOk || !LABEL_VALUE.matcher(value).matches()) {
                global.problem("cluster.kubernetes.labels", "'" + p + "' is not a label name=value; give the pods'"
                        + " labels as name=value[,name=value…], e.g. app.kubernetes.io/name=mail-intake");
            } else {
                labels.put(name, value);
            }
        }
        Optional<URI> masterUrl = global.optional("cluster.kubernetes.master-url")
                .map(v -> global.url("cluster.kubernetes.master-url", v));
        Duration lease = global.duration("cluster.kubernetes.lease-duration");
        Duration renew = global.duration("cluster.kubernetes.renew-deadline");
        Duration retry = global.duration("cluster.kubernetes.retry-period");
        if (lease.compareTo(renew) <= 0) {
            global.problem("cluster.kubernetes.lease-duration", Units.format(lease) + " must be longer than"
                    + " cluster.kubernetes.renew-deadline (" + Units.format(renew) + "): a new holder must wait until"
                    + " the old one has stopped");
        }
        if (renew.toMillis() <= ClusterConfig.Kubernetes.JITTER * retry.toMillis()) {
            global.problem("cluster.kubernetes.renew-deadline", Units.format(renew) + " must be longer than 1.2 ×"
                    + " cluster.kubernetes.retry-period (" + Units.format(retry) + "): a holder renews once per retry"
                    + " period (with up to 20 % jitter)");
        }
        return new ClusterConfig.Kubernetes(namespace, podName, Map.copyOf(labels), masterUrl, lease, renew, retry);
    }

    private static String localHostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    /** @param protocols how the mailboxes using this connection are read (decides the default scopes) */
    private Optional<ConnectionConfig> connection(String name, Map<String, String> values, Set<Protocol> protocols) {
        Settings p = new Settings(Scope.CONNECTION, CONNECTIONS + name + ".", values, problems);
        int before = problems.size();
        Provider provider = p.choice("provider", Provider.class);
        Flow flow = p.choice("flow", Flow.class);
        String tenant = provider == Provider.GENERIC ? p.optional("tenant-id").orElse("")
                : required(p, "tenant-id", "the Directory (tenant) ID of the app registration, or a tenant domain");
        String clientId = required(p, "client-id", "the Application (client) ID of the app registration");
        Optional<Secret> secret = clientSecret(p);
        Optional<Path> certificate = p.readableFile("client-certificate", "give the path of a PKCS#12 (.p12/.pfx)"
                + " file, or a PEM file with the certificate and its PKCS#8 key");
        Optional<Path> certificateKey = p.readableFile("client-certificate-key",
                "give the PEM file with the PKCS#8 private key");
        if (certificateKey.isPresent() && certificate.isEmpty()) {
            p.problem("client-certificate-key", "given without client-certificate; give the certificate (PEM) too");
        }
        ConnectionConfig.GenericOAuth generic = ConnectionConfig.GenericOAuth.none();
        Map<String, Secret> tokenParams = tokenParams(p, provider);
        if (provider == Provider.GENERIC) {
            if (flow == Flow.DEVICE_CODE) {
                p.problem("flow", "generic OAuth2 providers support flow=delegated (an administrator signs in in the"
                        + " browser) or flow=client-credentials (app tokens); device-code is for provider=microsoft");
            }
            if (certificate.isPresent()) {
                p.problem("client-certificate", "generic OAuth2 providers take a client-secret");
            }
            if (p.optional("scopes").isEmpty()) {
                p.problem("scopes", "generic OAuth2 providers need their scopes, e.g. https://mail.google.com/ for"
                        + " Gmail IMAP");
            }
            String auth = p.text("client-auth");
            if (!auth.equals("post") && !auth.equals("basic")) {
                p.problem("client-auth", "'" + auth + "' must be post (client_secret in the form) or basic (HTTP"
                        + " Basic)");
            }
            boolean signsIn = flow == Flow.DELEGATED || p.has("authorize-url");
            generic = new ConnectionConfig.GenericOAuth(
                    Optional.ofNullable(signsIn ? providerUrl(p, "authorize-url") : null),
                    Optional.ofNullable(providerUrl(p, "token-url")), p.raw("scope-separator").orElse(" "),
                    auth.equals("basic"), p.text("authorize-params"), tokenParams);
        }
        if (flow == Flow.DEVICE_CODE && (secret.isPresent() || certificate.isPresent())) {
            p.problem("flow", "device-code connections are public clients: remove client-secret and"
                    + " client-certificate (and allow public client flows in the app registration)");
        }
        if (flow != Flow.DEVICE_CODE && secret.isEmpty() && certificate.isEmpty()) {
            p.problem("client-secret", "connections need a client secret (client-secret={{env:VAR}} or"
                    + " client-secret-file=<path>) or client-certificate=<file.p12>");
        }
        if (secret.isPresent() && certificate.isPresent()) {
            p.problem("client-certificate", "give either client-secret or client-certificate, not both");
        }
        URI authorityHost = p.url("authority-host");
        URI graph = p.url("graph-base-url");
        List<String> scopes = p.list("scopes");
        if (scopes.isEmpty() && protocols.contains(Protocol.IMAP)) {
            if (protocols.contains(Protocol.GRAPH)) {
                p.problem("scopes", "connection '" + name + "' serves both graph and imap mailboxes, but a token"
                        + " is issued for one resource (Graph or Exchange IMAP); define a second connection with the"
                        + " same app registration for the imap mailboxes");
            }
            scopes = flow == Flow.CLIENT_CREDENTIALS ? APP_IMAP_SCOPES : DELEGATED_IMAP_SCOPES;
        } else if (scopes.isEmpty() && graph != null) {
            String resource = graph.getScheme() + "://" + graph.getRawAuthority();
            scopes = flow == Flow.CLIENT_CREDENTIALS ? List.of(resource + "/.default")
                    : DELEGATED_GRAPH_SCOPES.stream().map(s -> resource + "/" + s).toList();
        }
        Optional<Path> trustStore = p.readableFile("trust-store", "give a PKCS#12 trust store with the authority's CA"
                + " certificate, or remove the key");
        Optional<LocalDate> secretExpires = p.optional("client-secret-expires").flatMap(expires -> {
            if (secret.isEmpty()) {
                p.problem("client-secret-expires", "only with a client-secret (a certificate's expiry is read from"
                        + " the certificate)");
            }
            try {
                return Optional.of(LocalDate.parse(expires));
            } catch (java.time.format.DateTimeParseException e) {
                p.problem("client-secret-expires", "'" + expires + "' is not a date; give the secret's expiry as"
                        + " shown in the app registration, e.g. 2027-06-30");
                return Optional.empty();
            }
        });
        boolean discovery = p.bool("instance-discovery");
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new ConnectionConfig(name, provider, flow, tenant, clientId, secret, certificate,
                certificateKey, p.secret("client-certificate-password"), authorityHost, graph, scopes, discovery,
                trustStore, p.secret("trust-store-password"), generic, secretExpires));
    }

    /** {@code client-secret} or {@code client-secret-file}, not both. */
    private Optional<Secret> clientSecret(Settings p) {
        Optional<Secret> value = p.secret("client-secret");
        Optional<Path> file = p.path("client-secret-file");
        if (value.isPresent() && file.isPresent()) {
            p.problem("client-secret-file", "give either client-secret or client-secret-file, not both");
            return Optional.empty();
        }
        if (file.isEmpty()) {
            return value;
        }
        try {
            String content = Files.readString(file.get(), StandardCharsets.UTF_8).strip();
            if (content.isEmpty()) {
                p.problem("client-secret-file", "file " + file.get() + " is empty; put the secret value in it");
                return Optional.empty();
            }
            return Optional.of(new Secret(content));
        } catch (Exception e) {
            p.problem("client-secret-file", "cannot read " + file.get() + " (" + e.getClass().getSimpleName()
                    + "); give a readable file holding the secret");
            return Optional.empty();
        }
    }

    /** {@code token-params.<name> = <value>}: extra form fields of a generic provider's token requests. */
    private Map<String, Secret> tokenParams(Settings p, Provider provider) {
        Map<String, Secret> params = new TreeMap<>();
        p.secrets(TOKEN_PARAMS + "<name>").forEach((name, value) -> {
            String key = TOKEN_PARAMS + name;
            if (provider != Provider.GENERIC) {
                p.problem(key, "token-params are for provider=generic connections; msal4j builds Microsoft's token"
                        + " requests");
            } else if (!FORM_FIELD.matcher(name).matches()) {
                p.problem(key, "'" + name + "' is not a form field name; use letters, digits, '_', '-', '.' or '~',"
                        + " e.g. " + p.prefix() + TOKEN_PARAMS + "username");
            } else if (OWN_FORM_FIELDS.contains(name)) {
                p.problem(key, name + " is set by the application (from client-id, client-secret, scopes and flow);"
                        + " remove " + key);
            } else if (value.value().isBlank()) {
                p.problem(key, "empty; give the value (a secret one as {{env:VAR}}) or remove the key");
            } else {
                params.put(name, new Secret(value.value().trim()));
            }
        });
        return params;
    }

    /** A generic provider's endpoint: https, or http on a loopback host (a test server, a sidecar). */
    private URI providerUrl(Settings p, String key) {
        Optional<String> v = p.optional(key);
        if (v.isEmpty()) {
            p.problem(key, "missing; give the provider's " + key.replace('-', ' ') + " (https)");
            return null;
        }
        URI u;
        try {
            u = URI.create(v.get());
        } catch (IllegalArgumentException e) {
            p.problem(key, "'" + v.get() + "' is not a URL");
            return null;
        }
        if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()))) {
            p.problem(key, "'" + v.get() + "' must be an absolute https URL");
        } else if ("http".equals(u.getScheme()) && !isLoopbackHost(u.getHost())) {
            p.problem(key, "'" + v.get() + "' must be https; http is allowed only for a loopback host"
                    + " (localhost, 127.*, ::1), e.g. a test server or a sidecar on this machine");
        }
        return u;
    }

    private Optional<MailboxConfig> mailbox(String name, Map<String, String> values, Path dataDir,
                                            Set<String> connectionNames) {
        Settings p = new Settings(Scope.MAILBOX, MAILBOXES + name + ".", values, problems);
        int before = problems.size();
        String connection = required(p, "connection", "the name of a connection (mailintake.connections.<name>.*)");
        if (connection != null && !connectionNames.contains(connection)) {
            p.problem("connection", "no connection named '" + connection + "'; define mailintake.connections."
                    + connection + ".* or use one of " + connectionNames);
        }
        Protocol protocol = p.choice("protocol", Protocol.class);
        String address = required(p, "address", "the mailbox address, e.g. invoices@contoso.com (user or shared"
                + " mailbox)");
        if (address != null && !address.contains("@")) {
            p.problem("address", "'" + address + "' is not a mailbox address; give e.g. invoices@contoso.com");
        }
        boolean imapBox = protocol == Protocol.IMAP;
        Optional<ImapServer> imap = imapBox ? Optional.of(imapServer(p, address)) : Optional.empty();
        if (!imapBox) {
            values.keySet().stream().filter(key -> key.startsWith("imap.")).sorted().forEach(key -> p.problem(key,
                    "only for protocol=imap mailboxes; remove it or set " + p.prefix() + "protocol=imap"));
        }
        Folders folders = new Folders(folder(p, "folders.inbox"), folder(p, "folders.processed"),
                folder(p, "folders.error"));
        if (folders.inbox().equalsIgnoreCase(folders.processed()) || folders.inbox().equalsIgnoreCase(folders.error())
                || folders.processed().equalsIgnoreCase(folders.error())) {
            p.problem("folders", "inbox, processed and error must be three different folders (now "
                    + folders.inbox() + ", " + folders.processed() + ", " + folders.error() + ")");
        }
        if (imapBox) {
            for (String key : List.of("folders.inbox", "folders.processed", "folders.error")) {
                String v = p.optional(key).orElse("");
                if (v.startsWith("id:")) {
                    p.problem(key, "IMAP folders have no ids; give a path (INBOX/Processed) or a folder name");
                } else if (v.startsWith(Folders.WELL_KNOWN_PREFIX) && !v.equalsIgnoreCase(Folders.WELL_KNOWN_PREFIX + "inbox")
                        && Folders.WELL_KNOWN.contains(v.substring(Folders.WELL_KNOWN_PREFIX.length()).toLowerCase(Locale.ROOT))) {
                    p.problem(key, "IMAP's only well-known folder is well-known:inbox; give a path from the root (/"
                            + v.substring(Folders.WELL_KNOWN_PREFIX.length()) + ") or a folder name");
                }
            }
        }
        Rules rules = new Rules(p.bool("rules.require-attachment"), p.list("rules.allowed-attachment-types").stream()
                .map(s -> s.toLowerCase(Locale.ROOT)).toList(), p.size("rules.max-size"));
        Target target = target(p, dataDir.resolve("out").resolve(name));
        Poll poll = poll(p);
        int concurrency = imapBox ? p.integer("concurrency", "IMAP connections per mailbox during a poll; servers"
                + " limit connections per account") : p.integer("concurrency");
        int maxPerPoll = p.integer("max-messages-per-poll");
        int pageSize = imapBox ? p.integer("page-size", "messages per UID FETCH of envelopes") : p.integer("page-size");
        if (imapBox && p.has("request-budget")) {
            p.problem("request-budget", "only for protocol=graph mailboxes (Graph's request limit); remove it");
        }
        RequestBudget budget = budget(p);
        int attempts = p.integer("max-delivery-attempts");
        boolean enabled = p.bool("enabled");
        boolean createFolders = p.bool("create-folders");
        if (problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new MailboxConfig(name, connection, protocol, address, folders, createFolders, rules,
                target, poll, concurrency, maxPerPoll, pageSize, budget, attempts, enabled, imap));
    }

    private ImapServer imapServer(Settings p, String address) {
        String host = p.text("imap.host");
        if (host.isEmpty() || !host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
            p.problem("imap.host", "'" + host + "' is not a host name; give e.g. outlook.office365.com or imap.gmail.com");
        }
        ImapServer.Security security = p.choice("imap.security", ImapServer.Security.class);
        if (security == ImapServer.Security.NONE && !isLoopbackHost(host)) {
            p.problem("imap.security", "none would send the access token in the clear to " + host
                    + "; use ssl (port 993) or starttls (port 143); none is only for a server on this machine");
        }
        int port = p.integer("imap.port", security == ImapServer.Security.SSL ? 993 : 143, "");
        String user = p.optional("imap.user").orElse(address == null ? "" : address);
        Duration timeout = p.duration("imap.timeout");
        int fetchSize = (int) p.size("imap.fetch-size");
        int batchSize = p.integer("imap.batch-size");
        Optional<Path> trustStore = p.readableFile("imap.trust-store", "give a PKCS#12 trust store with the IMAP"
                + " server's CA certificate, or remove the key to use the JVM's trusted CAs");
        return new ImapServer(host, port, security, user, timeout, fetchSize, batchSize, trustStore,
                p.secret("imap.trust-store-password"));
    }

    private String folder(Settings p, String key) {
        String v = p.text(key);
        // a leading '/' is the path from the root (/Archive); no empty segment anywhere
        if (v.isEmpty() || v.endsWith("/") || v.contains("//")) {
            p.problem(key, "'" + v + "' is not a folder; give a well-known name (inbox, well-known:archive),"
                    + " a path (Inbox/Scans), a path from the root (/Archive), an id (id:AAMk...) or a folder name");
        } else if (v.startsWith(Folders.WELL_KNOWN_PREFIX)
                && !Folders.WELL_KNOWN.contains(v.substring(Folders.WELL_KNOWN_PREFIX.length()).toLowerCase(Locale.ROOT))) {
            p.problem(key, "'" + v.substring(Folders.WELL_KNOWN_PREFIX.length()) + "' is not a well-known"
                    + " folder name; give one of " + new TreeSet<>(Folders.WELL_KNOWN));
        }
        return v;
    }

    private Target target(Settings p, Path dflt) {
        Optional<String> value = p.optional("target");
        if (value.isEmpty()) {
            return Target.folder(dflt);
        }
        String v = value.get();
        if (v.startsWith("folder:")) {
            String path = v.substring("folder:".length());
            if (path.isBlank()) {
                p.problem("target", "folder: needs a path, e.g. folder:data/out/invoices");
            }
            return Target.folder(Path.of(path));
        }
        if (!v.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.+")) {
            p.problem("target", "'" + v + "' is neither folder:<path> nor a Camel endpoint URI (scheme:...)");
        } else {
            String scheme = v.substring(0, v.indexOf(':'));
            if (!componentExists.test(scheme)) {
                p.problem("target", "no Camel component '" + scheme + "' in this build; add its jar (e.g."
                        + " org.apache.camel:camel-" + scheme + ") to lib/ (docs/routes.md) or use another target");
            } else if (scheme.equals("direct") && !directRouteExists.test(directName(v))) {
                p.problem("target", "no route consumes " + v + "; add a route file with 'from: uri: direct:"
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

    private Poll poll(Settings p) {
        String v = p.text("poll");
        if (Crons.looksLikeCron(v)) {
            Optional<String> cron = p.cron("poll", v, "e.g. poll=0 9 * * 1-5 (09:00 Monday to Friday) or"
                    + " poll=*/15 * * * *");
            return new Poll(cron.isPresent() ? Duration.ZERO : Duration.ofMinutes(1), cron);
        }
        try {
            Duration d = Units.duration(v);
            if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                p.problem("poll", v + " is too short; poll at most once a second (e.g. poll=30s)");
            }
            return new Poll(d, Optional.empty());
        } catch (RuntimeException e) {
            p.problem("poll", "'" + v + "' is neither a duration (30s, 5m) nor a cron (5 fields '5 * * * *' or"
                    + " Quartz '0 5 * * * ?')");
            return new Poll(Duration.ofMinutes(1), Optional.empty());
        }
    }

    /** {@code <requests>/<window>}. */
    private RequestBudget budget(Settings p) {
        String v = p.text("request-budget");
        try {
            return budget(v);
        } catch (RuntimeException e) {
            p.problem("request-budget", "'" + v + "' must be <requests>/<window>, e.g. 9000/10m (Microsoft's limit"
                    + " is 10000/10m per app and mailbox)");
            return budget(p.dflt("request-budget"));
        }
    }

    private static RequestBudget budget(String v) {
        String[] parts = v.split("/");
        int n = Integer.parseInt(parts[0].trim());
        Duration w = Units.duration(parts[1]);
        if (n < 1 || w.isZero() || w.isNegative()) {
            throw new IllegalArgumentException(v);
        }
        return new RequestBudget(n, w);
    }

    private String required(Settings p, String key, String what) {
        Optional<String> v = p.optional(key);
        if (v.isEmpty()) {
            p.problem(key, "missing; set it to " + what);
        }
        return v.orElse(null);
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

package dev.mailintake;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.auth.ClientCredentialsTokenSource;
import dev.mailintake.auth.Credential;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.DelegatedTokenSource;
import dev.mailintake.auth.GenericClientCredentialsTokenSource;
import dev.mailintake.auth.GenericOAuthTokenSource;
import dev.mailintake.auth.RefreshPolicy;
import dev.mailintake.auth.TokenRefresher;
import dev.mailintake.auth.TokenService;
import dev.mailintake.auth.TokenSource;
import dev.mailintake.check.CheckEndpoint;
import dev.mailintake.check.Preflight;
import dev.mailintake.config.ConfigLoader;
import dev.mailintake.config.ConfigurationException;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Flow;
import dev.mailintake.config.Protocol;
import dev.mailintake.config.Provider;
import dev.mailintake.config.RefreshConfig;
import dev.mailintake.config.Secret;
import dev.mailintake.config.MailIntakeConfig;
import dev.mailintake.config.MailboxConfig;
import dev.mailintake.graph.GraphClient;
import dev.mailintake.graph.GraphMailbox;
import dev.mailintake.graph.RequestGate;
import dev.mailintake.imap.ImapMailbox;
import dev.mailintake.intake.EndpointTarget;
import dev.mailintake.intake.FolderTarget;
import dev.mailintake.intake.Mailbox;
import dev.mailintake.intake.MailboxGateway;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.intake.MessageIntake;
import dev.mailintake.intake.MessageMetadata;
import dev.mailintake.intake.MessageTarget;
import dev.mailintake.intake.MimeInspector;
import dev.mailintake.intake.RuleChecker;
import dev.mailintake.intake.SweptLeftovers;
import dev.mailintake.ops.AlertWatcher;
import dev.mailintake.ops.Cluster;
import dev.mailintake.ops.ConnectionHealthCheck;
import dev.mailintake.ops.HealthEndpoint;
import dev.mailintake.ops.MailIntakeMetrics;
import dev.mailintake.ops.MailboxHealthCheck;
import dev.mailintake.ops.StoreHealthCheck;
import dev.mailintake.store.Claims;
import dev.mailintake.store.GrantStore;
import dev.mailintake.store.Instances;
import dev.mailintake.store.Ledger;
import dev.mailintake.store.OAuthStates;
import dev.mailintake.store.SecretBox;
import dev.mailintake.web.AdminAccess;
import dev.mailintake.web.AdminErrors;
import dev.mailintake.web.AdminHttpBinding;
import dev.mailintake.web.AdminOrigins;
import dev.mailintake.web.AuthorizationFlow;
import dev.mailintake.web.StatusPage;
import dev.mailintake.store.Store;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.ThreadPoolProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the application after Camel Main has loaded the properties and the YAML routes: validates the
 * configuration (all problems at once), builds the beans, binds them, and instantiates one import route per mailbox.
 */
public final class MailIntakeBootstrap extends MainListenerSupport {
    private static final Logger LOG = LoggerFactory.getLogger(MailIntakeBootstrap.class);
    private static final Duration TOKEN_MARGIN = Duration.ofMinutes(5);
    /** The registry name of the scheduled executor all mailboxes' scheduler consumers share. */
    static final String POLL_SCHEDULER = "mailboxPolls";

    private final Clock clock;
    private final RequestGate.Sleeper sleeper;
    private final GraphClient.RetryPolicy retryPolicy;
    private Store store;
    private Cluster cluster;
    private Mailboxes mailboxes;

    public MailIntakeBootstrap(Clock clock, RequestGate.Sleeper sleeper, GraphClient.RetryPolicy retryPolicy) {
        this.clock = clock;
        this.sleeper = sleeper;
        this.retryPolicy = retryPolicy;
    }

    @Override
    public void afterConfigure(BaseMainSupport main) {
        CamelContext camel = main.getCamelContext();
        MailIntakeConfig config = loadConfig(camel, main.getOverrideProperties());
        ObjectMapper json = new ObjectMapper();

        store = new Store(config.store());
        try {
            configure(camel, config, json);
        } catch (RuntimeException | Error e) {
            // whatever fails after the store opened must not leave it open (an H2 file stays locked)
            close();
            throw e;
        }
    }

    /** Everything after the store is open: beans, bindings, routes. */
    private void configure(CamelContext camel, MailIntakeConfig config, ObjectMapper json) {
        Ledger ledger = new Ledger(store, clock);
        cluster = new Cluster(config.cluster(), new Instances(store.dataSource(), clock));
        cluster.join(camel);
        camel.addLifecycleStrategy(new org.apache.camel.support.LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                beforeRoutesStart(context);
            }
        });
        camel.getRegistry().bind("cluster", cluster);
        List<String> problems = new ArrayList<>();
        SecretBox box;
        try {
            box = SecretBox.load(System.getenv(SecretBox.ENV), config.dataDir().resolve("store.key"));
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            box = null;
        }
        GrantStore grants = box == null ? null : new GrantStore(store, box, clock);
        Map<String, TokenSource> sources = new LinkedHashMap<>();
        Map<String, DelegatedGrant> delegated = new LinkedHashMap<>();
        config.connections().forEach((name, c) -> {
            try {
                if (c.flow() == Flow.DELEGATED || c.flow() == Flow.DEVICE_CODE) {
                    DelegatedGrant source = c.provider() == Provider.GENERIC
                            ? new GenericOAuthTokenSource(c, grants, clock) : new DelegatedTokenSource(c, grants,
                            config.admin().redirectUri());
                    delegated.put(name, source);
                    sources.put(name, source);
                } else if (c.provider() == Provider.GENERIC) {
                    sources.put(name, new GenericClientCredentialsTokenSource(c, clock));
                } else {
                    sources.put(name, new ClientCredentialsTokenSource(c));
                }
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        });
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        TokenService tokens = new TokenService(sources, clock, TOKEN_MARGIN);

        // Graph retries belong to GraphClient (per-mailbox gate and budget); HttpClient's own silent retries of
        // 429/503 would bypass them
        for (String scheme : List.of("http", "https")) {
            camel.getComponent(scheme, HttpComponent.class).setAutomaticRetriesDisabled(true);
        }
        Mailboxes mailboxes = mailboxes(camel, config, tokens, json);
        this.mailboxes = mailboxes;
        MessageIntake intake = new MessageIntake(mailboxes, ledger, new MimeInspector(), new RuleChecker(),
                new MessageMetadata(clock), camel, clock, cluster.clustered()
                ? Claims.jdbc(store.dataSource(), cluster.instanceId(), config.cluster().claimLease(), clock)
                : Claims.NONE);

        camel.getRegistry().bind("messageIntake", intake);
        camel.getRegistry().bind("mailboxes", mailboxes);
        camel.getRegistry().bind("ledger", ledger);
        // steps for the user's delivery routes (docs/routes.md)
        camel.getRegistry().bind("folderWriter", new dev.mailintake.intake.FolderWriter(json));
        Path attachmentsTemp = config.dataDir().resolve("tmp").resolve("attachments");
        dev.mailintake.intake.AttachmentSplitter splitter = new dev.mailintake.intake.AttachmentSplitter(
                new MimeInspector(), attachmentsTemp);
        try {
            splitter.sweepLeftovers();
        } catch (IOException e) {
            LOG.warn("cannot remove leftovers in {}: {}", attachmentsTemp, e.getMessage());
        }
        camel.getRegistry().bind("attachments", splitter);
        camel.getRegistry().bind("multipart", new dev.mailintake.intake.MultipartForm());
        camel.getRegistry().bind("tokenService", tokens);
        camel.getRegistry().bind("delegatedConnections", Map.copyOf(delegated));
        TokenRefresher refresher = new TokenRefresher(delegated, tokens, RefreshPolicy.of(config.refresh().window()),
                clock, config.refresh().retryDelay(), 4,
                camel.getExecutorServiceManager().newSingleThreadExecutor(this, "refresh-tokens"));
        camel.getRegistry().bind("tokenRefresher", refresher);
        AdminOrigins origins = new AdminOrigins(config.admin(), providerOrigins(config));
        AdminAccess access = new AdminAccess(config.admin().password().map(Secret::value), origins);
        camel.getRegistry().bind("adminHttpBinding", new AdminHttpBinding());
        camel.getRegistry().bind("adminAccess", access);
        camel.getRegistry().bind("adminErrors", new AdminErrors());
        camel.getRegistry().bind("authorizationFlow", new AuthorizationFlow(delegated,
                new OAuthStates(store.dataSource(), box, clock), config.admin(), tokens, access, origins));
        Map<String, Credential> credentials = new LinkedHashMap<>();
        config.connections().values().forEach(c -> credentials.put(c.name(), Credential.of(c)));
        camel.getRegistry().bind("statusPage", new StatusPage(config, mailboxes, delegated, tokens, refresher, access,
                origins, new StatusPage.Extras(credentials, cluster, clock)));
        addRefreshRoute(camel, config.refresh());
        logSignInHints(delegated.values(), config);
        credentials.values().forEach(c -> c.warning(clock).ifPresent(w -> LOG.warn("connection '{}': {}",
                c.connection(), w)));
        String publicBase = config.admin().publicBaseUrl().toString();
        Preflight preflight = new Preflight(config, mailboxes, tokens, delegated);
        camel.getRegistry().bind("preflight", preflight);
        camel.getRegistry().bind("alertWatcher", new AlertWatcher(mailboxes, delegated, credentials, tokens,
                config.alerts().stallPolls(), config.alerts().endpoint(), publicBase.endsWith("/") ? publicBase : publicBase + "/", clock, cluster));

        HealthCheckRegistry health = HealthCheckRegistry.get(camel);
        if (health != null) {
            health.register(new StoreHealthCheck(store.dataSource()));
            mailboxes.all().forEach(mb -> health.register(new MailboxHealthCheck(mb.status(), cluster)));
            config.connections().keySet().forEach(c -> health.register(
                    new ConnectionHealthCheck(c, java.util.Optional.ofNullable(delegated.get(c)), tokens,
                            credentials.get(c), clock)));
        }
        try {
            camel.addStartupListener(new HealthEndpoint("/observe/health"));
            camel.addStartupListener(new CheckEndpoint(preflight));
            camel.addStartupListener(new MailIntakeMetrics(mailboxes, config.connections().keySet(),
                    delegated.values(), tokens, credentials.values(), clock, cluster));
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the metrics", e);
        }
        addImportRoutes(camel, mailboxes);
        if (mailboxes.all().isEmpty()) {
            LOG.info("No mailbox configured yet. Add a connection and a mailbox to application.properties, e.g.\n"
                    + "  mailintake.connections.contoso.tenant-id=<tenant id>\n"
                    + "  mailintake.connections.contoso.client-id=<application id>\n"
                    + "  mailintake.connections.contoso.client-secret={{env:CONTOSO_CLIENT_SECRET}}\n"
                    + "  mailintake.mailboxes.invoices.connection=contoso\n"
                    + "  mailintake.mailboxes.invoices.address=invoices@contoso.com\n"
                    + "and restart (README.md, section Configuration).");
        }
    }

    /** One mailbox per configured mailbox: its protocol gateway (Graph behind its request gate, or IMAP), target, status. */
    private Mailboxes mailboxes(CamelContext camel, MailIntakeConfig config, TokenService tokens, ObjectMapper json) {
        List<Mailbox> list = new ArrayList<>();
        for (MailboxConfig mc : config.mailboxes().values()) {
            ConnectionConfig cc = config.connectionOf(mc);
            MailboxTokens mailboxTokens = new MailboxTokens(mc.name(), cc.name(), tokens);
            MailboxGateway gateway;
            try {
                gateway = mc.protocol() == Protocol.IMAP ? new ImapMailbox(mc, mailboxTokens)
                        : graphMailbox(camel, mc, cc, mailboxTokens, json);
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(List.of("mailintake.mailboxes." + mc.name() + ": " + e.getMessage()));
            }
            MessageTarget target = mc.target().folder().<MessageTarget>map(p -> new FolderTarget(p, json))
                    .orElseGet(() -> new EndpointTarget(mc.target().endpointUri().orElseThrow(),
                            config.dataDir().resolve("spool").resolve(mc.name()), camel.createProducerTemplate(), json));
            list.add(new Mailbox(mc, gateway, target, new MailboxStatus(mc.name(), mc.enabled()), "import-" + mc.name()));
        }
        return new Mailboxes(list);
    }

    /**
     * When the Camel context starts, before any route (not for {@code check} or {@code authorize}, which only configure
     * the application and may run beside a running instance): this instance joins the store's instances, and what
     * interrupted imports left in the targets' spools is removed.
     */
    private void beforeRoutesStart(CamelContext camel) {
        if (cluster != null) {
            cluster.start(camel);
        }
        if (mailboxes != null) {
            // clustered, targets may be shared: only what no instance can still be importing (older than an hour)
            sweepLeftovers(mailboxes, cluster != null && cluster.clustered()
                    ? clock.instant().minus(Duration.ofHours(1)) : java.time.Instant.MAX);
        }
    }

    private static void sweepLeftovers(Mailboxes mailboxes, java.time.Instant before) {
        for (Mailbox mb : mailboxes.all()) {
            try {
                SweptLeftovers swept = mb.target().sweepLeftovers(before);
                LOG.info("mailbox '{}': removed {} leftover(s) of interrupted imports from {}", mb.name(),
                        swept.removed(), swept.spool());
            } catch (IOException e) {
                LOG.warn("mailbox '{}': cannot remove leftovers of interrupted imports: {}", mb.name(), e.getMessage());
            }
        }
    }

    private GraphMailbox graphMailbox(CamelContext camel, MailboxConfig mc, ConnectionConfig cc, MailboxTokens tokens,
                                      ObjectMapper json) {
        Endpoint http = camel.getEndpoint(graphEndpointUri(cc));
        RequestGate gate = new RequestGate(mc.name(), mc.concurrency(), mc.requestBudget(), clock, sleeper);
        GraphClient client = new GraphClient(mc.name(), http, tokens, gate, retryPolicy, json, clock, sleeper);
        return new GraphMailbox(mc, cc.graphBaseUrl().toString(), client);
    }

    /** Where the Authorize button sends the browser: each browser sign-in connection's provider origin. */
    private static List<String> providerOrigins(MailIntakeConfig config) {
        List<String> origins = new ArrayList<>();
        for (ConnectionConfig c : config.connections().values()) {
            if (c.flow() == Flow.DELEGATED) {
                java.net.URI u = c.provider() == Provider.GENERIC ? c.authorizeUrl().orElse(null) : c.authorityHost();
                if (u != null && u.getScheme() != null && u.getRawAuthority() != null) {
                    origins.add(u.getScheme() + "://" + u.getHost() + (u.getPort() == -1 ? "" : ":" + u.getPort()));
                }
            }
        }
        return origins;
    }

    private static void logSignInHints(java.util.Collection<DelegatedGrant> delegated, MailIntakeConfig config) {
        List<String> browser = delegated.stream().filter(g -> !g.isDeviceCode()).map(DelegatedGrant::connectionName).toList();
        List<String> device = delegated.stream().filter(DelegatedGrant::isDeviceCode).map(DelegatedGrant::connectionName).toList();
        if (!browser.isEmpty()) {
            LOG.info("Delegated connections {}: sign in with Authorize on the status page {}/; register the redirect URI {}",
                    browser, config.admin().publicBaseUrl(), config.admin().redirectUri());
        }
        if (!device.isEmpty()) {
            LOG.info("Device-code connections {}: sign in with java -jar mail-intake.jar authorize <connection> --device-code",
                    device);
        }

    }

    @Override
    public void afterStop(BaseMainSupport main) {
        if (cluster != null) {
            cluster.stop();
        }
        close();
    }

    /** Closes the store (also when the application was only configured, e.g. for {@code authorize}). */
    public void close() {
        if (store != null) {
            store.close();
            store = null;
        }
    }

    private void addImportRoutes(CamelContext camel, Mailboxes mailboxes) {
        long scheduled = mailboxes.all().stream()
                .filter(mb -> mb.config().enabled() && mb.config().poll().cron().isEmpty()).count();
        if (scheduled > 0) {
            // one pool for the polls of all mailboxes (scheduler consumers), not a thread per mailbox that sleeps
            // between its polls: a poll (with its greedy drain) holds one of these threads while it runs
            camel.getRegistry().bind(POLL_SCHEDULER, camel.getExecutorServiceManager().newScheduledThreadPool(this,
                    "mailbox-polls", (int) Math.min(scheduled, pollThreads())));
        }
        for (Mailbox mb : mailboxes.all()) {
            if (!mb.config().enabled()) {
                LOG.info("mailbox '{}' is disabled (enabled=false)", mb.name());
                continue;
            }
            String executor = "importPool-" + mb.name();
            // twice as many workers as Graph request slots: local work (parsing, writing, the ledger) overlaps
            // other messages' requests, while the RequestGate keeps Graph at `concurrency`. The threads start with
            // the first message and end after a minute without one: an idle mailbox holds none
            int workers = 2 * mb.config().concurrency();
            ThreadPoolProfile profile = new ThreadPoolProfile("import-" + mb.name());
            profile.setPoolSize(workers);
            profile.setMaxPoolSize(workers);
            profile.setKeepAliveTime(60L);
            profile.setTimeUnit(java.util.concurrent.TimeUnit.SECONDS);
            // a queue of one waiting message per worker, so a worker that finishes takes the next one at once. Not
            // Camel's "-1": that is a SynchronousQueue (direct hand-over), and with all workers busy the poll's own
            // thread then ran a message itself (CallerRuns) and fed no one meanwhile: each worker sat idle ~25 % of a
            // Graph import. When the queue is full the poll's thread still runs one message itself (back-pressure)
            profile.setMaxQueueSize(workers);
            profile.setAllowCoreThreadTimeOut(true);
            ExecutorService pool = camel.getExecutorServiceManager().newThreadPool(this, "import-" + mb.name(), profile);
            camel.getRegistry().bind(executor, pool);
            TemplatedRouteBuilder.builder(camel, "import-mailbox")
                    .routeId(mb.routeId())
                    .parameter("mailbox", mb.name())
                    .parameter("pollUri", cluster.ownedMailbox("mailbox-" + mb.name(), mb.routeId(), pollUri(mb.config())))
                    .parameter("executor", executor)
                    .add();
        }
    }

    private void addRefreshRoute(CamelContext camel, RefreshConfig refresh) {
        TemplatedRouteBuilder.builder(camel, "refresh-tokens-template")
                .routeId("refresh-tokens")
                .parameter("scheduleUri", cluster.owned("refresh-tokens", "quartz:mailintake/refresh-tokens"
                        + "?stateful=true&cron=" + URLEncoder.encode(refresh.cron(), StandardCharsets.UTF_8)))
                .add();
    }

    static String pollUri(MailboxConfig mc) {
        // synchronous=true: the poll (and its parallel split) runs on the scheduler's thread, so polls never overlap
        // (the quartz job is @DisallowConcurrentExecution too). greedy=true: a poll that says more are waiting
        // (MessageIntake.pollDone) is followed at once by the next one, until the Inbox is drained; the interval or
        // the cron applies after a poll that found fewer. A cron uses the same consumer with Quartz as its scheduler,
        // so cron polls drain a backlog too
        String common = "&synchronous=true&greedy=true";
        if (mc.poll().cron().isPresent()) {
            return "scheduler:import-" + mc.name() + "?scheduler=quartz&scheduler.cron="
                    + URLEncoder.encode(mc.poll().cron().get(), StandardCharsets.UTF_8) + common;
        }
        return "scheduler:import-" + mc.name() + "?initialDelay=100&delay=" + mc.poll().interval().toMillis() + common
                + "&scheduledExecutorService=#" + POLL_SCHEDULER;
    }

    /**
     * How many mailboxes may poll at the same time (the shared scheduler's threads, fewer if there are fewer
     * mailboxes): {@code max(8, 2 × cores)}. A poll that drains a backlog holds its thread until the Inbox is empty;
     * a mailbox whose poll is due while all are busy polls when one is free.
     */
    static int pollThreads() {
        return Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
    }

    static String graphEndpointUri(ConnectionConfig cc) {
        String base = cc.graphBaseUrl().toString();
        return base + (base.contains("?") ? "&" : "?")
                + "throwExceptionOnFailure=false&disableStreamCache=true&followRedirects=false"
                + "&connectTimeout=15000&responseTimeout=300000&connectionRequestTimeout=60000"
                + "&maxTotalConnections=200&connectionsPerRoute=50";
    }

    private static MailIntakeConfig loadConfig(CamelContext camel, Properties overrides) {
        PropertiesComponent pc = camel.getPropertiesComponent();
        Properties raw = pc.loadProperties(k -> k.startsWith(ConfigLoader.PREFIX));
        Set<String> keys = new LinkedHashSet<>(raw.stringPropertyNames());
        if (overrides != null) {
            overrides.stringPropertyNames().stream()
                    .filter(k -> k.startsWith(ConfigLoader.PREFIX)).forEach(keys::add);
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> resolved = ConfigLoader.resolveAll(keys, k -> pc.resolveProperty(k).orElse(""), problems);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        Set<String> direct = new java.util.HashSet<>();
        for (org.apache.camel.model.RouteDefinition r : ((org.apache.camel.model.ModelCamelContext) camel).getRouteDefinitions()) {
            String from = r.getInput() == null ? null : r.getInput().getEndpointUri();
            try {
                from = from == null ? null : camel.resolvePropertyPlaceholders(from);
            } catch (RuntimeException e) {
                // the route reports its own unresolved placeholder when it starts
            }
            if (from != null && from.startsWith("direct:")) {
                direct.add(ConfigLoader.directName(from));
            }
        }
        return new ConfigLoader(resolved, scheme -> componentExists(camel, scheme), direct::contains).load();
    }

    private static boolean componentExists(CamelContext camel, String scheme) {
        try {
            return camel.getComponent(scheme, true, false) != null;
        } catch (RuntimeException e) {
            return false;
        }
    }
}

package dev.mailintake.testsupport;

import dev.mailintake.MailIntakeApplication;
import dev.mailintake.MailIntakeBootstrap;
import dev.mailintake.config.ConfigSources;
import dev.mailintake.graph.GraphClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;

/**
 * The real application (the project's application.properties, its YAML routes, its bootstrap) started in-process
 * with test overrides: a temp data directory and store, a free management port and faster Graph retries.
 */
public final class TestApp implements AutoCloseable {
    /**
     * An HTTP client for the application's servers: HTTP/1.1 as Prometheus and probes speak it (the JDK client's
     * default h2c upgrade has been seen to leave a large answer hanging), and a connect timeout.
     */
    public static HttpClient http() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration
                .ofSeconds(5)).build();
    }

    public static final GraphClient.RetryPolicy FAST_RETRIES =
            new GraphClient.RetryPolicy(6, Duration.ofMillis(200), Duration.ofSeconds(2));

    private final Main main;
    private final int managementPort;

    private TestApp(Main main, int managementPort) {
        this.main = main;
        this.managementPort = managementPort;
    }

    public static final String TENANT = "contoso-tenant";
    public static final String CLIENT_ID = "app-1";
    public static final String ADDRESS = "invoices@contoso.test";

    /** A Graph fake that knows the tests' app registration ({@link #TENANT}, {@link #CLIENT_ID}, the test secret). */
    public static GraphFake startFake() {
        GraphFake fake = GraphFake.start();
        fake.registerClient(TENANT, CLIENT_ID, TestSecrets.CLIENT_SECRET);
        return fake;
    }

    /**
     * The usual test set-up: connection {@code contoso} on the fake and mailbox {@code invoices} ({@link #ADDRESS})
     * polling every second into a folder target.
     */
    public static Map<String, String> invoicesMailbox(Path dataDir, GraphFake fake, Path target) {
        Map<String, String> s = new LinkedHashMap<>(baseSettings(dataDir));
        s.putAll(connection("contoso", fake, TENANT, CLIENT_ID, TestSecrets.CLIENT_SECRET));
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "connection", "contoso");
        s.put(k + "address", ADDRESS);
        s.put(k + "poll", "1s");
        s.put(k + "target", "folder:" + target);
        return s;
    }

    /**
     * Mailbox {@code invoices} ({@link #ADDRESS}) read over IMAP from {@code imap} with XOAUTH2, on an app-only
     * connection {@code contoso-imap} (default IMAP scope) whose tokens open the mailbox; polling every second.
     */
    public static Map<String, String> imapMailbox(Path dataDir, GraphFake fake, GreenMailImap imap, Path target) {
        Map<String, String> s = imapMailbox(dataDir, fake, imap.port(), target);
        // one IMAP connection: GreenMail's session bookkeeping breaks when several sessions of one mailbox expunge at
        // once (IllegalStateException "Need to do this properly..." in ImapSessionFolder.getExpunged, the connection
        // is dropped); the tests of several connections say so explicitly
        s.put("mailintake.mailboxes.invoices.concurrency", "1");
        return s;
    }

    /** The same against any plain IMAP server on 127.0.0.1:{@code port}, with the default concurrency. */
    public static Map<String, String> imapMailbox(Path dataDir, GraphFake fake, int port, Path target) {
        Map<String, String> s = new LinkedHashMap<>(baseSettings(dataDir));
        s.putAll(connection("contoso-imap", fake, TENANT, CLIENT_ID, TestSecrets.CLIENT_SECRET));
        s.remove("mailintake.connections.contoso-imap.scopes");
        String k = "mailintake.mailboxes.invoices.";
        s.put(k + "connection", "contoso-imap");
        s.put(k + "protocol", "imap");
        s.put(k + "address", ADDRESS);
        s.put(k + "imap.host", "127.0.0.1");
        s.put(k + "imap.port", String.valueOf(port));
        s.put(k + "imap.security", "none");
        s.put(k + "poll", "1s");
        s.put(k + "target", "folder:" + target);
        return s;
    }

    /** GreenMail with the {@link #ADDRESS} mailbox, opened by app-only tokens of {@link #CLIENT_ID} from {@code fake}. */
    public static GreenMailImap startImap(GraphFake fake) {
        GreenMailImap imap = GreenMailImap.start().acceptTokensFrom(fake);
        imap.mailbox(ADDRESS).grantApp(CLIENT_ID, ADDRESS);
        return imap;
    }

    /** The {@link #ADDRESS} mailbox on the fake, with the folders Inbox/Processed and Inbox/Error. */
    public static FakeMailbox invoicesBox(GraphFake fake) {
        FakeMailbox box = fake.mailbox(ADDRESS);
        box.createFolder("inbox", "Processed");
        box.createFolder("inbox", "Error");
        return box;
    }

    /** Stops the application (if it was started) and then the fake. */
    public static void closeAll(TestApp app, GraphFake fake) {
        if (app != null) {
            app.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    /** Settings every test needs; {@code overrides} win. */
    public static Map<String, String> baseSettings(Path dataDir) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mailintake.data-dir", dataDir.toString());
        m.put("mailintake.store.url", "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE");
        m.put("mailintake.delivery.redeliveries", "2");
        m.put("mailintake.delivery.redelivery-delay", "100");
        m.put("camel.main.shutdownTimeout", "5");
        // the user's route files of a test live beside its data directory (none unless the test writes some)
        m.put("mailintake.routes-dir", dataDir.toAbsolutePath().resolveSibling("routes").toString());
        return m;
    }

    /** Connection settings pointing at the fake's token endpoint and Graph. */
    public static Map<String, String> connection(String name, GraphFake fake, String tenant, String clientId, String secret) {
        String k = "mailintake.connections." + name + ".";
        Map<String, String> m = new LinkedHashMap<>();
        m.put(k + "tenant-id", tenant);
        m.put(k + "client-id", clientId);
        m.put(k + "client-secret", secret);
        m.put(k + "authority-host", fake.authorityHost());
        m.put(k + "graph-base-url", fake.graphBaseUrl());
        m.put(k + "instance-discovery", "false");
        m.put(k + "scopes", "https://graph.microsoft.com/.default");
        m.put(k + "trust-store", fake.trustStore().toString());
        m.put(k + "trust-store-password", fake.trustStorePassword());
        return m;
    }

    public static TestApp start(Map<String, String> settings) {
        return start(settings, null);
    }

    /**
     * Starts and returns once Camel has started; throws what the start-up threw. The settings are the command line
     * over the project's application.properties; no environment.
     */
    public static TestApp start(Map<String, String> settings, RouteBuilder extraRoutes) {
        return start(new ConfigSources(Optional.of(Path.of("application.properties")), Map.of(), settings), extraRoutes);
    }

    /**
     * Starts with {@code beforeRoutesStart} run on the Camel context once it is configured, before any route (and so
     * any poll) starts: the place to create a {@link org.apache.camel.builder.NotifyBuilder} that sees the first poll.
     */
    public static TestApp start(Map<String, String> settings, RouteBuilder extraRoutes,
                                Consumer<CamelContext> beforeRoutesStart) {
        return start(new ConfigSources(Optional.of(Path.of("application.properties")), Map.of(), settings), extraRoutes,
                beforeRoutesStart);
    }

    /**
     * A {@link NotifyBuilder} on the polls of a mailbox: the exchanges of its route {@code import-<mailbox>}, not the
     * split's per-message copies (done as each message is).
     */
    public static NotifyBuilder polls(CamelContext camel, String mailbox) {
        return new NotifyBuilder(camel).fromRoute("import-" + mailbox)
                .filter(e -> e.getProperty(Exchange.SPLIT_INDEX) == null);
    }

    /** The application on these configuration layers (a free management and admin port added to the command line). */
    public static TestApp start(ConfigSources sources, RouteBuilder extraRoutes) {
        return start(sources, extraRoutes, camel -> { });
    }

    private static TestApp start(ConfigSources sources, RouteBuilder extraRoutes,
                                 Consumer<CamelContext> beforeRoutesStart) {
        int port = freePort();
        Map<String, String> all = new LinkedHashMap<>(sources.commandLine());
        all.put("camel.management.port", String.valueOf(port));
        all.putIfAbsent("mailintake.admin.port", String.valueOf(freePort()));
        MailIntakeBootstrap bootstrap = new MailIntakeBootstrap(Clock.systemUTC(), d -> Thread.sleep(d.toMillis()), FAST_RETRIES);
        Main main = MailIntakeApplication.create(new ConfigSources(sources.userFile(), sources.environment(), all),
                bootstrap);
        if (extraRoutes != null) {
            main.configure().addRoutesBuilder(extraRoutes);
        }
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterConfigure(BaseMainSupport configured) {
                beforeRoutesStart.accept(configured.getCamelContext());
            }
        });
        try {
            main.start();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new TestApp(main, port);
    }

    public CamelContext camel() {
        return main.getCamelContext();
    }

    public String healthUrl() {
        return "http://127.0.0.1:" + managementPort + "/observe/health";
    }

    /** The named check of {@code /observe/health?data=true} (e.g. {@code mailbox-invoices}), or a missing node. */
    public JsonNode healthCheck(String name) {
        try {
            String body = http().send(HttpRequest.newBuilder(URI.create(healthUrl() + "?data=true"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode check : new ObjectMapper().readTree(body).path("checks")) {
                if (check.path("name").asText().equals(name)) {
                    return check;
                }
            }
            return MissingNode.getInstance();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            main.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

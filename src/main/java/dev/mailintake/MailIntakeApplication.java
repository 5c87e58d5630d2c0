package dev.mailintake;

import dev.mailintake.check.CheckCommand;
import dev.mailintake.config.ConfigSources;
import dev.mailintake.config.ConfigurationException;
import dev.mailintake.config.EnvironmentKeys;
import dev.mailintake.graph.GraphClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.camel.main.Main;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code java -jar mail-intake.jar}. Reads {@code application.properties} from the working directory,
 * falling back to the one inside the jar ({@code MAILINTAKE_CONFIG} or {@code --config <file>} name another), over
 * the jar's defaults; the user's route files from {@code routes/} beside it ({@code mailintake.routes-dir}).
 */
public final class MailIntakeApplication {
    private MailIntakeApplication() {
    }

    static final String USAGE = """
            usage: java -jar mail-intake.jar [--config <file>] [--dev] [--<key>=<value> ...]
                   java -jar mail-intake.jar authorize <connection> --device-code [--config <file>]
              --config <file>    the properties file (default: ./application.properties, else the jar's copy)
              --dev              reload the user's route files when they change (mailintake.routes-reload=true)
              --<key>=<value>    set a property; wins over the environment and the file""";

    public static void main(String[] args) throws Exception {
        String format = System.getProperty("mailintake.log.format", System.getenv("MAILINTAKE_LOG_FORMAT"));
        if (format != null && !format.equals("text") && !format.equals("json")) {
            System.err.println("Mail Intake cannot start: MAILINTAKE_LOG_FORMAT (or -Dmailintake.log.format) is '"
                    + format + "'; use text or json");
            System.exit(1);
        }
        String config = System.getenv("MAILINTAKE_CONFIG");
        if (args.length > 0 && args[0].equals("check")) {
            System.setProperty("mailintake.log.target", "System.err"); // stdout is the report (--json for machines)
            ConfigSources sources = new ConfigSources(ConfigSources.userFile(configArg(args, config)), System.getenv(),
                    Map.of());
            System.exit(check(sources, List.of(args).subList(1, args.length), System.out));
        }
        if (args.length > 0 && args[0].equals("authorize")) {
            if (args.length < 3 || !args[2].equals("--device-code")) {
                System.err.println(USAGE);
                System.exit(2);
            }
            for (int i = 0; i < args.length - 1; i++) {
                if (args[i].equals("--config")) {
                    config = args[i + 1];
                }
            }
            ConfigSources sources = new ConfigSources(ConfigSources.userFile(config), System.getenv(), Map.of());
            System.exit(authorize(sources, args[1], System.out));
        }
        Map<String, String> commandLine = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config") && i + 1 < args.length) {
                config = args[++i];
            } else if (a.equals("--dev")) {
                commandLine.put(UserRoutes.RELOAD_KEY, "true");
            } else if (a.startsWith("--") && a.indexOf('=') > 2) {
                commandLine.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else {
                System.err.println("unknown argument '" + a + "'\n" + USAGE);
                System.exit(2);
            }
        }
        dev.mailintake.ops.IdleHeap.apply();
        Main main;
        try {
            ConfigSources sources = new ConfigSources(ConfigSources.userFile(config), System.getenv(), commandLine);
            libNotOnClassPath(sources.baseDirectory().resolve("lib"), System.getProperty("java.class.path", ""))
                    .ifPresent(w -> LoggerFactory.getLogger(MailIntakeApplication.class).warn(w));
            main = create(sources, defaultBootstrap());
            main.run();
        } catch (Exception e) {
            String why = describe(e);
            System.err.println(why);
            if (find(e, ConfigurationException.class) != null || find(e, MarkedYamlEngineException.class) != null) {
                LoggerFactory.getLogger(MailIntakeApplication.class).error(why);
            } else {
                LoggerFactory.getLogger(MailIntakeApplication.class).error("{}", why, e);
            }
            System.exit(1);
            return;
        }
        System.exit(main.getExitCode());
    }

    /**
     * Why the application could not start, for a person: every configuration problem; for a route file that is not
     * valid YAML the file, line and column; else the failure's message.
     */
    public static String describe(Throwable e) {
        ConfigurationException problems = find(e, ConfigurationException.class);
        if (problems != null) {
            return problems.getMessage();
        }
        MarkedYamlEngineException yaml = find(e, MarkedYamlEngineException.class);
        if (yaml != null) {
            return "Mail Intake cannot start: a route file is not valid YAML: " + yaml.getMessage().strip();
        }
        return "Mail Intake failed to start: " + e.getMessage();
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    /**
     * Jars in {@code lib/} beside the configuration are on the class path only with the launch form
     * {@code java -cp "mail-intake.jar:lib/*" dev.mailintake.MailIntakeApplication} ({@code java -jar} ignores
     * {@code -cp}, and a manifest Class-Path cannot name "every jar of a directory"): a warning when some are not.
     */
    static Optional<String> libNotOnClassPath(Path lib, String classPath) {
        if (!java.nio.file.Files.isDirectory(lib)) {
            return Optional.empty();
        }
        java.util.Set<String> onPath = new java.util.HashSet<>();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            onPath.add(Path.of(entry).getFileName() == null ? entry : Path.of(entry).getFileName().toString());
        }
        try (java.util.stream.Stream<Path> jars = java.nio.file.Files.list(lib)) {
            List<String> missing = jars.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar"))
                    .filter(n -> !onPath.contains(n)).sorted().toList();
            return missing.isEmpty() ? Optional.empty() : Optional.of("The jars " + missing + " in " + lib
                    + " are not on the class path: start Mail Intake with java -cp \"mail-intake.jar"
                    + java.io.File.pathSeparator + "lib/*\" dev.mailintake.MailIntakeApplication (docs/routes.md)");
        } catch (java.io.IOException e) {
            return Optional.of("cannot list " + lib + ": " + e.getMessage());
        }
    }

    private static MailIntakeBootstrap defaultBootstrap() {
        return new MailIntakeBootstrap(Clock.systemUTC(), d -> Thread.sleep(d.toMillis()),
                GraphClient.RetryPolicy.defaults());
    }

    /** {@code file:<path>} names the user's file; anything else means the jar's copy (tests and older callers). */
    static ConfigSources sources(String propertiesLocation, Map<String, String> commandLine) {
        Optional<Path> file = propertiesLocation.startsWith("file:")
                ? Optional.of(Path.of(propertiesLocation.substring("file:".length()))) : Optional.empty();
        return new ConfigSources(file, Map.of(), commandLine);
    }

    /**
     * {@code authorize <connection> --device-code}: configures the application without starting it, runs the device
     * code flow for that connection (printing where to sign in), stores the grant and returns the exit code.
     */
    public static int authorize(String propertiesLocation, Map<String, String> overrides, String connection,
                                java.io.PrintStream out) throws Exception {
        return authorize(sources(propertiesLocation, overrides), connection, out);
    }

    public static int authorize(ConfigSources sources, String connection, java.io.PrintStream out) throws Exception {
        MailIntakeBootstrap bootstrap = defaultBootstrap();
        Main main = create(sources, bootstrap);
        try {
            main.init();
            @SuppressWarnings("unchecked")
            Map<String, dev.mailintake.auth.DelegatedGrant> delegated = main.getCamelContext().getRegistry()
                    .lookupByNameAndType("delegatedConnections", Map.class);
            if (!(delegated.get(connection) instanceof dev.mailintake.auth.DelegatedTokenSource source)
                    || !source.isDeviceCode()) {
                out.println("No connection '" + connection + "' with flow=device-code in the configuration.");
                return 2;
            }
            String account = source.authorizeWithDeviceCode(out::println);
            out.println("Connection '" + connection + "' is authorized as " + account + ".");
            return 0;
        } catch (dev.mailintake.auth.TokenException e) {
            out.println("Not authorized: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            if (CheckCommand.storeInUse(e)) {
                out.println("The store is in use by the running Mail Intake (the embedded H2 store allows one process):"
                        + " stop it, run authorize, then start it again — or use the PostgreSQL store.");
                return 1;
            }
            throw e;
        } finally {
            bootstrap.close();
            main.shutdown();
        }
    }

    private static String configArg(String[] args, String dflt) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--config")) {
                return args[i + 1];
            }
        }
        return dflt;
    }

    /**
     * {@code check [<mailbox>…] [--json] [--config <file>]}: the preflight checks without starting the application;
     * returns the exit code (0 passed, 1 a check failed, 2 a configuration error).
     */
    public static int check(String propertiesLocation, Map<String, String> overrides, List<String> args,
                            java.io.PrintStream out) {
        return check(sources(propertiesLocation, overrides), args, out);
    }

    public static int check(ConfigSources sources, List<String> args, java.io.PrintStream out) {
        List<String> mailboxes = new java.util.ArrayList<>();
        boolean json = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--config")) {
                i++;
            } else if (a.startsWith("-")) {
                out.println("usage: java -jar mail-intake.jar check [<mailbox>…] [--json] [--config <file>]");
                return CheckCommand.CONFIGURATION_ERROR;
            } else {
                mailboxes.add(a);
            }
        }
        MailIntakeBootstrap bootstrap = defaultBootstrap();
        Main main;
        try {
            main = create(sources, bootstrap);
        } catch (ConfigurationException e) {
            out.println(e.getMessage());
            return CheckCommand.CONFIGURATION_ERROR;
        }
        try {
            return new CheckCommand().run(main, mailboxes, json, out);
        } finally {
            bootstrap.close();
            main.shutdown();
        }
    }

    /** The application as {@code main} runs it; tests use the same with extra (command line) properties. */
    public static Main create(String propertiesLocation, Map<String, String> overrides) {
        return create(propertiesLocation, overrides, defaultBootstrap());
    }

    public static Main create(String propertiesLocation, Map<String, String> overrides, MailIntakeBootstrap bootstrap) {
        return create(sources(propertiesLocation, overrides), bootstrap);
    }

    /**
     * The application on its configuration layers (jar defaults, the user's file, the environment, the command line),
     * with the built-in routes and the user's route files.
     */
    public static Main create(ConfigSources sources, MailIntakeBootstrap bootstrap) {
        List<String> problems = new ArrayList<>();
        Map<String, String> environment = new EnvironmentKeys().properties(sources.environment(),
                sources.fileProperties().stringPropertyNames(), problems);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        UserRoutes routes = UserRoutes.of(sources);
        Main main = new Main();
        // the files: the user's over the jar's defaults (Camel: the first location wins)
        main.setPropertyPlaceholderLocations(sources.locations());
        // over them, in this order: the environment, the routes' settings, the command line (Camel's own environment
        // and system-property lookups are off in the jar's defaults, so this order is the only one)
        Properties overrides = new Properties();
        environment.forEach(overrides::setProperty);
        routes.camelProperties().forEach(overrides::setProperty);
        sources.commandLine().forEach(overrides::setProperty);
        main.setOverrideProperties(overrides);
        main.addMainListener(routes.listener());
        main.addMainListener(bootstrap);
        return main;
    }
}

package dev.mailintake;

import dev.mailintake.check.CheckCommand;
import dev.mailintake.config.ConfigurationException;
import dev.mailintake.graph.GraphClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.camel.main.Main;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code java -jar mail-intake.jar}. Reads {@code application.properties} from the working directory,
 * falling back to the one inside the jar ({@code MAILINTAKE_CONFIG} or {@code --config <file>} name another).
 */
public final class MailIntakeApplication {
    private MailIntakeApplication() {
    }

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
            System.exit(check(propertiesLocation(configArg(args, config)), Map.of(), List.of(args).subList(1,
                    args.length), System.out));
        }
        if (args.length > 0 && args[0].equals("authorize")) {
            if (args.length < 3 || !args[2].equals("--device-code")) {
                System.err.println("usage: java -jar mail-intake.jar authorize <connection> --device-code [--config <file>]");
                System.exit(2);
            }
            for (int i = 0; i < args.length - 1; i++) {
                if (args[i].equals("--config")) {
                    config = args[i + 1];
                }
            }
            System.exit(authorize(propertiesLocation(config), Map.of(), args[1], System.out));
        }
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--config")) {
                config = args[i + 1];
            }
        }
        Main main = create(propertiesLocation(config), Map.of());
        try {
            main.run();
        } catch (Exception e) {
            ConfigurationException problems = find(e, ConfigurationException.class);
            if (problems != null) {
                System.err.println(problems.getMessage());
                LoggerFactory.getLogger(MailIntakeApplication.class).error(problems.getMessage());
            } else {
                LoggerFactory.getLogger(MailIntakeApplication.class).error("Mail Intake failed to start: {}", e.getMessage(), e);
            }
            System.exit(1);
        }
        System.exit(main.getExitCode());
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    static String propertiesLocation(String config) {
        if (config != null && !config.isBlank()) {
            return "file:" + config;
        }
        return Files.exists(Path.of("application.properties"))
                ? "file:application.properties" : "classpath:application.properties";
    }

    /**
     * {@code authorize <connection> --device-code}: configures the application without starting it, runs the device
     * code flow for that connection (printing where to sign in), stores the grant and returns the exit code.
     */
    public static int authorize(String propertiesLocation, Map<String, String> overrides, String connection,
                                java.io.PrintStream out) throws Exception {
        MailIntakeBootstrap bootstrap = new MailIntakeBootstrap(Clock.systemUTC(), d -> Thread.sleep(d.toMillis()),
                GraphClient.RetryPolicy.defaults());
        Main main = create(propertiesLocation, overrides, bootstrap);
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
            if (String.valueOf(e.getMessage()).contains("Database may be already in use")
                    || (e.getCause() != null && String.valueOf(e.getCause().getMessage()).contains("already in use"))) {
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
        MailIntakeBootstrap bootstrap = new MailIntakeBootstrap(Clock.systemUTC(), d -> Thread.sleep(d.toMillis()),
                GraphClient.RetryPolicy.defaults());
        Main main = create(propertiesLocation, overrides, bootstrap);
        try {
            return new CheckCommand().run(main, mailboxes, json, out);
        } finally {
            bootstrap.close();
            main.shutdown();
        }
    }

    /** The application as {@code main} runs it; tests use the same with extra (override) properties. */
    public static Main create(String propertiesLocation, Map<String, String> overrides) {
        return create(propertiesLocation, overrides, new MailIntakeBootstrap(Clock.systemUTC(),
                d -> Thread.sleep(d.toMillis()), GraphClient.RetryPolicy.defaults()));
    }

    public static Main create(String propertiesLocation, Map<String, String> overrides, MailIntakeBootstrap bootstrap) {
        Main main = new Main();
        main.setPropertyPlaceholderLocations(propertiesLocation);
        overrides.forEach(main::addOverrideProperty);
        main.addMainListener(bootstrap);
        return main;
    }
}

package dev.mailintake;

import dev.mailintake.config.ConfigurationException;
import dev.mailintake.graph.GraphClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
        String config = System.getenv("MAILINTAKE_CONFIG");
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

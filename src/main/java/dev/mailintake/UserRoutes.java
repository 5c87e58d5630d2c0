package dev.mailintake;

import dev.mailintake.config.ConfigSources;
import dev.mailintake.config.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ModelLifecycleStrategySupport;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.spi.ResourceAware;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user's route files: {@code *.yaml} in {@code mailintake.routes-dir} (default {@code routes/} beside the
 * configuration file), loaded by Camel Main with the built-in route files ({@link #BUILT_IN_FILES}); reloaded on change
 * when {@code mailintake.routes-reload=true} ({@code --dev}). A user route (or template) whose id is already taken is
 * refused at start, naming the file and the id.
 *
 * @param directory where the user's route files are
 * @param reload    Camel's route reload for that directory (development only)
 */
public record UserRoutes(Path directory, boolean reload) {
    private static final Logger LOG = LoggerFactory.getLogger(UserRoutes.class);
    public static final String DIR_KEY = "mailintake.routes-dir";
    public static final String RELOAD_KEY = "mailintake.routes-reload";
    /**
     * The built-in route files by name: a wildcard ({@code classpath:routes/*.yaml}) makes Camel walk every entry of the
     * fat jar at start-up (about a CPU-second; docs/benchmarks.md, target 1). RoutesListTest keeps the list complete.
     */
    static final List<String> BUILT_IN_FILES = List.of("admin.yaml", "alerts.yaml", "error-handling.yaml",
            "import-mailbox.yaml", "import-message.yaml", "oauth-redirect.yaml", "refresh-tokens.yaml");
    static final String BUILT_IN = String.join(",", BUILT_IN_FILES.stream().map(f -> "classpath:routes/" + f).toList());

    public static UserRoutes of(ConfigSources sources) {
        Path dir = sources.raw(DIR_KEY).filter(v -> !v.isBlank()).map(v -> Path.of(v.trim()))
                .orElse(sources.baseDirectory().resolve("routes"));
        String reload = sources.raw(RELOAD_KEY).orElse("false").trim().toLowerCase(Locale.ROOT);
        if (!reload.equals("true") && !reload.equals("false")) {
            throw new ConfigurationException(List.of(RELOAD_KEY + ": '" + reload + "' is not true or false"));
        }
        return new UserRoutes(dir.toAbsolutePath().normalize(), reload.equals("true"));
    }

    /** The {@code camel.main.*} settings that load (and in development reload) the built-in and the user's routes. */
    public Map<String, String> camelProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        boolean present = Files.isDirectory(directory);
        // Camel refuses a file: pattern whose directory does not exist
        p.put("camel.main.routesIncludePattern", present ? BUILT_IN + ",file:" + directory + "/*.yaml" : BUILT_IN);
        if (present && reload) {
            p.put("camel.main.routesReloadEnabled", "true");
            p.put("camel.main.routesReloadDirectory", directory.toString());
            p.put("camel.main.routesReloadPattern", "*.yaml");
            // Camel's default removes every route (the built-in ones and the mailboxes' too) before a reload
            p.put("camel.main.routesReloadRemoveAllRoutes", "false");
        }
        return p;
    }

    /** Logs where user routes come from and refuses taken ids while Camel loads the routes. */
    public MainListenerSupport listener() {
        return new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport main) {
                if (Files.isDirectory(directory)) {
                    LOG.info("User routes: *.yaml in {}{}", directory, reload
                            ? " (reloaded on change: development mode)" : "");
                } else {
                    LOG.info("User routes: none ({} does not exist; set {} to use another directory)", directory,
                            DIR_KEY);
                }
                ((ModelCamelContext) main.getCamelContext()).addModelLifecycleStrategy(new UniqueIds(directory));
            }
        };
    }

    /**
     * Route and template ids with the resource that defined them; another resource with a taken id is refused. Camel's
     * model silently replaces a definition by one with the same id (removing the first), so removals are not
     * forgotten: a reload in development re-adds an id from the same file, which is fine.
     */
    static final class UniqueIds extends ModelLifecycleStrategySupport {
        private final Path directory;
        private final Map<String, String> routes = new ConcurrentHashMap<>();
        private final Map<String, String> templates = new ConcurrentHashMap<>();

        UniqueIds(Path directory) {
            this.directory = directory;
        }

        @Override
        public void onAddRouteDefinition(RouteDefinition definition) {
            claim(routes, "route", definition.getRouteId(), definition);
        }

        @Override
        public void onAddRouteTemplateDefinition(RouteTemplateDefinition definition) {
            claim(templates, "route template", definition.getId(), definition);
        }

        private void claim(Map<String, String> ids, String kind, String id, ResourceAware definition) {
            if (id == null || id.isEmpty()) {
                return;
            }
            String location = definition.getResource() == null ? "" : definition.getResource().getLocation();
            String earlier = ids.putIfAbsent(id, location);
            if (earlier == null || earlier.equals(location)) {
                return;
            }
            String user = isUserFile(earlier) && !isUserFile(location) ? earlier : location;
            String other = user.equals(location) ? earlier : location;
            String owner = isUserFile(other) ? "the route file " + path(other)
                    : "a built-in " + kind + " (" + (other.isEmpty() ? "a mailbox's import route, import-<mailbox>"
                    : other.substring(other.lastIndexOf('/') + 1)) + ")";
            throw new ConfigurationException(List.of("route file " + path(user) + ": " + kind + " id '" + id
                    + "' is already used by " + owner + "; give your " + kind + " another id"));
        }

        private boolean isUserFile(String location) {
            return location.startsWith("file:") && Path.of(path(location)).toAbsolutePath().normalize()
                    .startsWith(directory);
        }

        private static String path(String location) {
            return location.startsWith("file:") ? location.substring("file:".length()) : location;
        }
    }
}

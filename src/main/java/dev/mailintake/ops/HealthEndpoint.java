package dev.mailintake.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code /observe/health} (all checks), {@code /observe/health/live} (liveness) and
 * {@code /observe/health/ready} (readiness) on Camel's management server, written with Jackson. Camel 4.18's own
 * handler escapes each message twice (a path reads {@code Inbox\/Processed} after parsing); here the JSON parses to the
 * checks' plain text. Same shape as Camel's: {@code status}, {@code checks[]} with {@code name}, {@code status},
 * {@code message} and, with {@code ?data=true}, {@code data}; 200 when every check is UP, else 503. Camel's own health
 * handler is switched off ({@code camel.management.healthCheckEnabled=false}); the checks are Camel's health checks.
 */
public final class HealthEndpoint implements StartupListener {
    private static final Logger LOG = LoggerFactory.getLogger(HealthEndpoint.class);

    private enum Group { ALL, LIVENESS, READINESS }

    private final String path;
    private final ObjectMapper json = new ObjectMapper();

    /** @param path where health is served, e.g. {@code /observe/health} */
    public HealthEndpoint(String path) {
        this.path = path;
    }

    @Override
    public void onCamelContextStarted(CamelContext camel, boolean alreadyStarted) {
        ManagementHttpServer server = camel.hasService(ManagementHttpServer.class);
        if (server == null || server.getRouter() == null) {
            LOG.warn("no management server: health is not served (camel.management.enabled=false?)");
            return;
        }
        route(server, camel, path, Group.ALL);
        route(server, camel, path + "/live", Group.LIVENESS);
        route(server, camel, path + "/ready", Group.READINESS);
    }

    private void route(ManagementHttpServer server, CamelContext camel, String at, Group group) {
        server.getRouter().route(at).method(HttpMethod.GET).blockingHandler(ctx -> answer(ctx, camel, group));
    }

    private void answer(RoutingContext ctx, CamelContext camel, Group group) {
        Collection<HealthCheck.Result> results = switch (group) {
            case ALL -> HealthCheckHelper.invoke(camel);
            case LIVENESS -> HealthCheckHelper.invokeLiveness(camel);
            case READINESS -> HealthCheckHelper.invokeReadiness(camel);
        };
        boolean up = results.stream().allMatch(r -> r.getState() == HealthCheck.State.UP);
        boolean data = "true".equals(ctx.request().getParam("data"));
        ObjectNode body = json.createObjectNode();
        body.put("status", up ? "UP" : "DOWN");
        ArrayNode checks = body.putArray("checks");
        results.stream().sorted((a, b) -> a.getCheck().getId().compareTo(b.getCheck().getId())).forEach(r -> {
            ObjectNode c = checks.addObject();
            c.put("name", r.getCheck().getId());
            c.put("status", r.getState().name());
            r.getMessage().ifPresent(m -> c.put("message", m));
            if (data && r.getDetails() != null && !r.getDetails().isEmpty()) {
                ObjectNode d = c.putObject("data");
                Map<String, Object> details = new TreeMap<>(r.getDetails());
                details.forEach((k, v) -> d.put(k, String.valueOf(v)));
            }
        });
        ctx.response().putHeader("content-type", "application/json").setStatusCode(up ? 200 : 503);
        ctx.end(body.toString());
    }
}

package dev.mailintake.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;

/**
 * {@code GET /observe/check[?mailbox=…]} on the management server: the running instance runs the preflight checks for
 * {@code java -jar mail-intake.jar check} when that command cannot open the store itself (the embedded H2 store allows
 * one process). One run at a time; a request during a run waits for it. Never a secret or a token in the answer.
 */
public final class CheckEndpoint implements StartupListener {
    public static final String PATH = "/observe/check";

    private final Preflight preflight;
    private final ObjectMapper json = new ObjectMapper();

    public CheckEndpoint(Preflight preflight) {
        this.preflight = preflight;
    }

    @Override
    public void onCamelContextStarted(CamelContext camel, boolean alreadyStarted) {
        ManagementHttpServer server = camel.hasService(ManagementHttpServer.class);
        if (server != null && server.getRouter() != null) {
            server.getRouter().route(PATH).method(HttpMethod.GET).blockingHandler(this::answer);
        }
    }

    private void answer(RoutingContext ctx) {
        List<String> names = ctx.queryParam("mailbox");
        ObjectNode body = json.createObjectNode();
        int status = 200;
        try {
            List<CheckResult> results;
            synchronized (this) {
                results = preflight.run(names);
            }
            body.set("results", json.valueToTree(results));
        } catch (IllegalArgumentException e) {
            status = 404;
            body.put("error", e.getMessage());
        }
        ctx.response().putHeader("content-type", "application/json").setStatusCode(status);
        ctx.end(body.toString());
    }
}

package dev.mailintake.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mailintake.config.ConfigurationException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.camel.main.Main;
import org.apache.camel.spi.PropertiesComponent;

/**
 * {@code java -jar mail-intake.jar check [<mailbox>…] [--json] [--config <file>]}: configures the application as it
 * would start (same configuration file, same validation) without starting it, runs the {@link Preflight} checks and
 * prints one line per check. When the store is held by the running instance (embedded H2), the running instance runs
 * the checks ({@code GET /observe/check} on its management port). Exit code: 0 every check passed, 1 a check failed
 * (or the checks could not run), 2 a configuration error.
 */
public final class CheckCommand {
    public static final int PASSED = 0;
    public static final int FAILED = 1;
    public static final int CONFIGURATION_ERROR = 2;

    private final ObjectMapper json = new ObjectMapper();

    /** Runs the checks on {@code main} (created, not yet initialised) and prints the outcome. */
    public int run(Main main, List<String> mailboxes, boolean asJson, PrintStream out) {
        List<CheckResult> results;
        try {
            main.init();
            Preflight preflight = main.getCamelContext().getRegistry().lookupByNameAndType("preflight", Preflight.class);
            results = preflight.run(mailboxes);
        } catch (RuntimeException e) {
            ConfigurationException problems = find(e, ConfigurationException.class);
            if (problems != null) {
                out.println(problems.getMessage());
                return CONFIGURATION_ERROR;
            }
            if (find(e, IllegalArgumentException.class) != null && String.valueOf(e.getMessage()).contains("no mailbox")) {
                out.println(find(e, IllegalArgumentException.class).getMessage());
                return CONFIGURATION_ERROR;
            }
            if (!storeInUse(e)) {
                throw e;
            }
            try {
                results = fromRunningInstance(main.getCamelContext().getPropertiesComponent(), mailboxes, out);
            } catch (IOException io) {
                out.println("The store is in use by another process (the embedded H2 store allows one), and the running"
                        + " Mail Intake did not answer on its management port (" + io.getMessage() + "): stop it and"
                        + " run check again, or use the PostgreSQL store.");
                return FAILED;
            }
            if (results == null) {
                return CONFIGURATION_ERROR;
            }
        }
        print(results, asJson, out);
        return results.stream().allMatch(CheckResult::ok) ? PASSED : FAILED;
    }

    private List<CheckResult> fromRunningInstance(PropertiesComponent properties, List<String> mailboxes,
                                                  PrintStream out) throws IOException {
        String host = properties.resolveProperty("camel.management.host").orElse("127.0.0.1");
        String port = properties.resolveProperty("camel.management.port").orElse("9876");
        String query = mailboxes.stream().map(m -> "mailbox=" + URLEncoder.encode(m, StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        URI uri = URI.create("http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port
                + CheckEndpoint.PATH + (query.isEmpty() ? "" : "?" + query));
        HttpResponse<String> answer;
        try {
            answer = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        JsonNode body = json.readTree(answer.body());
        if (answer.statusCode() == 404 && body.has("error")) {
            out.println(body.get("error").asText());
            return null;
        }
        if (answer.statusCode() != 200) {
            throw new IOException("HTTP " + answer.statusCode() + " from " + uri);
        }
        List<CheckResult> results = new ArrayList<>();
        for (JsonNode r : body.path("results")) {
            results.add(json.treeToValue(r, CheckResult.class));
        }
        out.println("(checked by the running Mail Intake, which holds the store)");
        return results;
    }

    private void print(List<CheckResult> results, boolean asJson, PrintStream out) {
        long failed = results.stream().filter(r -> !r.ok()).count();
        if (asJson) {
            ObjectNode body = json.createObjectNode();
            body.put("passed", results.size() - failed);
            body.put("failed", failed);
            ArrayNode list = body.putArray("results");
            results.forEach(r -> list.add(json.valueToTree(r)));
            out.println(body.toString());
            return;
        }
        for (CheckResult r : results) {
            out.printf("%-4s  %-10s %-16s %-12s %s%n", r.ok() ? "PASS" : "FAIL", r.subject(), r.name(), r.check(),
                    r.detail());
        }
        out.println("Mail Intake check: " + (results.size() - failed) + " checks passed, " + failed + " failed");
    }

    /** The embedded H2 store is open in another process (the running application). */
    public static boolean storeInUse(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("already in use")) {
                return true;
            }
        }
        return false;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}

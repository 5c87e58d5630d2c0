package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * {@code deploy/prometheus/alerts.yaml}: well-formed rules whose metrics the application really serves, whose links
 * point at sections of docs/operations.md; and, where Debian's {@code promtool} is installed (CI:
 * {@code MAILINTAKE_REQUIRE_PROMTOOL=1}), {@code promtool check rules} and the rule unit tests in
 * {@code alerts-test.yaml}.
 */
class PrometheusAlertsTest {
    private static final Path ALERTS = Path.of("deploy", "prometheus", "alerts.yaml");
    private static final Path ALERT_TESTS = Path.of("deploy", "prometheus", "alerts-test.yaml");
    private static final Path OPERATIONS = Path.of("docs", "operations.md");
    private static final Pattern METRIC = Pattern.compile("\\bmailintake_[a-z_]+");

    @TempDir
    Path tmp;

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules() throws IOException {
        Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(ALERTS));
        List<Map<String, Object>> groups = (List<Map<String, Object>>) doc.get("groups");
        assertThat(groups).isNotEmpty();
        return groups.stream().flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream()).toList();
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyRuleHasASeverityASummaryAndALinkToTheOperatorsGuide() throws IOException {
        String guide = Files.readString(OPERATIONS);
        Set<String> names = new TreeSet<>();
        for (Map<String, Object> rule : rules()) {
            String name = (String) rule.get("alert");
            assertThat(name).as("every rule is an alert").isNotBlank();
            assertThat(names.add(name)).as("alert names are unique: " + name).isTrue();
            assertThat((String) rule.get("expr")).as(name).isNotBlank();
            Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
            assertThat(labels.get("severity")).as(name).isIn("critical", "warning", "info");
            Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
            assertThat((String) annotations.get("summary")).as(name).isNotBlank();
            String description = (String) annotations.get("description");
            Matcher link = Pattern.compile("docs/operations\\.md#([a-z0-9-]+)").matcher(description);
            assertThat(link.find()).as(name + " links to docs/operations.md").isTrue();
            assertThat(anchors(guide)).as(name + ": docs/operations.md has #" + link.group(1)).contains(link.group(1));
            assertThat(guide).as("docs/operations.md describes " + name).contains(name);
        }
        assertThat(names).contains("MailIntakeMailboxDown", "MailIntakeMailboxStalled", "MailIntakeConnectionNotAuthorized",
                "MailIntakeConnectionProblem", "MailIntakeMostMessagesRejected");
    }

    @Test
    void everyMetricTheRulesUseIsServedByTheApplication() throws Exception {
        Set<String> used = new TreeSet<>();
        for (Map<String, Object> rule : rules()) {
            Matcher m = METRIC.matcher((String) rule.get("expr"));
            while (m.find()) {
                used.add(m.group());
            }
        }
        assertThat(used).contains("mailintake_mailbox_up", "mailintake_mailbox_last_poll_seconds",
                "mailintake_connection_authorized", "mailintake_connection_problem", "mailintake_messages_errors_total");

        GraphFake fake = TestApp.startFake();
        TestApp app = null;
        try {
            TestApp.invoicesBox(fake);
            Map<String, String> s = new LinkedHashMap<>(TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out")));
            // a delegated connection: mailintake_connection_authorized exists only for those
            s.putAll(TestApp.connection("contoso-user", fake, TestApp.TENANT, TestApp.CLIENT_ID, "unused-secret-value"));
            s.put("mailintake.connections.contoso-user.flow", "delegated");
            // mailintake_credential_expiry_seconds exists only for a credential whose expiry is known
            s.put("mailintake.connections.contoso.client-secret-expires", "2030-01-31");
            app = TestApp.start(s);
            String metrics = TestApp.http().send(HttpRequest.newBuilder(
                    URI.create(app.healthUrl().replace("/observe/health", "/observe/metrics"))).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Set<String> served = new TreeSet<>();
            Matcher m = Pattern.compile("(?m)^(mailintake_[a-z_]+)\\{").matcher(metrics);
            while (m.find()) {
                served.add(m.group(1));
            }
            assertThat(served).containsAll(used);
        } finally {
            TestApp.closeAll(app, fake);
        }
    }

    @Test
    void promtoolChecksTheRulesAndPassesTheirUnitTests() throws Exception {
        if (!promtoolWorks()) {
            if ("1".equals(System.getenv("MAILINTAKE_REQUIRE_PROMTOOL"))) {
                fail("MAILINTAKE_REQUIRE_PROMTOOL=1 but promtool is missing (apt-get install prometheus)");
            }
            Assumptions.abort("promtool is not installed (Debian: apt-get install --no-install-recommends prometheus)");
        }
        String check = promtool("check", "rules", ALERTS.toString());
        assertThat(check).contains("SUCCESS");
        String tests = promtool("test", "rules", ALERT_TESTS.toString());
        assertThat(tests).contains("SUCCESS");
    }

    /** GitHub-style heading anchors of a Markdown file. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^#{1,6} +(.+?) *$").matcher(markdown);
        while (m.find()) {
            anchors.add(m.group(1).toLowerCase().replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
        }
        return anchors;
    }

    private static boolean promtoolWorks() {
        try {
            promtool("--version");
            return true;
        } catch (IOException | AssertionError e) {
            return false;
        }
    }

    private static String promtool(String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("promtool"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("promtool timed out");
            }
            assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.mailintake.config.ConfigSources;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.support.RouteWatcherReloadStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The user's route files beside the configuration: loaded with the built-in routes, checked, reloaded with --dev. */
class UserRoutesTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;

    @BeforeEach
    void setUp() {
        fake = TestApp.startFake();
        TestApp.invoicesBox(fake);
    }

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    private Map<String, String> settings() {
        return TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
    }

    private Path routeFile(String name, String yaml) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("routes"));
        return Files.writeString(dir.resolve(name), yaml);
    }

    private static String hello(String id, String answer) {
        return """
                - route:
                    id: %s
                    from:
                      uri: direct:hello
                      steps:
                        - setBody:
                            constant: "%s"
                """.formatted(id, answer);
    }

    private String ask() {
        return app.camel().createProducerTemplate().requestBody("direct:hello", "", String.class);
    }

    @Test
    void routeFilesInTheRoutesDirectoryRunBesideTheBuiltInRoutes() throws Exception {
        routeFile("hello.yaml", hello("hello", "hi"));
        app = TestApp.start(settings());
        assertThat(app.camel().getRoute("hello")).isNotNull();
        assertThat(app.camel().getRoute("import-message")).isNotNull();
        assertThat(ask()).isEqualTo("hi");
        // production: no reload
        assertThat(app.camel().hasService(RouteWatcherReloadStrategy.class)).isNull();
    }

    @Test
    void theDefaultRoutesDirectoryIsBesideTheConfigurationFileRead() throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path file = Files.writeString(conf.resolve("application.properties"), "mailintake.data-dir = "
                + tmp.resolve("data") + "\n");
        Files.createDirectories(conf.resolve("routes"));
        Files.writeString(conf.resolve("routes/hello.yaml"), hello("hello", "from conf/routes"));
        Map<String, String> commandLine = TestApp.baseSettings(tmp.resolve("data"));
        commandLine.remove("mailintake.routes-dir");
        app = TestApp.start(new ConfigSources(Optional.of(file), Map.of(), commandLine), null);
        assertThat(ask()).isEqualTo("from conf/routes");
    }

    @Test
    void aUserRouteWithABuiltInRouteIdIsRefusedNamingTheFileAndTheId() throws Exception {
        routeFile("mine.yaml", hello("import-message", "x"));
        Throwable thrown = catchThrowable(() -> app = TestApp.start(settings()));
        assertThat(MailIntakeApplication.describe(thrown)).contains("mine.yaml", "'import-message'",
                "built-in route (import-message.yaml)", "give your route another id");
        assertThat(fake.tokenRequests()).isEmpty();
    }

    @Test
    void aUserRouteWithAMailboxImportRouteIdIsRefused() throws Exception {
        routeFile("mine.yaml", hello("import-invoices", "x"));
        Throwable thrown = catchThrowable(() -> app = TestApp.start(settings()));
        assertThat(MailIntakeApplication.describe(thrown)).contains("mine.yaml", "'import-invoices'", "built-in route");
    }

    @Test
    void aYamlSyntaxErrorNamesTheFileAndLineAndNothingStarts() throws Exception {
        routeFile("broken.yaml", """
                - route:
                    id: broken
                    from:
                      uri: direct:broken
                      steps:
                        - log: "one"
                          - to: direct:two
                """);
        Throwable thrown = catchThrowable(() -> app = TestApp.start(settings()));
        assertThat(thrown).isNotNull();
        assertThat(MailIntakeApplication.describe(thrown)).contains("not valid YAML", "broken.yaml", "line 7");
        assertThat(fake.tokenRequests()).isEmpty();
        assertThat(fake.graphRequests()).isEmpty();
    }

    @Test
    void devModeReloadsAChangedRouteFile() throws Exception {
        Path file = routeFile("hello.yaml", hello("hello", "v1"));
        Map<String, String> s = settings();
        s.put("mailintake.routes-reload", "true");
        app = TestApp.start(s);
        assertThat(ask()).isEqualTo("v1");
        Files.writeString(file, hello("hello", "v2"));
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> ask().equals("v2"));
        // the built-in routes and the mailbox's import route are left alone
        assertThat(app.camel().getRoute("import-invoices")).isNotNull();
        assertThat(app.camel().getRoute("import-message")).isNotNull();
    }

    @Test
    void jarsInLibThatAreNotOnTheClassPathAreNamedWithTheLaunchForm() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Files.writeString(lib.resolve("camel-seda-4.18.0.jar"), "");
        String sep = java.io.File.pathSeparator;
        assertThat(MailIntakeApplication.libNotOnClassPath(lib, "mail-intake.jar")).get().asString()
                .contains("camel-seda-4.18.0.jar", "java -cp \"mail-intake.jar" + sep + "lib/*\"");
        assertThat(MailIntakeApplication.libNotOnClassPath(lib, "mail-intake.jar" + sep + lib.resolve("camel-seda-4.18.0.jar")))
                .isEmpty();
        assertThat(MailIntakeApplication.libNotOnClassPath(tmp.resolve("none"), "x.jar")).isEmpty();
    }
}

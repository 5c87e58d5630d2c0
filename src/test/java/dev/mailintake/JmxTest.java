package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mailintake.testsupport.FakeMailbox;
import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.Mimes;
import dev.mailintake.testsupport.TestApp;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JMX surface operators use (docs/operations.md): the context MBean and a route MBean per mailbox, with its
 * statistics and its stop/start operations. No MBean per processor (camel.main.jmxManagementMBeansLevel=RoutesOnly):
 * with 500 mailboxes those were ~9,000 MBeans and ~150 MB of heap.
 */
class JmxTest {
    private static final Instant T0 = Instant.parse("2026-11-20T08:00:00Z");
    private final MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();

    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    @Test
    void aMailboxIsARouteMBeanThatStopsAndStartsAndNoProcessorHasAnMBean() throws Exception {
        fake = TestApp.startFake();
        FakeMailbox box = TestApp.invoicesBox(fake);
        box.addMessage("inbox", Mimes.pdfMessage("<jmx-1@example.com>", "one", 2_000), T0);
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        app = TestApp.start(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 1);

        String context = app.camel().getManagementName();
        ObjectName route = new ObjectName("org.apache.camel:context=" + context + ",type=routes,name=\"import-invoices\"");
        assertThat(jmx.isRegistered(route)).isTrue();
        assertThat(jmx.queryNames(new ObjectName("org.apache.camel:context=" + context + ",type=context,*"), null))
                .hasSize(1);
        assertThat((Long) jmx.getAttribute(route, "ExchangesCompleted")).isPositive();
        assertThat(jmx.queryNames(new ObjectName("org.apache.camel:context=" + context + ",type=processors,*"), null))
                .as("no MBean per processor").isEmpty();

        jmx.invoke(route, "stop", new Object[0], new String[0]);
        assertThat(jmx.getAttribute(route, "State")).isEqualTo("Stopped");
        box.addMessage("inbox", Mimes.pdfMessage("<jmx-2@example.com>", "two", 2_000), T0.plusSeconds(1));
        Thread.sleep(2_500); // two poll intervals (1s): a stopped mailbox does not poll
        assertThat(box.messagesIn("inbox")).hasSize(1);

        jmx.invoke(route, "start", new Object[0], new String[0]);
        await().atMost(Duration.ofSeconds(20)).until(() -> box.messagesIn("Inbox/Processed").size() == 2);
        assertThat(box.messagesIn("inbox")).isEmpty();
    }
}

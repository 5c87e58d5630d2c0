package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.testsupport.GraphFake;
import dev.mailintake.testsupport.TestApp;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mailbox's import pool keeps a queue of one waiting message per worker. With Camel's {@code maxQueueSize = -1} it
 * was a {@code SynchronousQueue}: whenever every worker was busy, the poll's thread ran the next message itself and
 * handed out none meanwhile, so workers sat idle (~25 % of each worker's time in a Graph import, docs/benchmarks.md,
 * "Target 5 in a running instance").
 */
class ImportPoolTest {
    @TempDir
    Path tmp;
    private GraphFake fake;
    private TestApp app;

    @AfterEach
    void tearDown() {
        TestApp.closeAll(app, fake);
    }

    @Test
    void theImportPoolQueuesOneMessagePerWorker() {
        fake = TestApp.startFake();
        TestApp.invoicesBox(fake);
        Map<String, String> s = TestApp.invoicesMailbox(tmp.resolve("data"), fake, tmp.resolve("out"));
        s.put("mailintake.mailboxes.invoices.concurrency", "3");
        app = TestApp.start(s);
        ExecutorService pool = app.camel().getRegistry().lookupByNameAndType("importPool-invoices",
                ExecutorService.class);
        assertThat(pool).isInstanceOf(ThreadPoolExecutor.class);
        ThreadPoolExecutor executor = (ThreadPoolExecutor) pool;
        assertThat(executor.getMaximumPoolSize()).as("workers: 2 x concurrency").isEqualTo(6);
        assertThat(executor.getQueue().remainingCapacity()).as("one waiting message per worker").isEqualTo(6);
    }
}

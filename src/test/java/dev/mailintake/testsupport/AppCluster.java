package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Instances of the application — each a JVM of its own ({@link AppProcess}) — on one store and one cluster service (a
 * file lock or ZooKeeper), serving the same mailboxes: started, killed ({@code kill -9}), frozen and restarted by id,
 * asked who owns which mailbox (their health details), and driven over JMX (a route stopped and started, an endpoint
 * called). Each instance keeps its data directory, ports and configuration across restarts; every process's output is
 * written to {@code target/test-logs/cluster/} when closed.
 */
public final class AppCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = TestApp.http();

    private final Path dir;
    private final Map<String, String> shared;
    private final List<String> mailboxes;
    private final Map<String, String> environment;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private final List<Map.Entry<String, AppProcess>> processes = new ArrayList<>();

    private static final class Member {
        final Path config;
        final int managementPort;
        final int adminPort;
        final int jmxPort;
        AppProcess process;
        JMXConnector jmx;

        Member(Path config, int managementPort, int adminPort, int jmxPort) {
            this.config = config;
            this.managementPort = managementPort;
            this.adminPort = adminPort;
            this.jmxPort = jmxPort;
        }
    }

    /**
     * @param dir         where the instances' data directories and configuration files go
     * @param shared      the settings of every instance: store, cluster service, connections, mailboxes
     * @param mailboxes   the names of the configured mailboxes (for {@link #owned})
     * @param environment the instances' extra environment (e.g. a shared {@code MAILINTAKE_STORE_KEY})
     */
    public AppCluster(Path dir, Map<String, String> shared, List<String> mailboxes, Map<String, String> environment) {
        this.dir = dir;
        this.shared = Map.copyOf(shared);
        this.mailboxes = List.copyOf(mailboxes);
        this.environment = Map.copyOf(environment);
    }

    /** The cluster settings of a file-lock service on {@code root}. */
    public static Map<String, String> fileLock(Path root) {
        return Map.of("mailintake.cluster.service", "file", "mailintake.cluster.file.root", root.toString());
    }

    /** The cluster settings of a ZooKeeper service on {@code connectString}. */
    public static Map<String, String> zooKeeper(String connectString) {
        return Map.of("mailintake.cluster.service", "zookeeper", "mailintake.cluster.zookeeper.nodes", connectString);
    }

    /** Starts instance {@code id} (again, after a kill: with the same data directory, ports and configuration). */
    public AppProcess start(String id) {
        Member m = members.computeIfAbsent(id, this::member);
        if (m.process != null && m.process.alive()) {
            throw new IllegalStateException("instance " + id + " runs already");
        }
        closeJmx(m);
        m.process = AppProcess.start(dir, environment, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-Dcom.sun.management.jmxremote.port=" + m.jmxPort,
                "-Dcom.sun.management.jmxremote.rmi.port=" + m.jmxPort,
                "-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false"),
                "--config", m.config.toString());
        processes.add(Map.entry(id, m.process));
        return m.process;
    }

    private Member member(String id) {
        Map<String, String> s = new LinkedHashMap<>(shared);
        s.put("mailintake.data-dir", dir.resolve(id).toString());
        s.put("mailintake.cluster.instance-id", id);
        int management = AppProcess.freePort();
        int admin = AppProcess.freePort();
        s.put("camel.management.port", String.valueOf(management));
        s.put("mailintake.admin.port", String.valueOf(admin));
        return new Member(AppProcess.configFile(dir.resolve(id + ".properties"), s), management, admin,
                AppProcess.freePort());
    }

    public AppProcess process(String id) {
        return member(id, "process").process;
    }

    public int adminPort(String id) {
        return member(id, "admin port").adminPort;
    }

    private Member member(String id, String what) {
        Member m = members.get(id);
        if (m == null) {
            throw new IllegalArgumentException("no instance " + id + " (" + what + ")");
        }
        return m;
    }

    /** {@code kill -9} of instance {@code id}. */
    public void kill(String id) throws InterruptedException {
        Member m = member(id, "kill");
        closeJmx(m);
        m.process.kill();
    }

    /**
     * Who owns each mailbox as instance {@code askedId} sees it (its health details: itself, or the owner its last look
     * at the store's heartbeats found); a mailbox whose owner it does not know yet is missing, and so is every mailbox
     * while the instance does not answer.
     */
    public Map<String, String> owners(String askedId) {
        Map<String, String> owners = new LinkedHashMap<>();
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + member(askedId, "health").managementPort + "/observe/health?data=true"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode check : JSON.readTree(r.body()).path("checks")) {
                String name = check.path("name").asText();
                String owner = check.path("data").path("owner").asText("");
                if (name.startsWith("mailbox-") && !owner.isEmpty() && !owner.equals("none yet")) {
                    owners.put(name.substring("mailbox-".length()), owner);
                }
            }
        } catch (IOException e) {
            // not answering (yet, or any more)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return owners;
    }

    public Optional<String> owner(String askedId, String mailbox) {
        return Optional.ofNullable(owners(askedId).get(mailbox));
    }

    /** The mailboxes instance {@code id} runs now, by its own account (it is the leader of their namespaces). */
    public Set<String> owned(String id) {
        Set<String> owned = new TreeSet<>();
        owners(id).forEach((mailbox, owner) -> {
            if (owner.equals(id)) {
                owned.add(mailbox);
            }
        });
        return owned;
    }

    /** Whether instance {@code id} answers and knows an owner for every mailbox (itself or another instance). */
    public boolean seesOwnersOfAll(String id) {
        return owners(id).keySet().containsAll(mailboxes);
    }

    /**
     * Stops the mailbox's route on instance {@code id}: it leaves the namespace's election, so another instance takes
     * the mailbox over (an operator's way of moving a mailbox). {@link #startRoute} makes it stand by again.
     */
    public void stopRoute(String id, String mailbox) throws Exception {
        jmx(id).invoke(route(id, "import-" + mailbox), "stop", new Object[0], new String[0]);
    }

    public void startRoute(String id, String mailbox) throws Exception {
        jmx(id).invoke(route(id, "import-" + mailbox), "start", new Object[0], new String[0]);
    }

    /** Sends an empty body to {@code endpointUri} in instance {@code id}'s Camel context (JMX, as an operator does). */
    public void sendBody(String id, String endpointUri) throws Exception {
        MBeanServerConnection c = jmx(id);
        ObjectName context = c.queryNames(new ObjectName("org.apache.camel:type=context,*"), null).iterator().next();
        c.invoke(context, "sendBody", new Object[] {endpointUri, ""},
                new String[] {String.class.getName(), Object.class.getName()});
    }

    private ObjectName route(String id, String routeId) throws Exception {
        Set<ObjectName> found = jmx(id).queryNames(new ObjectName("org.apache.camel:type=routes,name=\"" + routeId
                + "\",*"), null);
        if (found.isEmpty()) {
            throw new IllegalStateException("instance " + id + " has no route " + routeId);
        }
        return found.iterator().next();
    }

    private MBeanServerConnection jmx(String id) throws IOException {
        Member m = member(id, "jmx");
        if (m.jmx == null) {
            m.jmx = JMXConnectorFactory.connect(new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:"
                    + m.jmxPort + "/jmxrmi"), Map.of("jmx.remote.x.request.waiting.timeout", 30_000L));
        }
        return m.jmx.getMBeanServerConnection();
    }

    private static void closeJmx(Member m) {
        if (m.jmx != null) {
            try {
                m.jmx.close();
            } catch (IOException e) {
                // the process is gone
            }
            m.jmx = null;
        }
    }

    /** Stops every instance and writes each process's whole output under {@code target/test-logs/cluster/}. */
    @Override
    public void close() {
        members.values().forEach(AppCluster::closeJmx);
        processes.forEach(p -> p.getValue().close());
        Path logs = Path.of(System.getProperty("mailintake.test.logdir", "target/test-logs"), "cluster");
        try {
            Files.createDirectories(logs);
            for (Map.Entry<String, AppProcess> p : processes) {
                Files.write(logs.resolve("instance-" + p.getKey() + "-" + p.getValue().pid() + ".log"),
                        p.getValue().lines());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

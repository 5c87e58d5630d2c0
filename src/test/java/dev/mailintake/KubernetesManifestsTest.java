package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.ClusterConfig;
import dev.mailintake.config.ConfigKey;
import dev.mailintake.config.ConfigLoader;
import dev.mailintake.config.ConfigSchema;
import dev.mailintake.config.MailIntakeConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * {@code deploy/kubernetes/}: every manifest parses and carries what the cluster and the operator need, the probe
 * paths and ports, the scrape annotations and the admin Service agree with the application's application.properties,
 * and the two replicas share the mailboxes through Leases their ServiceAccount may read and write.
 */
class KubernetesManifestsTest {
    private static final Path DIR = Path.of("deploy", "kubernetes");
    private static final Map<String, Map<String, Object>> BY_KIND = new TreeMap<>();
    private static Properties shipped;

    @TempDir
    Path tmp;

    @BeforeAll
    static void parse() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                for (Object doc : new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(f))) {
                    Map<String, Object> m = map(doc);
                    assertThat(m.get("apiVersion")).as(f + ": apiVersion").isNotNull();
                    String kind = (String) m.get("kind");
                    assertThat(kind).as(f + ": kind").isNotBlank();
                    if (!kind.equals("Kustomization")) {
                        assertThat(str(m, "metadata.name")).as(f + ": metadata.name").isNotBlank();
                    }
                    assertThat(BY_KIND.put(kind, m)).as("one " + kind).isNull();
                }
            }
        }
        // what the jar ships: its camel.* defaults (always loaded under the user's file) and application.properties
        shipped = properties(Files.readString(Path.of("src/main/resources/mail-intake-defaults.properties")));
        shipped.putAll(properties(Files.readString(Path.of("application.properties"))));
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        Set<String> files;
        try (Stream<Path> s = Files.list(DIR)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(new TreeSet<>(list(BY_KIND.get("Kustomization").get("resources")))).isEqualTo(files);
        assertThat(BY_KIND.keySet()).contains("ConfigMap", "Deployment", "PersistentVolumeClaim", "Secret", "Service",
                "ServiceAccount", "Role", "RoleBinding");
    }

    @Test
    void deploymentIsTwoNonRootReplicasWithAReadOnlyRootFileSystem() {
        Map<String, Object> d = BY_KIND.get("Deployment");
        assertThat(get(d, "spec.replicas")).as("two pods share the mailboxes through Leases").isEqualTo(2);
        assertThat(str(d, "spec.strategy.type")).as("a second pod is safe: it waits for the Leases")
                .isEqualTo("RollingUpdate");
        assertThat(get(d, "spec.strategy.rollingUpdate.maxUnavailable")).isEqualTo(0);
        Map<String, Object> pod = map(get(d, "spec.template.spec"));
        assertThat(get(pod, "securityContext.runAsNonRoot")).isEqualTo(true);
        assertThat(((Number) get(pod, "securityContext.runAsUser")).intValue()).isEqualTo(10001);
        assertThat(get(pod, "enableServiceLinks")).isEqualTo(false);
        Map<String, Object> c = container();
        assertThat(get(c, "securityContext.readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(get(c, "securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(list(get(c, "securityContext.capabilities.drop"))).contains("ALL");
        // /tmp is an emptyDir: the only writable place besides /data
        String tmpVolume = mountedAt(c, "/tmp");
        assertThat(volume(tmpVolume)).containsKey("emptyDir");
        for (String kind : List.of("requests", "limits")) {
            assertThat(map(get(c, "resources." + kind))).as(kind).containsKeys("cpu", "memory");
        }
        // the shutdown timeout fits in the grace period
        int shutdownTimeout = Integer.parseInt(shipped.getProperty("camel.main.shutdownTimeout").trim());
        assertThat(((Number) get(pod, "terminationGracePeriodSeconds")).intValue()).isGreaterThan(shutdownTimeout);
    }

    @Test
    void probesAndScrapeAnnotationsUseTheApplicationsManagementPortAndHealthGroups() throws IOException {
        int management = Integer.parseInt(shipped.getProperty("camel.management.port").trim());
        Properties pod = configMapProperties();
        assertThat(Integer.parseInt(pod.getProperty("camel.management.port").trim())).isEqualTo(management);
        Map<String, Object> c = container();
        assertThat(str(c, "livenessProbe.httpGet.path")).isEqualTo("/observe/health/live");
        assertThat(str(c, "startupProbe.httpGet.path")).isEqualTo("/observe/health/live");
        // Camel's Kubernetes cluster service counts only Ready pods as members: readiness must not follow the mailboxes'
        // health, or one mailbox waiting for a sign-in would take every Lease from its pod
        assertThat(str(c, "readinessProbe.httpGet.path")).isEqualTo("/observe/health/live");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(containerPort(c, get(c, probe + ".httpGet.port"))).as(probe + " port").isEqualTo(management);
            assertThat(((Number) get(c, probe + ".timeoutSeconds")).intValue()).as(probe).isGreaterThanOrEqualTo(5);
        }
        // no flapping: a restart only after 2 minutes of failed liveness checks; start-up gets minutes, not seconds
        assertThat(seconds(c, "livenessProbe")).isGreaterThanOrEqualTo(120);
        assertThat(seconds(c, "startupProbe")).isGreaterThanOrEqualTo(120);
        assertThat(seconds(c, "readinessProbe")).isGreaterThanOrEqualTo(60);

        Map<String, Object> annotations = map(get(BY_KIND.get("Deployment"), "spec.template.metadata.annotations"));
        assertThat(annotations.get("prometheus.io/scrape")).isEqualTo("true");
        assertThat(annotations.get("prometheus.io/path")).isEqualTo("/observe/metrics");
        assertThat(annotations.get("prometheus.io/port")).isEqualTo(String.valueOf(management));
        // reachable from the kubelet and Prometheus: not loopback
        assertThat(pod.getProperty("camel.management.host").trim()).isEqualTo("0.0.0.0");
    }

    @Test
    void adminServiceIsAClusterIpOnTheAdminPort() throws IOException {
        int admin = Integer.parseInt(shipped.getProperty("mailintake.admin.port").trim());
        Properties pod = configMapProperties();
        assertThat(Integer.parseInt(pod.getProperty("mailintake.admin.port").trim())).isEqualTo(admin);
        Map<String, Object> s = BY_KIND.get("Service");
        assertThat(str(s, "spec.type")).isEqualTo("ClusterIP");
        assertThat(get(s, "spec.publishNotReadyAddresses")).isEqualTo(true);
        Map<String, Object> port = map(list(get(s, "spec.ports")).get(0));
        assertThat(((Number) port.get("port")).intValue()).isEqualTo(admin);
        assertThat(containerPort(container(), port.get("targetPort"))).isEqualTo(admin);
        Map<String, Object> podLabels = map(get(BY_KIND.get("Deployment"), "spec.template.metadata.labels"));
        assertThat(podLabels).containsAllEntriesOf(map(get(s, "spec.selector")));
        assertThat(map(get(BY_KIND.get("Deployment"), "spec.selector.matchLabels"))).isEqualTo(map(get(s, "spec.selector")));
    }

    @Test
    void volumesSecretsAndConfigFitTogether() throws IOException {
        Map<String, Object> c = container();
        // /data is the pod's own (the spool), /data/out the claim both pods write the folder targets to
        assertThat(volume(mountedAt(c, "/data"))).containsKey("emptyDir");
        assertThat(str(volume(mountedAt(c, "/data/out")), "persistentVolumeClaim.claimName"))
                .isEqualTo(str(BY_KIND.get("PersistentVolumeClaim"), "metadata.name"));
        assertThat(list(get(BY_KIND.get("PersistentVolumeClaim"), "spec.accessModes"))).containsExactly("ReadWriteMany");
        assertThat(configMapProperties().getProperty("mailintake.mailboxes.invoices.target").trim())
                .startsWith("folder:/data/out/");
        // /config is the ConfigMap: application.properties and routes/
        Map<String, Object> config = volume(mountedAt(c, "/config"));
        assertThat(str(config, "configMap.name")).isEqualTo(str(BY_KIND.get("ConfigMap"), "metadata.name"));
        Map<String, Object> data = map(BY_KIND.get("ConfigMap").get("data"));
        Map<String, String> items = new HashMap<>();
        for (Object item : list(get(config, "configMap.items"))) {
            items.put((String) map(item).get("path"), (String) map(item).get("key"));
        }
        assertThat(items).containsEntry("application.properties", "application.properties");
        assertThat(data).containsKeys(items.values().toArray(String[]::new));
        List<String> routes = items.keySet().stream().filter(p -> p.startsWith("routes/") && p.endsWith(".yaml")).toList();
        assertThat(routes).isNotEmpty();
        for (String r : routes) {
            Map<String, Object> route = map(map(list(new Load(LoadSettings.builder().build())
                    .loadFromString((String) data.get(items.get(r)))).get(0)).get("route"));
            assertThat(route).containsKeys("id", "from");
        }
        // secrets: mounted files, each referenced one exists in the Secret, placeholders only
        String secretsAt = "/run/secrets/mail-intake";
        Map<String, Object> secretVolume = volume(mountedAt(c, secretsAt));
        Map<String, Object> secret = BY_KIND.get("Secret");
        assertThat(str(secretVolume, "secret.secretName")).isEqualTo(str(secret, "metadata.name"));
        Map<String, Object> values = map(secret.get("stringData"));
        assertThat(values).containsKeys("client-secret", "store-key", "admin-password", "store-password");
        values.forEach((k, v) -> assertThat((String) v).as("a template: " + k).startsWith("REPLACE_ME"));
        List<String> files = new ArrayList<>();
        for (Object e : list(c.get("env"))) {
            String name = (String) map(e).get("name");
            if (name.endsWith("_FILE")) {
                files.add((String) map(e).get("value"));
            }
        }
        files.add(configMapProperties().getProperty("mailintake.connections.contoso.client-secret-file").trim());
        assertThat(files).hasSize(4);
        for (String f : files) {
            assertThat(f).startsWith(secretsAt + "/");
            assertThat(values).containsKey(f.substring(secretsAt.length() + 1));
        }
    }

    @Test
    void theConfigMapsApplicationPropertiesIsAValidConfigurationWithTheShippedCamelSettings() throws IOException {
        Properties pod = configMapProperties();
        for (String key : pod.stringPropertyNames()) {
            // the jar's camel.* defaults apply under the file; the pod changes only where health listens
            if (key.startsWith("camel.") && !key.equals("camel.management.host")) {
                assertThat(shipped.getProperty(key)).as(key + " is a shipped setting").isNotNull();
                assertThat(pod.getProperty(key).trim()).as(key).isEqualTo(shipped.getProperty(key).trim());
            }
        }
        assertThat(pod.getProperty("camel.main.routesIncludePattern")).as("set by Mail Intake (routes-dir)").isNull();
        Path secretFile = Files.writeString(tmp.resolve("client-secret"), "test-secret-value");
        Map<String, String> props = new TreeMap<>();
        for (String key : pod.stringPropertyNames()) {
            if (key.startsWith(ConfigLoader.PREFIX)) {
                props.put(key, pod.getProperty(key).trim());
            }
        }
        props.put("mailintake.admin.password", "from-the-secret");
        props.put("mailintake.connections.contoso.client-secret-file", secretFile.toString());
        // what the downward API gives the pod (env of the Deployment, checked below)
        props.put("mailintake.cluster.kubernetes.namespace", "mail");
        props.put("mailintake.cluster.kubernetes.pod-name", "mail-intake-7d9f8c6b5-x2x4q");
        MailIntakeConfig config = new ConfigLoader(props).load();
        assertThat(config.mailboxes()).containsKey("invoices");
        assertThat(config.dataDir()).isEqualTo(Path.of("/data"));
        assertThat(config.admin().host()).isEqualTo("0.0.0.0");
        assertThat(config.store().url()).startsWith("jdbc:postgresql://");
        assertThat(config.cluster().service()).isEqualTo(ClusterConfig.Service.KUBERNETES);
        assertThat(config.cluster().instanceId()).isEqualTo("mail-intake-7d9f8c6b5-x2x4q");
    }

    @Test
    void thePodsAreTheClusterMembersAndTheirServiceAccountMayDoWhatTheLeasesNeed() throws IOException {
        Map<String, Object> d = BY_KIND.get("Deployment");
        Map<String, Object> pod = map(get(d, "spec.template.spec"));
        // the labels Camel lists the members by are the pods' labels (the ConfigMap's value, else the default)
        Properties config = configMapProperties();
        String labels = Optional.ofNullable(config.getProperty("mailintake.cluster.kubernetes.labels")).map(String::trim)
                .orElse(ConfigSchema.find(ConfigKey.Scope.GLOBAL, "cluster.kubernetes.labels").orElseThrow().dflt());
        Map<String, String> members = new HashMap<>();
        for (String pair : labels.split(",")) {
            String[] kv = pair.trim().split("=", 2);
            members.put(kv[0], kv[1]);
        }
        Map<String, Object> podLabels = map(get(d, "spec.template.metadata.labels"));
        assertThat(podLabels).containsAllEntriesOf(members);
        assertThat(map(get(d, "spec.selector.matchLabels"))).containsAllEntriesOf(members);
        // the pod's name and namespace from the downward API
        Map<String, String> fieldRefs = new HashMap<>();
        for (Object e : list(container().get("env"))) {
            Map<String, Object> var = map(e);
            if (var.get("valueFrom") != null) {
                fieldRefs.put((String) var.get("name"), str(var, "valueFrom.fieldRef.fieldPath"));
            }
        }
        assertThat(fieldRefs).containsEntry("POD_NAME", "metadata.name")
                .containsEntry("MAILINTAKE_CLUSTER_KUBERNETES_NAMESPACE", "metadata.namespace");
        assertThat(new dev.mailintake.config.EnvironmentKeys().properties(Map.of(
                "MAILINTAKE_CLUSTER_KUBERNETES_NAMESPACE", "mail"), Set.of(), new ArrayList<>()))
                .containsEntry("mailintake.cluster.kubernetes.namespace", "mail");
        // the ServiceAccount, bound to a Role that grants what KubernetesClusterService calls
        Map<String, Object> account = BY_KIND.get("ServiceAccount");
        assertThat(pod.get("serviceAccountName")).isEqualTo(str(account, "metadata.name"));
        assertThat(pod.get("automountServiceAccountToken")).as("the token and the namespace file").isEqualTo(true);
        Map<String, Object> binding = BY_KIND.get("RoleBinding");
        Map<String, Object> role = BY_KIND.get("Role");
        assertThat(str(binding, "roleRef.kind")).isEqualTo("Role");
        assertThat(str(binding, "roleRef.name")).isEqualTo(str(role, "metadata.name"));
        Map<String, Object> subject = map(list(binding.get("subjects")).get(0));
        assertThat(subject).containsEntry("kind", "ServiceAccount").containsEntry("name", str(account, "metadata.name"));
        // NativeLeaseResourceManager: get, create, update (with the resourceVersion) a Lease; the controller: list pods
        assertThat(verbs(role, "coordination.k8s.io", "leases")).contains("get", "create", "update");
        assertThat(verbs(role, "", "pods")).contains("list").doesNotContain("create", "update", "patch", "delete");
        assertThat(verbs(role, "", "secrets")).as("no secrets").isEmpty();
    }

    /** The verbs {@code role} grants on {@code resource} of {@code apiGroup}. */
    private static Set<String> verbs(Map<String, Object> role, String apiGroup, String resource) {
        Set<String> verbs = new TreeSet<>();
        for (Object r : list(role.get("rules"))) {
            Map<String, Object> rule = map(r);
            if (list(rule.get("apiGroups")).contains(apiGroup) && list(rule.get("resources")).contains(resource)) {
                list(rule.get("verbs")).forEach(v -> verbs.add((String) v));
            }
        }
        return verbs;
    }

    // ------------------------------------------------------------------ helpers

    private static Properties configMapProperties() throws IOException {
        return properties((String) map(BY_KIND.get("ConfigMap").get("data")).get("application.properties"));
    }

    private static Properties properties(String text) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }

    private static Map<String, Object> container() {
        List<Object> containers = list(get(BY_KIND.get("Deployment"), "spec.template.spec.containers"));
        assertThat(containers).hasSize(1);
        return map(containers.get(0));
    }

    /** The name of the volume mounted at {@code path}. */
    private static String mountedAt(Map<String, Object> container, String path) {
        for (Object m : list(container.get("volumeMounts"))) {
            if (path.equals(map(m).get("mountPath"))) {
                return (String) map(m).get("name");
            }
        }
        throw new AssertionError("nothing mounted at " + path);
    }

    private static Map<String, Object> volume(String name) {
        for (Object v : list(get(BY_KIND.get("Deployment"), "spec.template.spec.volumes"))) {
            if (name.equals(map(v).get("name"))) {
                return map(v);
            }
        }
        throw new AssertionError("no volume " + name);
    }

    /** A port given by number or by the container port's name. */
    private static int containerPort(Map<String, Object> container, Object port) {
        if (port instanceof Number n) {
            return n.intValue();
        }
        for (Object p : list(container.get("ports"))) {
            if (port.equals(map(p).get("name"))) {
                return ((Number) map(p).get("containerPort")).intValue();
            }
        }
        throw new AssertionError("no container port " + port);
    }

    /** How long a probe fails before it counts: period × failureThreshold. */
    private static int seconds(Map<String, Object> container, String probe) {
        return ((Number) get(container, probe + ".periodSeconds")).intValue()
                * ((Number) get(container, probe + ".failureThreshold")).intValue();
    }

    private static Object get(Map<String, Object> m, String path) {
        Object o = m;
        for (String part : path.split("\\.")) {
            assertThat(o).as(path).isInstanceOf(Map.class);
            o = map(o).get(part);
        }
        assertThat(o).as(path).isNotNull();
        return o;
    }

    private static String str(Map<String, Object> m, String path) {
        return String.valueOf(get(m, path));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<Object>) o;
    }
}

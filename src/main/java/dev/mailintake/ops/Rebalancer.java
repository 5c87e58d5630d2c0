package dev.mailintake.ops;

import dev.mailintake.store.Instances;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evens out the mailboxes among the instances of a cluster. Camel's file-lock and ZooKeeper cluster services give a
 * namespace to the instance that asks first and keep it there, so the instance that started first — or stayed up
 * while the other one restarted — would own every mailbox. Each round this instance compares what it owns with the
 * others' heartbeats: owning more than its share ({@code ceil(mailboxes / instances)}) while another instance owns
 * less than its own, it hands the surplus over. It stops an idle mailbox's route (Camel's master consumer then
 * releases the namespace, and the instance next in ZooKeeper's line leads it at once), and starts it again a round
 * later, at the end of the line. A handover is a failover without the wait: the ledger's claims keep it
 * exactly-once. One wave at a time, each instance deciding only about what it owns; a peer counts from its second
 * round, when its routes (its places in the lines) have started.
 */
final class Rebalancer {
    private static final Logger LOG = LoggerFactory.getLogger(Rebalancer.class);
    /** At most this many mailboxes handed over per round (a route stops in milliseconds between polls). */
    private static final int MAX_PER_ROUND = 50;

    private final CamelContext camel;
    private final String clusterService;
    /** Mailbox namespace → its route's id. */
    private final Map<String, String> routes;
    /** Handed over in the last round, to start again in this one. Only the rebalancing thread touches it. */
    private final Set<String> handingOver = new java.util.LinkedHashSet<>();
    /** The instances seen in the previous round: a peer counts from its second round (its routes have started). */
    private Set<String> seenBefore = Set.of();

    Rebalancer(CamelContext camel, String clusterService, Map<String, String> routes) {
        this.camel = camel;
        this.clusterService = clusterService;
        this.routes = Map.copyOf(routes);
    }

    /**
     * One round.
     *
     * @param owned  the namespaces this instance leads now
     * @param others the other live instances' last heartbeats
     */
    void round(Set<String> owned, List<Instances.Instance> others) {
        if (!handingOver.isEmpty()) {
            // a round later: the instance standing by has had the mailbox since this one left its election (ZooKeeper
            // queues the candidates: the next in line leads as soon as the leader's node is gone); this instance joins
            // it again, at the end of the line. Then a round without a decision, for the heartbeats to catch up
            handingOver.forEach(ns -> start(ns, others.stream().anyMatch(o -> o.owns().contains(ns))));
            handingOver.clear();
            return;
        }
        List<Instances.Instance> peers = others.stream().filter(o -> o.clusterService().equals(clusterService)
                && seenBefore.contains(o.id())).toList();
        seenBefore = others.stream().map(Instances.Instance::id).collect(java.util.stream.Collectors.toSet());
        if (peers.isEmpty()) {
            return;
        }
        int total = routes.size();
        int instances = peers.size() + 1;
        int share = (total + instances - 1) / instances;
        Set<String> mine = new HashSet<>(owned);
        mine.retainAll(routes.keySet());
        int surplus = mine.size() - share;
        int deficit = peers.stream().mapToInt(p -> Math.max(0, total / instances
                - (int) p.owns().stream().filter(routes::containsKey).count())).sum();
        int handOver = Math.min(Math.min(surplus, deficit), MAX_PER_ROUND);
        if (handOver <= 0) {
            return;
        }
        LOG.info("this instance owns {} of {} mailboxes with {} instances running (share {}): handing {} over",
                mine.size(), total, instances, share, handOver);
        mine.stream().sorted(Comparator.reverseOrder())
                .filter(ns -> camel.getInflightRepository().size(routes.get(ns)) == 0)
                .limit(handOver)
                .forEach(this::stop);
    }

    private void stop(String namespace) {
        String route = routes.get(namespace);
        try {
            camel.getRouteController().stopRoute(route, 10, TimeUnit.SECONDS);
            handingOver.add(namespace);
        } catch (Exception e) {
            LOG.warn("cannot hand {} over: {}", namespace, e.getMessage());
            start(namespace, false);
        }
    }

    private void start(String namespace, boolean seen) {
        String route = routes.get(namespace);
        try {
            camel.getRouteController().startRoute(route);
            LOG.info("{} handed over{}; this instance stands by for it again", namespace, seen
                    ? " (the other instance's heartbeat shows it)" : "");
        } catch (Exception e) {
            LOG.warn("cannot start the route {} again: {}", route, e.getMessage());
        }
    }
}

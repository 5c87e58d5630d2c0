package dev.mailintake.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.auth.Credential;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenService;
import dev.mailintake.intake.Mailbox;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.store.Grant;
import dev.mailintake.store.GrantState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code alerts} route's work: which connections, credentials and mailboxes need a person now, compared with
 * what was last notified, so that each state change is notified once (a new condition, or another one) and each
 * recovery once. An alert counts as notified only after the route delivered it ({@link #notified}); one the endpoint
 * refused is sent again at the next check.
 */
public final class AlertWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(AlertWatcher.class);

    /** What is sent: FIRING or RESOLVED, about a connection, credential or mailbox. */
    public record Alert(String state, String subject, String name, String condition, String reason, String at,
                        String fix) {
        String key() {
            return subject + ":" + name;
        }
    }

    private record Condition(String subject, String name, String condition, String reason) {
        String key() {
            return subject + ":" + name;
        }
    }

    private final Mailboxes mailboxes;
    private final Map<String, DelegatedGrant> delegated;
    private final Map<String, Credential> credentials;
    private final TokenService tokens;
    private final int stallPolls;
    private final String endpoint;
    private final String statusPage;
    private final Clock clock;
    private final Cluster cluster;
    private volatile Instant started;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Alert> firing = new ConcurrentHashMap<>();

    public AlertWatcher(Mailboxes mailboxes, Map<String, DelegatedGrant> delegated, Map<String, Credential> credentials,
                        TokenService tokens, int stallPolls, Optional<String> endpoint, String statusPage,
                        Clock clock, Cluster cluster) {
        this.cluster = cluster;
        this.mailboxes = mailboxes;
        this.delegated = Map.copyOf(delegated);
        this.credentials = Map.copyOf(credentials);
        this.tokens = tokens;
        this.stallPolls = stallPolls;
        this.endpoint = endpoint.orElse("log:dev.mailintake.alerts.sent?level=DEBUG");
        this.statusPage = statusPage;
        this.clock = clock;
    }

    /** The alerts to send now: conditions that began or changed, and those that ended, since the last notification. */
    public List<Alert> changes() {
        if (started == null) {
            started = clock.instant(); // the first check: the routes run
        }
        Map<String, Condition> now = new LinkedHashMap<>();
        conditions().forEach(c -> now.put(c.key(), c));
        String at = clock.instant().toString();
        List<Alert> out = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>(now.keySet());
        keys.addAll(firing.keySet());
        for (String key : keys) {
            Condition c = now.get(key);
            Alert before = firing.get(key);
            if (c != null && (before == null || !before.condition().equals(c.condition()))) {
                out.add(new Alert("FIRING", c.subject(), c.name(), c.condition(), c.reason(), at, statusPage));
            } else if (c == null && before != null) {
                out.add(new Alert("RESOLVED", before.subject(), before.name(), before.condition(),
                        "no longer: " + before.reason(), at, statusPage));
            }
        }
        return out;
    }

    /** Where alerts go: the configured endpoint, or else a log endpoint (the alerts are logged here anyway). */
    public String endpoint() {
        return endpoint;
    }

    /** The alert as JSON, the body sent to the endpoint. */
    public String payload(Alert alert) {
        try {
            return json.writeValueAsString(alert);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The endpoint took the alert: it is not sent again until the condition changes or ends. */
    public void notified(Alert alert) {
        if (alert.state().equals("FIRING")) {
            firing.put(alert.key(), alert);
            LOG.warn("alert {} {} '{}': {} — {}", alert.state(), alert.subject(), alert.name(), alert.condition(),
                    alert.reason());
        } else {
            firing.remove(alert.key());
            LOG.info("alert {} {} '{}': {}", alert.state(), alert.subject(), alert.name(), alert.condition());
        }
    }

    private List<Condition> conditions() {
        List<Condition> out = new ArrayList<>();
        credentials.values().forEach(c -> credential(c).ifPresent(out::add));
        delegated.forEach((name, g) -> connection(name, g).ifPresent(out::add));
        tokens.problemConnections().stream().filter(name -> !delegated.containsKey(name))
                .forEach(name -> tokens.problem(name).ifPresent(p -> out.add(new Condition("connection", name,
                        p.kind().name().toLowerCase().replace('_', '-'), p.getMessage()))));
        mailboxes.all().forEach(mb -> mailbox(mb).ifPresent(out::add));
        return out;
    }

    private Optional<Condition> credential(Credential c) {
        return c.left(clock).filter(l -> l.compareTo(Credential.WARN) <= 0).map(l -> new Condition("credential",
                c.connection(), l.isNegative() ? "expired" : l.compareTo(Credential.URGENT) <= 0
                ? "expires-within-7-days" : "expires-within-30-days", c.warning(clock).orElseThrow()));
    }

    private Optional<Condition> connection(String name, DelegatedGrant g) {
        Optional<Grant> grant = g.grant();
        if (grant.isPresent() && grant.get().state() != GrantState.AUTHORIZED) {
            return Optional.of(new Condition("connection", name,
                    grant.get().state().name().toLowerCase().replace('_', '-'),
                    grant.get().reason().orElse(grant.get().state().name())));
        }
        return tokens.problem(name).map(p -> new Condition("connection", name,
                p.kind().name().toLowerCase().replace('_', '-'), p.getMessage()));
    }

    private Optional<Condition> mailbox(Mailbox mb) {
        MailboxStatus s = mb.status();
        String name = mb.name();
        if (!cluster.owns("mailbox-" + name)) {
            return Optional.empty(); // its owner watches it
        }
        switch (s.state()) {
            case FAILED -> {
                return Optional.of(new Condition("mailbox", name, "stopped", s.reason().orElse("stopped")));
            }
            case PAUSED -> {
                return Optional.of(new Condition("mailbox", name, "paused", s.reason().orElse("paused")));
            }
            case DISABLED -> {
                return Optional.empty();
            }
            default -> {
            }
        }
        if (s.failedPolls() >= MailboxHealthCheck.FAILED_POLLS_DOWN) {
            return Optional.of(new Condition("mailbox", name, "polls-failing", "the last " + s.failedPolls()
                    + " polls failed: " + s.lastPollError().orElse("?")));
        }
        Duration interval = mb.config().poll().interval();
        if (mb.config().poll().cron().isEmpty() && !interval.isZero()) {
            Instant active = latest(started, s.lastPoll(), s.lastDelivery());
            Duration quiet = Duration.between(active, clock.instant());
            // the poll under way gets one interval more; a first poll (token, folders) twice that
            Duration allowed = interval.multipliedBy(stallPolls + 1L)
                    .multipliedBy(s.lastPoll().isPresent() ? 1 : 2);
            if (quiet.compareTo(allowed) > 0) {
                return Optional.of(new Condition("mailbox", name, "stalled", "no poll has completed and nothing was"
                        + " delivered for " + quiet.toSeconds() + " s (it polls every " + interval.toSeconds() + " s)"));
            }
        }
        return Optional.empty();
    }

    @SafeVarargs
    private static Instant latest(Instant floor, Optional<Instant>... times) {
        Instant t = floor;
        for (Optional<Instant> o : times) {
            if (o.isPresent() && o.get().isAfter(t)) {
                t = o.get();
            }
        }
        return t;
    }
}

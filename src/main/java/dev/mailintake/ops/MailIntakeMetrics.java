package dev.mailintake.ops;

import dev.mailintake.auth.Credential;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenService;
import dev.mailintake.intake.Mailbox;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.store.GrantState;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;

/**
 * Prometheus meters (on Camel's Micrometer registry, served at {@code /observe/metrics}): per mailbox the messages
 * imported, moved to Error and postponed, whether it runs and when it last polled; per delegated connection whether it
 * is authorized; per connection whether a person must act. Registered once Camel has started and its registry exists.
 */
public final class MailIntakeMetrics implements StartupListener {
    private final Mailboxes mailboxes;
    private final Collection<String> connections;
    private final Collection<DelegatedGrant> delegated;
    private final TokenService tokens;
    private final Collection<Credential> credentials;
    private final Clock clock;
    private final Cluster cluster;

    public MailIntakeMetrics(Mailboxes mailboxes, Collection<String> connections, Collection<DelegatedGrant> delegated,
                             TokenService tokens, Collection<Credential> credentials, Clock clock, Cluster cluster) {
        this.cluster = cluster;
        this.mailboxes = mailboxes;
        this.connections = connections;
        this.delegated = delegated;
        this.tokens = tokens;
        this.credentials = List.copyOf(credentials);
        this.clock = clock;
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        MeterRegistry registry = context.getRegistry().findSingleByType(MeterRegistry.class);
        if (registry == null) {
            return;
        }
        for (Mailbox mb : mailboxes.all()) {
            MailboxStatus s = mb.status();
            FunctionCounter.builder("mailintake.messages.imported", s, MailboxStatus::importedCount)
                    .description("Messages delivered and moved to Processed").tag("mailbox", mb.name()).register(registry);
            FunctionCounter.builder("mailintake.messages.errors", s, MailboxStatus::errorCount)
                    .description("Messages moved to Error").tag("mailbox", mb.name()).register(registry);
            FunctionCounter.builder("mailintake.messages.postponed", s, MailboxStatus::postponedCount)
                    .description("Messages left in place after a transient failure").tag("mailbox", mb.name())
                    .register(registry);
            Gauge.builder("mailintake.mailbox.up", s, st -> st.state() == MailboxStatus.State.FAILED
                            || st.state() == MailboxStatus.State.PAUSED || st.state() == MailboxStatus.State.DISABLED ? 0 : 1)
                    .description("1 while the mailbox is polled, 0 when stopped, paused or disabled")
                    .tag("mailbox", mb.name()).register(registry);
            Gauge.builder("mailintake.mailbox.owned", cluster, c -> c.owns("mailbox-" + mb.name()) ? 1 : 0)
                    .description("1 while this instance owns (polls) the mailbox; with a cluster service another"
                            + " instance may own it").tag("mailbox", mb.name()).register(registry);
            Gauge.builder("mailintake.mailbox.last.poll", s, st -> st.lastPoll().map(t -> t.toEpochMilli() / 1000.0).orElse(0.0))
                    .description("Unix time of the last poll").baseUnit("seconds").tag("mailbox", mb.name()).register(registry);
        }
        for (DelegatedGrant g : delegated) {
            Gauge.builder("mailintake.connection.authorized", g, c -> c.grant()
                            .filter(grant -> grant.state() == GrantState.AUTHORIZED).isPresent()
                            && tokens.problem(c.connectionName()).isEmpty() ? 1 : 0)
                    .description("1 while the delegated connection is authorized and its last token request succeeded")
                    .tag("connection", g.connectionName()).register(registry);
        }
        for (Credential c : credentials) {
            if (c.expiresAt().isPresent()) {
                Gauge.builder("mailintake.credential.expiry", c, cr -> cr.left(clock).orElseThrow().toSeconds())
                        .description("Seconds until the connection's client secret or certificate expires (negative"
                                + " once expired)").baseUnit("seconds").tag("connection", c.connection())
                        .tag("credential", c.kind()).register(registry);
            }
        }
        for (String c : connections) {
            Gauge.builder("mailintake.connection.problem", tokens, t -> t.problem(c).isPresent() ? 1 : 0)
                    .description("1 while the connection's last token request said a person must act (re-authorize,"
                            + " or fix the app registration or its credentials)")
                    .tag("connection", c).register(registry);
        }
    }
}

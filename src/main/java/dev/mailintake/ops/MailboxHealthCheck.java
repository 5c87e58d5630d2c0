package dev.mailintake.ops;

import dev.mailintake.intake.MailboxStatus;
import java.util.Map;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * {@code /observe/health}: one check per mailbox. UP only once the mailbox has completed a poll (or is disabled on
 * purpose); DOWN with the reason while it has stopped or is paused, before its first poll has completed, and after
 * {@value #FAILED_POLLS_DOWN} polls in a row could not list the Inbox (cannot connect, TLS, a Graph error), with the
 * last error and its fix.
 */
public final class MailboxHealthCheck extends AbstractHealthCheck {
    /** Failed polls in a row after which a running mailbox is reported DOWN. */
    public static final int FAILED_POLLS_DOWN = 3;

    private final MailboxStatus status;
    private final Cluster cluster;

    public MailboxHealthCheck(MailboxStatus status, Cluster cluster) {
        super("mailintake", "mailbox-" + status.mailbox());
        this.status = status;
        this.cluster = cluster;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("mailbox", status.mailbox());
        builder.detail("state", status.state().name());
        status.reason().ifPresent(r -> builder.detail("reason", r));
        status.lastPoll().ifPresent(t -> builder.detail("last.poll", t.toString()));
        builder.detail("failed.polls.in.a.row", status.failedPolls());
        status.lastPollError().ifPresent(e -> builder.detail("last.poll.error", e));
        builder.detail("imported", status.importedCount());
        builder.detail("errors", status.errorCount());
        builder.detail("postponed", status.postponedCount());
        String namespace = "mailbox-" + status.mailbox();
        if (cluster.clustered()) {
            builder.detail("owner", cluster.owner(namespace).orElse("none yet"));
            if (!cluster.owns(namespace)) {
                builder.message("owned by " + cluster.owner(namespace).orElse("no instance yet")
                        + "; this instance stands by");
                builder.up();
                return;
            }
        }
        switch (status.state()) {
            case FAILED, PAUSED -> {
                builder.message(status.reason().orElse(status.state().name().toLowerCase()));
                builder.down();
            }
            case STARTING -> {
                builder.message("no poll has completed yet" + status.lastPollError().map(e -> "; last attempt: " + e)
                        .orElse(""));
                builder.down();
            }
            case RUNNING -> {
                if (status.failedPolls() >= FAILED_POLLS_DOWN) {
                    builder.message("the last " + status.failedPolls() + " polls failed: "
                            + status.lastPollError().orElse("?"));
                    builder.down();
                } else {
                    builder.up();
                }
            }
            case DISABLED -> builder.up();
        }
    }
}

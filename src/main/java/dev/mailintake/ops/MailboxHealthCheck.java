package dev.mailintake.ops;

import dev.mailintake.intake.MailboxStatus;
import java.util.Map;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** {@code /observe/health}: one check per mailbox, DOWN with the reason when the mailbox has stopped. */
public final class MailboxHealthCheck extends AbstractHealthCheck {
    private final MailboxStatus status;

    public MailboxHealthCheck(MailboxStatus status) {
        super("mailintake", "mailbox-" + status.mailbox());
        this.status = status;
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
        builder.detail("imported", status.importedCount());
        builder.detail("errors", status.errorCount());
        builder.detail("postponed", status.postponedCount());
        if (status.state() == MailboxStatus.State.FAILED || status.state() == MailboxStatus.State.PAUSED) {
            builder.message(status.reason().orElse("failed"));
            builder.down();
        } else {
            builder.up();
        }
    }
}

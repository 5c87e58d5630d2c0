package dev.mailintake.intake;

import dev.mailintake.config.MailboxConfig;

/** One configured mailbox with its protocol gateway, target and status. */
public record Mailbox(MailboxConfig config, MailboxGateway gateway, MessageTarget target, MailboxStatus status,
                      String routeId) {
    public String name() {
        return config.name();
    }
}

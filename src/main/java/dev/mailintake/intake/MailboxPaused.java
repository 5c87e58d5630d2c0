package dev.mailintake.intake;

/**
 * The mailbox cannot be read until its connection is authorized again (a delegated grant was revoked, expired or no
 * longer matches the configuration). The mailbox keeps its schedule and resumes by itself after the sign-in.
 */
public class MailboxPaused extends RuntimeException {
    public MailboxPaused(String message, Throwable cause) {
        super(message, cause);
    }
}

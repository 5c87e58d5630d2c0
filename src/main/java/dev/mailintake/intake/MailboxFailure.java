package dev.mailintake.intake;

/**
 * The mailbox as a whole cannot be served until someone fixes something (an ambiguous folder, no access to the
 * mailbox, rejected credentials). The mailbox is stopped with this message; other mailboxes go on.
 */
public class MailboxFailure extends RuntimeException {
    public MailboxFailure(String message) {
        super(message);
    }

    public MailboxFailure(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.mailintake.intake;

/**
 * Thrown by a user's delivery route (or set as header {@value #HEADER}) to refuse a message for good: it is moved to
 * the Error folder with {@link #reason()} recorded, and not delivered. In YAML:
 * <pre>
 * - throwException:
 *     exceptionType: dev.mailintake.intake.RejectMessage
 *     message: "sender not allowed"
 * </pre>
 * Any other exception means "target unavailable": the delivery is retried, then the message is left in the Inbox.
 */
public class RejectMessage extends RuntimeException {
    /** The header a route may set instead of throwing: {@code MailIntakeReject=<reason>}. */
    public static final String HEADER = "MailIntakeReject";

    public RejectMessage(String reason) {
        super(reason);
    }

    /** The reason as shown to people (the Error folder's mark, the ledger, the log). */
    public String reason() {
        return getMessage();
    }
}

package dev.mailintake.intake;

/**
 * A message that can never be imported as it is: a rule is violated, its MIME cannot be parsed, or its delivery keeps
 * failing while other messages get through. The message is moved to the Error folder with {@link #reason()} recorded.
 */
public class PermanentMessageFailure extends RuntimeException {
    private final String reason;

    /**
     * @param reason short, stable reason shown to users, e.g. {@code no attachment} (becomes the category
     *               {@code Mail Intake: no attachment})
     * @param detail longer explanation for the log and the ledger
     */
    public PermanentMessageFailure(String reason, String detail) {
        super(reason + ": " + detail);
        this.reason = reason;
    }

    public PermanentMessageFailure(String reason, String detail, Throwable cause) {
        super(reason + ": " + detail, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}

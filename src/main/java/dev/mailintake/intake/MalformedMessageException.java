package dev.mailintake.intake;

/** The raw MIME of a message cannot be parsed at all. */
public class MalformedMessageException extends PermanentMessageFailure {
    public static final String REASON = "malformed MIME";

    public MalformedMessageException(String detail) {
        super(REASON, detail);
    }

    public MalformedMessageException(String detail, Throwable cause) {
        super(REASON, detail, cause);
    }
}

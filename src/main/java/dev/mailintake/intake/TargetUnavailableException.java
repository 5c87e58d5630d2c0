package dev.mailintake.intake;

/** The target endpoint refused or failed a delivery; retried with backoff, the message stays in the Inbox. */
public class TargetUnavailableException extends TransientFailure {
    public TargetUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

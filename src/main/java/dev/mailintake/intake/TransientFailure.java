package dev.mailintake.intake;

/**
 * A failure that will pass (throttling, 503/504, network, target or token endpoint down): the message stays where it
 * is and the next attempt or poll tries again.
 */
public class TransientFailure extends RuntimeException {
    public TransientFailure(String message, Throwable cause) {
        super(message, cause);
    }

    public TransientFailure(String message) {
        super(message);
    }
}

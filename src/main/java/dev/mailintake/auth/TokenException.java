package dev.mailintake.auth;

/** A token could not be obtained; {@link #kind()} tells what has to happen next. The message never holds a secret. */
public class TokenException extends RuntimeException {
    /** What the failure means for the connection. */
    public enum Kind {
        /** Provider or network unavailable: retry with backoff. */
        TRANSIENT,
        /** The grant was revoked or expired: someone must authorize again. */
        REAUTHORIZATION_REQUIRED,
        /** The app registration or its credentials are wrong (e.g. secret expired): an admin must fix it. */
        ADMIN_MUST_FIX
    }

    private final String connection;
    private final Kind kind;

    public TokenException(String connection, Kind kind, String message, Throwable cause) {
        super("connection '" + connection + "': " + message, cause);
        this.connection = connection;
        this.kind = kind;
    }

    public String connection() {
        return connection;
    }

    public Kind kind() {
        return kind;
    }
}

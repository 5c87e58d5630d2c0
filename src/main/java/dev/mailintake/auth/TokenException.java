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

    /** @param message what went wrong; {@code connection '<name>': } is put in front unless it is there already */
    public TokenException(String connection, Kind kind, String message, Throwable cause) {
        super(prefixed(connection, message), cause);
        this.connection = connection;
        this.kind = kind;
    }

    private static String prefixed(String connection, String message) {
        String prefix = "connection '" + connection + "': ";
        return message != null && message.startsWith(prefix) ? message : prefix + message;
    }

    /** The message without the connection's name in front (for places that already name the connection). */
    public String reason() {
        String prefix = "connection '" + connection + "': ";
        String m = getMessage();
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    public String connection() {
        return connection;
    }

    public Kind kind() {
        return kind;
    }
}

package dev.mailintake.intake;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.TokenException;
import dev.mailintake.auth.TokenService;

/**
 * A mailbox's view of its connection's tokens, for every protocol: token failures become what the import routes act
 * on (transient → the message waits, re-authorization → the mailbox pauses, anything else → the mailbox stops).
 */
public final class MailboxTokens {
    private final String mailbox;
    private final String connection;
    private final TokenService tokens;

    public MailboxTokens(String mailbox, String connection, TokenService tokens) {
        this.mailbox = mailbox;
        this.connection = connection;
        this.tokens = tokens;
    }

    public String connection() {
        return connection;
    }

    /** A token valid for at least the service's margin. */
    public AccessToken token() {
        try {
            return tokens.token(connection);
        } catch (TokenException e) {
            throw failure(e);
        }
    }

    /** A new token after the server refused {@code rejected}. */
    public AccessToken renew(AccessToken rejected) {
        try {
            return tokens.renew(connection, rejected);
        } catch (TokenException e) {
            throw failure(e);
        }
    }

    private RuntimeException failure(TokenException e) {
        return switch (e.kind()) {
            case TRANSIENT -> new TransientFailure(e.getMessage(), e);
            case REAUTHORIZATION_REQUIRED -> new MailboxPaused("mailbox '" + mailbox + "': " + e.getMessage(), e);
            case ADMIN_MUST_FIX -> new MailboxFailure("mailbox '" + mailbox + "': " + e.getMessage(), e);
        };
    }
}

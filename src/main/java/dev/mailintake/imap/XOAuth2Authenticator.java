package dev.mailintake.imap;

import dev.mailintake.auth.AccessToken;
import jakarta.mail.PasswordAuthentication;
import java.util.function.Supplier;
import org.apache.camel.component.mail.MailAuthenticator;

/**
 * Hands Angus Mail the XOAUTH2 credentials at connect time: the {@code user=} of the SASL string (the mailbox address,
 * also for a shared mailbox) and a fresh access token from the token service as the "password". Remembers the token
 * it handed out, so a refused token can be renewed.
 */
final class XOAuth2Authenticator extends MailAuthenticator {
    private final String user;
    private final Supplier<AccessToken> tokens;
    private volatile AccessToken handedOut;

    XOAuth2Authenticator(String user, Supplier<AccessToken> tokens) {
        this.user = user;
        this.tokens = tokens;
    }

    @Override
    public PasswordAuthentication getPasswordAuthentication() {
        AccessToken token = tokens.get();
        handedOut = token;
        return new PasswordAuthentication(user, token.value());
    }

    /** The token handed out at the last connect, or null. */
    AccessToken handedOut() {
        return handedOut;
    }
}

package dev.mailintake.imap;

import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.util.Locale;
import java.util.stream.Collectors;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;

/**
 * An IMAP store that signs in with SASL XOAUTH2 or not at all. Angus Mail, asked for XOAUTH2 by a server that does not
 * advertise it, silently falls back to {@code LOGIN} with the access token as the password; this store refuses before
 * any credential is sent. TLS is chosen by {@code mail.imap.ssl.enable} / {@code mail.imap.starttls.required}.
 */
public final class XOAuth2ImapStore extends IMAPStore {
    public XOAuth2ImapStore(Session session, URLName url) {
        super(session, url, "imap", false);
    }

    @Override
    protected void preLogin(IMAPProtocol p) throws ProtocolException {
        if (!p.hasCapability("AUTH=XOAUTH2")) {
            String offered = p.getCapabilities().keySet().stream()
                    .filter(c -> c.toUpperCase(Locale.ROOT).startsWith("AUTH=") || c.equalsIgnoreCase("LOGINDISABLED"))
                    .sorted().collect(Collectors.joining(" "));
            throw new NoXOAuth2Exception(offered.isEmpty() ? "only LOGIN" : offered);
        }
    }

    /** The server does not offer {@code AUTH=XOAUTH2}; nothing was sent. */
    static final class NoXOAuth2Exception extends ProtocolException {
        private final String offered;

        NoXOAuth2Exception(String offered) {
            super("the server does not offer AUTH=XOAUTH2 (it offers " + offered + ")");
            this.offered = offered;
        }

        String offered() {
            return offered;
        }
    }
}

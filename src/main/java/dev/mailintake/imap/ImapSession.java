package dev.mailintake.imap;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.TrustStores;
import dev.mailintake.config.ImapServer;
import dev.mailintake.config.Secret;
import dev.mailintake.intake.MailboxFailure;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.TransientFailure;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of a mailbox's IMAP connections for the length of a poll: connects with XOAUTH2 (a token from the token
 * service at every connect, one renewal if the server refuses it), keeps the Inbox open READ_WRITE, reconnects after
 * a dropped connection, and closes the Inbox without expunging anything.
 */
final class ImapSession {
    private static final Logger LOG = LoggerFactory.getLogger(ImapSession.class);

    private static final String PERMISSIONS = "App-only access needs the IMAP.AccessAsApp permission, the Exchange"
            + " service principal and Add-MailboxPermission for this mailbox; delegated access needs"
            + " IMAP.AccessAsUser.All and, for a shared mailbox, Full Access of the signed-in user (docs/imap.md)";

    private final String mailbox;
    private final ImapServer server;
    private final MailboxTokens tokens;
    private final SSLSocketFactory tls;
    private IMAPStore store;
    private IMAPFolder inbox;
    private Set<String> capabilities = Set.of();

    /**
     * @param tls the socket factory of the server's trust store ({@link #tls(ImapServer)}, made once per mailbox and
     *            shared by its connections), or null for the JVM's default trust
     */
    ImapSession(String mailbox, ImapServer server, MailboxTokens tokens, SSLSocketFactory tls) {
        this.mailbox = mailbox;
        this.server = server;
        this.tokens = tokens;
        this.tls = tls;
    }

    /**
     * The TLS socket factory of the server's own trust store, or null without one. Reading a PKCS#12 store derives its
     * integrity key (PBKDF2, 10,000 rounds): ~60 ms of CPU each time in a fresh JVM, so a mailbox reads it once, not
     * once per connection.
     */
    static SSLSocketFactory tls(ImapServer server) {
        return server.trustStore()
                .map(t -> TrustStores.socketFactory(t, server.trustStorePassword().map(Secret::value).orElse("")))
                .orElse(null);
    }

    /** The connected store, connecting first if needed. */
    synchronized IMAPStore store() {
        if (store == null || !store.isConnected()) {
            if (store != null) {
                close(); // a dropped connection: release what is left of it before connecting again
            }
            store = connect();
            Set<String> caps = new HashSet<>();
            for (String c : List.of("MOVE", "UIDPLUS")) {
                try {
                    if (store.hasCapability(c)) {
                        caps.add(c);
                    }
                } catch (MessagingException e) {
                    throw new TransientFailure(where() + ": " + e.getMessage());
                }
            }
            capabilities = caps;
        }
        return store;
    }

    /** The Inbox, open READ_WRITE (opened first if needed). */
    synchronized IMAPFolder inbox(String fullName) {
        if (inbox != null && inbox.isOpen()) {
            return inbox;
        }
        try {
            IMAPFolder folder = (IMAPFolder) store().getFolder(fullName);
            folder.open(Folder.READ_WRITE);
            inbox = folder;
            return folder;
        } catch (MessagingException e) {
            throw failure("cannot open " + fullName, e);
        }
    }

    /**
     * A failed command as the import routes see it: Exchange Online answers {@code BAD User is authenticated but not
     * connected} when the token is valid but does not give access to the mailbox — a permission to fix, not a
     * passing failure; anything else is transient.
     */
    RuntimeException failure(String what, MessagingException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("authenticated but not connected")) {
            return new MailboxFailure("mailbox '" + mailbox + "': " + where() + " accepted the token for "
                    + server.user() + " but does not let it open the mailbox (" + message + "). " + PERMISSIONS);
        }
        return new TransientFailure(where() + ": " + what + ": " + message);
    }

    /** Whether the server advertised {@code capability} (after authentication); no round trip. */
    synchronized boolean hasCapability(String capability) {
        return capabilities.contains(capability.toUpperCase(Locale.ROOT));
    }

    /** Closes the Inbox without expunging (UNSELECT, or EXAMINE + CLOSE) and logs out. */
    synchronized void close() {
        try {
            if (inbox != null && inbox.isOpen()) {
                inbox.close(false);
            }
        } catch (MessagingException | IllegalStateException e) {
            LOG.debug("mailbox '{}': closing the Inbox: {}", mailbox, e.getMessage());
        }
        inbox = null;
        try {
            if (store != null) {
                store.close();
            }
        } catch (MessagingException e) {
            LOG.debug("mailbox '{}': logging out: {}", mailbox, e.getMessage());
        }
        store = null;
    }

    private IMAPStore connect() {
        XOAuth2Authenticator auth = new XOAuth2Authenticator(server.user(), tokens::token);
        try {
            return connect(auth);
        } catch (AuthenticationFailedException refused) {
            AccessToken rejected = auth.handedOut();
            LOG.info("mailbox '{}': {} refused the access token ({}); getting a fresh token and trying once more",
                    mailbox, where(), refused.getMessage());
            XOAuth2Authenticator again = new XOAuth2Authenticator(server.user(),
                    () -> rejected == null ? tokens.token() : tokens.renew(rejected));
            try {
                return connect(again);
            } catch (AuthenticationFailedException e) {
                throw new MailboxFailure("mailbox '" + mailbox + "': " + where() + " refused a freshly issued token for "
                        + server.user() + " (" + e.getMessage() + "). " + PERMISSIONS);
            }
        }
    }

    private IMAPStore connect(XOAuth2Authenticator auth) throws AuthenticationFailedException {
        // a new Session per connect: a Session remembers the credentials of its first connect
        Session session = Session.getInstance(properties(), auth);
        if (ImapProtocolTrace.enabled()) {
            session.setDebugOut(ImapProtocolTrace.forMailbox(mailbox));
            session.setDebug(true);
        }
        XOAuth2ImapStore s = new XOAuth2ImapStore(session,
                new URLName("imap", server.host(), server.port(), null, server.user(), null));
        try {
            s.connect(server.host(), server.port(), server.user(), null);
            LOG.debug("mailbox '{}': connected to {} as {} with XOAUTH2", mailbox, where(), server.user());
            return s;
        } catch (AuthenticationFailedException e) {
            throw e;
        } catch (MessagingException e) {
            if (e.getCause() instanceof XOAuth2ImapStore.NoXOAuth2Exception no) {
                throw new MailboxFailure("mailbox '" + mailbox + "': " + where() + " does not offer SASL XOAUTH2"
                        + " (it offers " + no.offered() + "); Mail Intake signs in with OAuth2 only and never sends the"
                        + " token as a password. Check imap.host and imap.security (Microsoft 365:"
                        + " outlook.office365.com, ssl, port 993)");
            }
            throw new TransientFailure(where() + ": cannot connect: " + describe(e) + fix(e));
        }
    }

    /** What to check for the usual reasons a connection cannot be made (TLS settings, trust, host and port). */
    private String fix(MessagingException e) {
        StringBuilder chain = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            chain.append(' ').append(t.getClass().getName()).append(": ").append(t.getMessage());
        }
        String all = chain.toString();
        if (all.contains("PKIX") || all.contains("CertPath") || all.contains("certification path")) {
            return "; the server's certificate is not trusted: give its CA certificate in imap.trust-store (PKCS#12)";
        }
        if (all.contains("subject alternative") || all.contains("No name matching") || all.contains("server identity")) {
            return "; the certificate does not name " + server.host() + ": set imap.host to the name it is issued for";
        }
        if (all.contains("SSLException") || all.contains("SSLHandshakeException") || all.contains("plaintext")) {
            return "; TLS failed: check imap.security and imap.port (ssl is TLS from the start, usually port 993;"
                    + " starttls upgrades a plain connection, usually port 143)";
        }
        if (all.contains("UnknownHostException")) {
            return "; the host name does not resolve: check imap.host";
        }
        if (all.contains("ConnectException") || all.contains("SocketTimeoutException")) {
            return "; nothing answers at " + server.host() + ":" + server.port()
                    + ": check imap.host, imap.port and firewalls (imap.timeout sets the wait)";
        }
        return "";
    }

    private Properties properties() {
        Properties p = new Properties();
        p.setProperty("mail.imap.host", server.host());
        p.setProperty("mail.imap.port", Integer.toString(server.port()));
        switch (server.security()) {
            case SSL -> {
                p.setProperty("mail.imap.ssl.enable", "true");
                p.setProperty("mail.imap.ssl.checkserveridentity", "true");
            }
            case STARTTLS -> {
                p.setProperty("mail.imap.starttls.enable", "true");
                p.setProperty("mail.imap.starttls.required", "true");
                p.setProperty("mail.imap.ssl.checkserveridentity", "true");
            }
            case NONE -> {
            }
        }
        if (tls != null) {
            p.put("mail.imap.ssl.socketFactory", tls);
        }
        p.setProperty("mail.imap.auth.mechanisms", "XOAUTH2");
        p.setProperty("mail.imap.sasl.enable", "false");
        p.setProperty("mail.imap.auth.login.disable", "true");
        p.setProperty("mail.imap.auth.plain.disable", "true");
        p.setProperty("mail.imap.auth.ntlm.disable", "true");
        String timeout = Long.toString(server.timeout().toMillis());
        p.setProperty("mail.imap.connectiontimeout", timeout);
        p.setProperty("mail.imap.timeout", timeout);
        p.setProperty("mail.imap.writetimeout", timeout);
        // stream messages in partial FETCHes of fetch-size bytes, never whole into memory; never set \Seen
        p.setProperty("mail.imap.partialfetch", "true");
        p.setProperty("mail.imap.fetchsize", Integer.toString(server.fetchSize()));
        p.setProperty("mail.imap.peek", "true");
        p.setProperty("mail.imap.ignorebodystructuresize", "true");
        return p;
    }

    private String where() {
        return "IMAP server " + server.host() + ":" + server.port();
    }

    private static String describe(MessagingException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }
}

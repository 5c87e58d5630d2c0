package dev.mailintake.testsupport;

import com.icegreen.greenmail.imap.ImapHostManager;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real IMAP server (GreenMail, plain IMAP on 127.0.0.1, a free port) whose users sign in with SASL XOAUTH2: a
 * mailbox's "password" is the access token last issued for it by the {@link GraphFake}'s token endpoint, so a wrong,
 * old or expired token is refused. Which tokens open which mailbox follows Exchange: an app-only token opens the
 * mailboxes the app was given Full Access to ({@link #grantApp}, i.e. {@code Add-MailboxPermission}); a delegated
 * token opens the user's own mailbox and the mailboxes shared with the user ({@link #grantUser}).
 */
public final class GreenMailImap implements AutoCloseable {
    private static final String GRAPH = "https://graph.microsoft.com";

    private final GreenMail greenMail;
    private final Map<String, Set<String>> appAccess = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> userAccess = new ConcurrentHashMap<>();
    private final Session parser = Session.getInstance(new Properties());

    private GreenMailImap(GreenMail greenMail) {
        this.greenMail = greenMail;
    }

    /** Wraps a GreenMail that is already started (e.g. a customised server in another JVM). */
    public static GreenMailImap of(GreenMail started) {
        return new GreenMailImap(started);
    }

    public static GreenMailImap start() {
        GreenMail gm = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP).dynamicPort());
        gm.start();
        return new GreenMailImap(gm);
    }

    /**
     * IMAP over implicit TLS with the certificate of {@code keyStore} (PKCS#12, store and key password
     * {@code password}), e.g. a {@link SelfSignedCertificate} for localhost and 127.0.0.1. GreenMail reads its key
     * store from system properties when the server starts; they are removed again right after.
     */
    public static GreenMailImap startTls(java.nio.file.Path keyStore, String password) {
        System.setProperty("greenmail.tls.keystore.file", keyStore.toString());
        System.setProperty("greenmail.tls.keystore.password", password);
        System.setProperty("greenmail.tls.key.password", password);
        try {
            GreenMail gm = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAPS).dynamicPort());
            gm.start();
            return new GreenMailImap(gm);
        } finally {
            System.clearProperty("greenmail.tls.keystore.file");
            System.clearProperty("greenmail.tls.keystore.password");
            System.clearProperty("greenmail.tls.key.password");
        }
    }

    public int port() {
        return greenMail.getImap() != null ? greenMail.getImap().getPort() : greenMail.getImaps().getPort();
    }

    public char separator() {
        return hosts().getHierarchyDelimiter();
    }

    /** Tokens issued by {@code fake} from now on open the mailboxes they are entitled to. */
    public GreenMailImap acceptTokensFrom(GraphFake fake) {
        fake.onAccessTokenIssued(t -> {
            if (t.resource() == null || t.resource().equalsIgnoreCase(GRAPH)) {
                return;
            }
            Set<String> mailboxes = new java.util.HashSet<>();
            if (t.upn() == null) {
                mailboxes.addAll(appAccess.getOrDefault(lower(t.clientId()), Set.of()));
            } else {
                mailboxes.add(lower(t.upn()));
                mailboxes.addAll(userAccess.getOrDefault(lower(t.upn()), Set.of()));
            }
            for (String address : mailboxes) {
                GreenMailUser user = greenMail.getUserManager().getUser(address);
                if (user != null) {
                    user.setPassword(t.token());
                }
            }
        });
        return this;
    }

    /** {@code Add-MailboxPermission}: app-only tokens of {@code clientId} open {@code address}. */
    public GreenMailImap grantApp(String clientId, String address) {
        appAccess.computeIfAbsent(lower(clientId), c -> ConcurrentHashMap.newKeySet()).add(lower(address));
        return this;
    }

    /** Full Access for a user: the user's delegated tokens open {@code address} (a shared mailbox). */
    public GreenMailImap grantUser(String upn, String address) {
        userAccess.computeIfAbsent(lower(upn), c -> ConcurrentHashMap.newKeySet()).add(lower(address));
        return this;
    }

    /** Every token handed out so far is refused from now on (as if expired or revoked). */
    public void refuseCurrentTokens() {
        greenMail.getUserManager().listUser().forEach(u -> u.setPassword("expired-" + UUID.randomUUID()));
    }

    /** Creates the mailbox (login = address) with folders INBOX, INBOX/Processed and INBOX/Error. */
    public GreenMailImap mailbox(String address) {
        try {
            GreenMailUser user = greenMail.getUserManager().createUser(address, lower(address),
                    "not-a-token-" + UUID.randomUUID());
            hosts().createMailbox(user, "INBOX" + separator() + "Processed");
            hosts().createMailbox(user, "INBOX" + separator() + "Error");
            return this;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates a folder by path with '/' (translated to the server's separator). */
    public GreenMailImap createFolder(String address, String path) {
        try {
            hosts().createMailbox(user(address), path.replace('/', separator()));
            return this;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public GreenMailImap deleteFolder(String address, String path) {
        try {
            hosts().deleteMailbox(user(address), path.replace('/', separator()));
            return this;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Moves every message of one folder to another (as a mail client would: copy, then expunge the source). */
    public void moveAll(String address, String from, String to) {
        MailFolder source = folder(address, from);
        MailFolder target = folder(address, to);
        try {
            for (StoredMessage m : source.getMessages()) {
                source.copyMessage(m.getUid(), target);
                m.setFlag(Flags.Flag.DELETED, true);
            }
            source.expunge();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Appends a message as it is (parsed by Jakarta Mail only to store it) with INTERNALDATE {@code received}. */
    public long append(String address, String folder, byte[] mime, Instant received) {
        return append(address, folder, mime, received, new Flags());
    }

    /** Appends with flags, e.g. a message someone else flagged {@code \Deleted}. */
    public long append(String address, String folder, byte[] mime, Instant received, Flags flags) {
        try {
            MimeMessage m = new MimeMessage(parser, new ByteArrayInputStream(mime));
            return folder(address, folder).appendMessage(m, flags, Date.from(received));
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<StoredMessage> messages(String address, String folder) {
        return folder(address, folder).getMessages();
    }

    /** Message-IDs of the messages in a folder, in order. */
    public List<String> messageIds(String address, String folder) {
        List<String> ids = new ArrayList<>();
        for (StoredMessage m : messages(address, folder)) {
            try {
                ids.add(m.getMimeMessage().getMessageID());
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        }
        return ids;
    }

    public static byte[] bytes(StoredMessage m) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            m.getMimeMessage().writeTo(out);
            return out.toByteArray();
        } catch (IOException | MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A folder by path with '/' (translated to the server's separator). */
    public MailFolder folder(String address, String path) {
        MailFolder f = hosts().getFolder(user(address), path.replace('/', separator()));
        if (f == null) {
            throw new IllegalArgumentException("no folder " + path + " in " + address);
        }
        return f;
    }

    public GreenMailUser user(String address) {
        GreenMailUser u = greenMail.getUserManager().getUser(lower(address));
        if (u == null) {
            throw new IllegalArgumentException("no mailbox " + address);
        }
        return u;
    }

    private ImapHostManager hosts() {
        return greenMail.getManagers().getImapHostManager();
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() {
        greenMail.stop();
    }
}

package dev.mailintake.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Where and how an IMAP mailbox is reached.
 *
 * @param security how the connection is protected: implicit TLS (port 993), STARTTLS (port 143), or none (only
 *                 for a server on this machine, e.g. in tests, since the access token travels in the clear)
 * @param user     the XOAUTH2 {@code user=}: the mailbox address, also for a shared mailbox (the token is the
 *                 signed-in user's or the app's)
 * @param fetchSize bytes per partial FETCH while a message is streamed (bounds memory per message in flight)
 * @param batchSize messages fetched together in one {@code UID FETCH} (small ones, up to {@code fetchSize} bytes in
 *                  all) and moved together in one {@code UID MOVE}; 1: one at a time
 * @param trustStore a PKCS#12 trust store for a server whose certificate a private CA issued (else the JVM's)
 */
public record ImapServer(String host, int port, Security security, String user, Duration timeout, int fetchSize,
                         int batchSize, Optional<Path> trustStore, Optional<Secret> trustStorePassword) {
    public enum Security {
        SSL, STARTTLS, NONE
    }

    public static final String MICROSOFT_HOST = "outlook.office365.com";
}

package dev.mailintake.intake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Streams a message into a spool file with a size bound, computing its SHA-256 on the way. */
public final class LimitedCopy {
    private static final int BUFFER = 64 * 1024;

    private LimitedCopy() {
    }

    /** @return the SHA-256 (hex) of what was written */
    public static String toFile(InputStream in, Path file, long maxBytes) throws IOException {
        MessageDigest sha = sha256();
        try (InputStream source = in;
             OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
            byte[] buffer = new byte[BUFFER];
            long total = 0;
            int n;
            while ((n = source.read(buffer)) >= 0) {
                total += n;
                if (total > maxBytes) {
                    throw new PermanentMessageFailure("too large",
                            "the message is larger than the mailbox's rules.max-size of " + maxBytes + " bytes");
                }
                out.write(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

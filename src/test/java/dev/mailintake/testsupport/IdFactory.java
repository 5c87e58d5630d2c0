package dev.mailintake.testsupport;

import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/** Generates opaque Exchange-looking ids (base64url alphabet, so they contain '-' and '_'). */
final class IdFactory {

    private static final String REST_PREFIX = "AAMkAGE1M2IyNGNmLTI5MTktNDUyZi1hODE3LWE2ZmUzMjZkZGFhYgBGAAAAAAD";
    private static final String FOLDER_PREFIX = "AAMkAGE1M2IyNGNmLTI5MTktNDUyZi1hODE3LWE2ZmUzMjZkZGFhYgAuAAAAAAD";
    private static final String IMMUTABLE_PREFIX = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A";

    /** ~120 characters, e.g. {@code AAMkAGE1...AAA=}. */
    String folderId() {
        return FOLDER_PREFIX + random(42) + "AAA=";
    }

    /** ~150 characters; changes on every move. */
    String restMessageId() {
        return REST_PREFIX + random(64) + "AAA=";
    }

    /** ~140 characters; never changes. */
    String immutableMessageId() {
        return IMMUTABLE_PREFIX + random(75) + "AAA=";
    }

    String changeKey() {
        return "CQAAABYAAAA" + random(30);
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}

package dev.mailintake.testsupport;

/** The secrets every test uses, so that one test can prove none of them ever reached the log. */
public final class TestSecrets {
    /** A client secret shaped like Entra's (40 characters). */
    public static final String CLIENT_SECRET = "Qx8~tS3cr3t.V4lu3-n0t_For-Logs~9aZ0kLmN";
    /** Prefix of every access token the Graph fake issues. */
    public static final String TOKEN_PREFIX = "fake-at-";

    private TestSecrets() {
    }
}

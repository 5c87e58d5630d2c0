package dev.mailintake.auth;

import com.microsoft.aad.msal4j.MsalClientException;
import com.microsoft.aad.msal4j.MsalException;
import com.microsoft.aad.msal4j.MsalServiceException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Classifies token endpoint failures by {@code error} and the AADSTS code (never by description text), following
 * Entra's error code reference (see docs/architecture.md and GRAPH-FACTS §4).
 */
public final class TokenFailures {
    private static final Pattern AADSTS = Pattern.compile("AADSTS(\\d+)");
    private static final Set<String> REAUTHORIZE = Set.of("50173", "70008", "700082", "700084", "70000", "70043",
            "50076", "50079", "50078", "65001", "700003");
    private static final Set<String> ADMIN = Set.of("7000215", "7000222", "700016", "90002", "50057", "50055",
            "50105", "53003", "530003", "7000112", "700027", "50034");
    private static final Set<String> TRANSIENT = Set.of("50033", "50087", "90006", "90024", "90033", "90090");

    private TokenFailures() {
    }

    public static TokenException classify(String connection, Throwable failure) {
        Throwable t = failure;
        while (t != null && !(t instanceof MsalException) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t instanceof MsalServiceException se) {
            String code = aadsts(se.getMessage());
            String error = se.errorCode();
            String what = (error == null ? "error" : error) + (code == null ? "" : " AADSTS" + code);
            if (TRANSIENT.contains(code) || "temporarily_unavailable".equals(error) || "server_error".equals(error)
                    || (se.statusCode() != null && se.statusCode() >= 500)) {
                return new TokenException(connection, TokenException.Kind.TRANSIENT,
                        "token endpoint temporarily unavailable (" + what + "); retrying with backoff", se);
            }
            if (REAUTHORIZE.contains(code) || (code == null && "invalid_grant".equals(error))) {
                return new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED,
                        "re-authorization required (" + what + "): sign in again for this connection", se);
            }
            if ("7000222".equals(code)) {
                return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                        "the client secret has expired (" + what + "): create a new secret in the app registration"
                                + " and update client-secret", se);
            }
            if ("7000215".equals(code)) {
                return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                        "the client secret is invalid (" + what + "): give the secret's value, not its ID", se);
            }
            if ("700016".equals(code)) {
                return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                        "unknown client id in this tenant (" + what + "): check client-id and tenant-id", se);
            }
            if ("90002".equals(code)) {
                return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                        "unknown tenant (" + what + "): check tenant-id", se);
            }
            return new TokenException(connection, ADMIN.contains(code) || code == null
                    ? TokenException.Kind.ADMIN_MUST_FIX : TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    "token request refused (" + what + "): check the app registration", se);
        }
        if (t instanceof MsalClientException ce && !(ce.getCause() instanceof java.io.IOException)
                && ce.getMessage() != null && !ce.getMessage().toLowerCase().contains("timed out")
                && !ce.getMessage().toLowerCase().contains("connect")) {
            return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                    "token request failed: " + ce.getMessage(), ce);
        }
        return new TokenException(connection, TokenException.Kind.TRANSIENT,
                "token endpoint unreachable (" + failure.getClass().getSimpleName() + "); retrying with backoff", failure);
    }

    static String aadsts(String message) {
        if (message == null) {
            return null;
        }
        Matcher m = AADSTS.matcher(message);
        return m.find() ? m.group(1) : null;
    }
}

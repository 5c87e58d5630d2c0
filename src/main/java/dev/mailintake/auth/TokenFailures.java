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
    private static final Set<String> ADMIN = Set.of("7000218", "7000215", "7000222", "700016", "90002", "50057", "50055",
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
            return classify(connection, se.statusCode(), se.errorCode(), se.getMessage(), se);
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

    /**
     * Classifies an OAuth2 error response ({@code error}, and the AADSTS code in its description for Entra) from any
     * provider.
     */
    public static TokenException classify(String connection, Integer status, String error, String description,
                                          Throwable cause) {
        String code = aadsts(description);
        String what = (error == null ? "error" : error) + (code == null ? "" : " AADSTS" + code);
        if (TRANSIENT.contains(code) || "temporarily_unavailable".equals(error) || "server_error".equals(error)
                || (status != null && (status >= 500 || status == 429))) {
            return new TokenException(connection, TokenException.Kind.TRANSIENT,
                    "token endpoint temporarily unavailable (" + what + "); retrying with backoff", cause);
        }
        if (REAUTHORIZE.contains(code) || ("invalid_grant".equals(error) && !ADMIN.contains(code))) {
            return new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    "re-authorization required (" + what + "): sign in again for this connection", cause);
        }
        String fix = switch (code == null ? "" : code) {
            case "7000222" -> "the client secret has expired (" + what + "): create a new secret in the app"
                    + " registration and update client-secret";
            case "7000215" -> "the client secret is invalid (" + what + "): give the secret's value, not its ID";
            case "700016" -> "unknown client id in this tenant (" + what + "): check client-id and tenant-id";
            case "90002" -> "unknown tenant (" + what + "): check tenant-id";
            case "7000218" -> "the app registration does not allow public client flows (" + what + "): enable"
                    + " 'Allow public client flows' for the device code flow";
            default -> "token request refused (" + what + "): check the app registration and the connection's settings";
        };
        return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX, fix, cause);
    }

    static String aadsts(String message) {
        if (message == null) {
            return null;
        }
        Matcher m = AADSTS.matcher(message);
        return m.find() ? m.group(1) : null;
    }
}

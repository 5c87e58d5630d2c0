package dev.mailintake.auth;

import com.microsoft.aad.msal4j.MsalClientException;
import com.microsoft.aad.msal4j.MsalException;
import com.microsoft.aad.msal4j.MsalServiceException;
import java.net.URI;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Classifies token endpoint failures by the standard OAuth2 {@code error} (RFC 6749 §5.2) and, for Entra, the AADSTS
 * code (never by description text), following Entra's error code reference (see docs/entra-id.md and GRAPH-FACTS §4).
 * An answer without an AADSTS code (any other provider) is classified by its {@code error} and HTTP status alone.
 * The messages say what is wrong and which key to check; whether and when to try again is the caller's to say.
 */
public final class TokenFailures {
    private static final Pattern AADSTS = Pattern.compile("AADSTS(\\d+)");
    private static final Set<String> REAUTHORIZE = Set.of("50173", "70008", "700082", "700084", "70000", "70043",
            "50076", "50079", "50078", "65001", "90094", "700003");
    /** No consent (65001), or consent only an administrator may give (90094; MC1163922 for apps reading mail). */
    private static final Set<String> CONSENT = Set.of("65001", "90094");
    private static final Set<String> ADMIN = Set.of("7000218", "7000215", "7000222", "700016", "90002", "50057", "50055",
            "50105", "53003", "530003", "7000112", "700027", "50034", "500011");
    private static final Set<String> TRANSIENT = Set.of("50033", "50087", "90006", "90024", "90033", "90090");
    private static final Set<String> TRANSIENT_ERRORS = Set.of("temporarily_unavailable", "server_error");

    private TokenFailures() {
    }

    /**
     * A failure of a token request made through msal4j (or of the network under it).
     *
     * @param scope what was asked for (space-separated scopes), named in refusals of the scope; null if unknown
     */
    public static TokenException classify(String connection, String scope, Throwable failure) {
        return classify(connection, scope, failure, Optional.empty());
    }

    /**
     * The same for a Microsoft connection that can ask for an administrator's consent: a missing consent (AADSTS65001,
     * 90094) then also names {@code adminConsentUrl} (Entra's admin consent URL for the app, without a state).
     */
    public static TokenException classify(String connection, String scope, Throwable failure,
                                          Optional<URI> adminConsentUrl) {
        Throwable t = failure;
        while (t != null && !(t instanceof MsalException) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t instanceof MsalServiceException se) {
            return classify(connection, scope, se.statusCode(), se.errorCode(), se.getMessage(), se, adminConsentUrl);
        }
        if (t instanceof MsalClientException ce && !(ce.getCause() instanceof java.io.IOException)
                && ce.getMessage() != null && !ce.getMessage().toLowerCase().contains("timed out")
                && !ce.getMessage().toLowerCase().contains("connect")) {
            return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX,
                    "token request failed: " + ce.getMessage(), ce);
        }
        return new TokenException(connection, TokenException.Kind.TRANSIENT,
                "token endpoint unreachable (" + describe(failure) + ")", failure);
    }

    /**
     * Classifies an OAuth2 error answer from any provider: {@code error}, the HTTP status and, for Entra, the AADSTS
     * code in the description. Every argument but {@code connection} may be null.
     *
     * @param scope what was asked for (space-separated scopes), named when the provider refuses it
     */
    public static TokenException classify(String connection, String scope, Integer status, String error,
                                          String description, Throwable cause) {
        return classify(connection, scope, status, error, description, cause, Optional.empty());
    }

    /**
     * The same, naming the admin consent URL when consent is missing (see {@link #classify(String, String, Throwable,
     * Optional)}); also for an error that came back to the redirect URI instead of a code.
     */
    public static TokenException classify(String connection, String scope, Integer status, String error,
                                          String description, Throwable cause, Optional<URI> adminConsentUrl) {
        String code = aadsts(description);
        String what = (error == null ? (status == null ? "error" : "HTTP " + status) : error)
                + (code == null ? "" : " AADSTS" + code);
        String key = "mailintake.connections." + connection + ".";
        if (code != null && ADMIN.contains(code)) {
            return admin(connection, byCode(code, what, key, scope), cause);
        }
        if ((code != null && TRANSIENT.contains(code)) || (error != null && TRANSIENT_ERRORS.contains(error))
                || (status != null && (status >= 500 || status == 429))) {
            return new TokenException(connection, TokenException.Kind.TRANSIENT,
                    "token endpoint temporarily unavailable (" + what + ")", cause);
        }
        if (code != null && CONSENT.contains(code)) {
            return new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    consentMissing(code, what, adminConsentUrl), cause);
        }
        if ((code != null && REAUTHORIZE.contains(code)) || "invalid_grant".equals(error)) {
            return new TokenException(connection, TokenException.Kind.REAUTHORIZATION_REQUIRED,
                    "re-authorization required (" + what + "): sign in again for this connection", cause);
        }
        return admin(connection, byError(error, what, key, scope), cause);
    }

    /** Whether an error's description says that consent is missing (AADSTS65001 or 90094). */
    public static boolean consentMissing(String description) {
        String code = aadsts(description);
        return code != null && CONSENT.contains(code);
    }

    private static String consentMissing(String code, String what, Optional<URI> adminConsentUrl) {
        String ask = "an administrator of the tenant must consent first: " + adminConsentUrl
                .map(u -> "use 'Ask an administrator' on the status page (or send them " + u + ")")
                .orElse("in the Entra admin center, Enterprise applications > the app > Permissions > Grant admin"
                        + " consent");
        return "re-authorization required (" + what + "): " + (code.equals("90094") ? ask + "; then sign in again"
                : "the app's permissions are not consented; sign in again and consent, or, where users may not"
                + " consent, " + ask + "; then sign in again");
    }

    private static TokenException admin(String connection, String message, Throwable cause) {
        return new TokenException(connection, TokenException.Kind.ADMIN_MUST_FIX, message, cause);
    }

    private static String byCode(String code, String what, String key, String scope) {
        return switch (code) {
            case "7000222" -> "the client secret has expired (" + what + "): create a new secret in the app"
                    + " registration and update " + key + "client-secret";
            case "7000215" -> "the client secret is invalid (" + what + "): give the secret's value, not its ID, in "
                    + key + "client-secret";
            case "700016" -> "unknown client id in this tenant (" + what + "): check " + key + "client-id and "
                    + key + "tenant-id";
            case "90002" -> "unknown tenant (" + what + "): check " + key + "tenant-id";
            case "7000218" -> "the app registration does not allow public client flows (" + what + "): enable"
                    + " 'Allow public client flows' for the device code flow";
            case "500011" -> "the token request asked for scope '" + orUnknown(scope) + "' and the authority knows no"
                    + " resource by that name (" + what + "): set " + key + "scopes to the resource's scopes (e.g."
                    + " https://graph.microsoft.com/.default); the default is derived from graph-base-url, which is"
                    + " wrong when graph-base-url is not a Microsoft Graph host";
            default -> "token request refused (" + what + "): check the app registration and " + key + "*";
        };
    }

    /** RFC 6749 §5.2 errors, for providers that send no AADSTS code. */
    private static String byError(String error, String what, String key, String scope) {
        return switch (error == null ? "" : error) {
            case "invalid_client" -> "the provider does not accept the client's credentials (" + what + "): check "
                    + key + "client-id, " + key + "client-secret and " + key + "client-auth (post or basic)";
            case "unauthorized_client" -> "the client is not allowed this grant (" + what + "): allow it in the"
                    + " client's registration at the provider, or check " + key + "flow and " + key + "client-id";
            case "invalid_scope" -> "the provider refused the scope '" + orUnknown(scope) + "' (" + what + "): check "
                    + key + "scopes";
            case "unsupported_grant_type" -> "the provider does not support this grant (" + what + "): check "
                    + key + "flow and " + key + "token-url";
            case "invalid_resource" -> "the token request asked for scope '" + orUnknown(scope) + "' and the"
                    + " provider knows no resource by that name (" + what + "): set " + key + "scopes";
            default -> "token request refused (" + what + "): check the client's registration at the provider and "
                    + key + "*";
        };
    }

    private static String orUnknown(String scope) {
        return scope == null || scope.isBlank() ? "(none)" : scope;
    }

    private static String describe(Throwable failure) {
        return failure == null ? "unknown failure" : failure.getClass().getSimpleName();
    }

    static String aadsts(String message) {
        if (message == null) {
            return null;
        }
        Matcher m = AADSTS.matcher(message);
        return m.find() ? m.group(1) : null;
    }
}

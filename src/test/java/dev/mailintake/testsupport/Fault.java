package dev.mailintake.testsupport;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An injectable failure for {@link GraphFake#fault(Fault)}. Immutable: every modifier returns a copy.
 *
 * <pre>{@code
 * fake.fault(Fault.throttled(2).on("GET", ".*&#47;messages.*"));           // one 429 with Retry-After: 2
 * fake.fault(Fault.status(503).retryAfter(1).times(3));                  // next three Graph requests get 503
 * fake.fault(Fault.resetMidBody().forMailbox("a@b.example"));            // next $value download is cut in half
 * fake.fault(Fault.tokenUnavailable().times(2));                         // next two token requests get 503
 * fake.fault(Fault.delay(Duration.ofSeconds(5)).on("POST", ".*&#47;move"));  // one slow move
 * }</pre>
 *
 * <p>Matching: HTTP method ({@code null} = any, case-insensitive), a regex that must match the whole
 * percent-decoded path (for Graph e.g. {@code /v1.0/users/a@b.example/messages/AAMk.../$value}; for the token
 * server e.g. {@code /tenant/oauth2/v2.0/token}), and optionally a mailbox address. A fault fires {@link #times}
 * times (default once), optionally after letting the first {@link #afterMatches(int) n} matching requests pass.
 * Graph faults act after the bearer token was validated (throttling is per app), before the request is executed,
 * so a faulted request changes no state, except {@link #resetMidBody()} and {@link #delay(Duration)}, which
 * let the request execute normally and then disturb the response.
 */
public final class Fault {

    enum Kind { RESPOND, RESET_MID_BODY, DELAY }

    enum Target { GRAPH, TOKEN }

    private static final String GRAPH_ANY = ".*";
    private static final String VALUE_PATH = ".*/\\$value";
    private static final String TOKEN_PATH = ".*/oauth2/v2\\.0/token";

    private Kind kind;
    private Target target = Target.GRAPH;
    private int status;
    private String code;            // Graph error code or Entra "error"; null = default for status/target
    private String message;         // null = default
    private Integer aadsts;         // token target only; null = default
    private Integer retryAfterSeconds;
    private String contentType;     // raw body only
    private String rawBody;         // if set, sent verbatim
    private Duration delay = Duration.ZERO;
    private String method;
    private String pathRegex;       // null = default for kind/target
    private Pattern pathPattern;
    private String mailbox;
    private String grantType;
    private int times = 1;
    private int skip;

    private Fault(Kind kind, int status) {
        this.kind = kind;
        this.status = status;
    }

    private Fault copy() {
        Fault f = new Fault(kind, status);
        f.target = target;
        f.code = code;
        f.message = message;
        f.aadsts = aadsts;
        f.retryAfterSeconds = retryAfterSeconds;
        f.contentType = contentType;
        f.rawBody = rawBody;
        f.delay = delay;
        f.method = method;
        f.pathRegex = pathRegex;
        f.pathPattern = pathPattern;
        f.mailbox = mailbox;
        f.grantType = grantType;
        f.times = times;
        f.skip = skip;
        return f;
    }

    // ------------------------------------------------------------------ factories

    /**
     * Respond with this status and Graph's error body for it: 429 {@code TooManyRequests} ("Application is over
     * its MailboxConcurrency limit."), 503 {@code ServiceUnavailable}, 504 {@code GatewayTimeout}, 401
     * {@code InvalidAuthenticationToken} (with {@code WWW-Authenticate}), 404 {@code ErrorItemNotFound}, 500
     * {@code InternalServerError}, otherwise {@code UnknownError}. On the token endpoint
     * ({@link #onTokenEndpoint()}) the body has Entra's shape instead.
     */
    public static Fault status(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("fault status must be 4xx or 5xx: " + status);
        }
        return new Fault(Kind.RESPOND, status);
    }

    /** 429 {@code TooManyRequests} "Application is over its MailboxConcurrency limit." with {@code Retry-After}. */
    public static Fault throttled(int retryAfterSeconds) {
        return status(429).retryAfter(retryAfterSeconds);
    }

    /** 429 {@code ApplicationThrottled} "Application is over its MailboxConcurrency limit." with {@code Retry-After}. */
    public static Fault applicationThrottled(int retryAfterSeconds) {
        return error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
                .retryAfter(retryAfterSeconds);
    }

    /** 503 {@code ServiceUnavailable} without {@code Retry-After}. */
    public static Fault serviceUnavailable() {
        return status(503);
    }

    /** 503 {@code ServiceUnavailable} with {@code Retry-After}. */
    public static Fault serviceUnavailable(int retryAfterSeconds) {
        return status(503).retryAfter(retryAfterSeconds);
    }

    /** 504 with an HTML body, as a gateway would send it (not JSON!). For a JSON 504 use {@code status(504)}. */
    public static Fault gatewayTimeout() {
        return raw(504, "text/html",
                "<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1>"
                        + "<p>The upstream server did not respond in time.</p></body></html>");
    }

    /** 401 {@code InvalidAuthenticationToken} "Access token has expired or is not yet valid.". */
    public static Fault tokenExpired() {
        return status(401);
    }

    /** Any status with a Graph error body {@code {"error":{"code":code,"message":message,"innerError":{...}}}}. */
    public static Fault error(int status, String code, String message) {
        Fault f = status(status);
        f.code = Objects.requireNonNull(code, "code");
        f.message = message;
        return f;
    }

    /** Any status with a verbatim body (e.g. an HTML error page or an empty body). */
    public static Fault raw(int status, String contentType, String body) {
        Fault f = status(status);
        f.contentType = contentType == null ? "text/plain" : contentType;
        f.rawBody = body == null ? "" : body;
        return f;
    }

    /**
     * Execute the request normally, send the status line and the full {@code Content-Length}, write about half of
     * the body, flush and abort the connection. Matches {@code GET .../$value} by default; use {@link #on} to cut
     * other responses.
     */
    public static Fault resetMidBody() {
        Fault f = new Fault(Kind.RESET_MID_BODY, 0);
        f.method = "GET";
        return f;
    }

    /** Execute the request normally but delay the response by this much (on top of the global latency). */
    public static Fault delay(Duration delay) {
        Fault f = new Fault(Kind.DELAY, 0);
        f.delay = Objects.requireNonNull(delay, "delay");
        return f;
    }

    /**
     * A token-endpoint error with Entra's body: {@code {"error":error,"error_description":"AADSTS<code>: ...",
     * "error_codes":[code],...}}.
     */
    public static Fault tokenError(int status, String error, int aadstsCode) {
        Fault f = status(status).onTokenEndpoint();
        f.code = Objects.requireNonNull(error, "error");
        f.aadsts = aadstsCode;
        return f;
    }

    /** 503 {@code temporarily_unavailable} (AADSTS50033, retryable) from the token endpoint. */
    public static Fault tokenUnavailable() {
        return tokenError(503, "temporarily_unavailable", 50033);
    }

    // ------------------------------------------------------------------ modifiers

    /** Match this HTTP method ({@code null} = any) and a regex on the whole decoded path. */
    public Fault on(String method, String pathRegex) {
        Fault f = copy();
        f.method = method;
        f.pathRegex = Objects.requireNonNull(pathRegex, "pathRegex");
        f.pathPattern = Pattern.compile(pathRegex);
        return f;
    }

    /** Match any method on paths matching the regex. */
    public Fault onPath(String pathRegex) {
        return on(null, pathRegex);
    }

    /** Match this HTTP method ({@code null} = any), keeping the path matcher. */
    public Fault onMethod(String method) {
        Fault f = copy();
        f.method = method;
        return f;
    }

    /** Only requests for this mailbox (case-insensitive). */
    public Fault forMailbox(String address) {
        Fault f = copy();
        f.mailbox = address == null ? null : address.toLowerCase(Locale.ROOT);
        return f;
    }

    /**
     * Only token requests with this {@code grant_type} ({@code client_credentials}, {@code authorization_code},
     * {@code refresh_token}); implies {@link #onTokenEndpoint()}.
     */
    public Fault forGrantType(String grantType) {
        Fault f = onTokenEndpoint();
        f.grantType = Objects.requireNonNull(grantType, "grantType");
        return f;
    }

    /** Apply to the token server instead of Graph (default path {@code .../oauth2/v2.0/token}). */
    public Fault onTokenEndpoint() {
        Fault f = copy();
        f.target = Target.TOKEN;
        return f;
    }

    /** Add {@code Retry-After: seconds}. */
    public Fault retryAfter(int seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("Retry-After must be >= 0");
        }
        Fault f = copy();
        f.retryAfterSeconds = seconds;
        return f;
    }

    /** Remove {@code Retry-After}. */
    public Fault withoutRetryAfter() {
        Fault f = copy();
        f.retryAfterSeconds = null;
        return f;
    }

    /** Fire this many times, then the fault is used up. */
    public Fault times(int times) {
        if (times < 1) {
            throw new IllegalArgumentException("times must be >= 1");
        }
        Fault f = copy();
        f.times = times;
        return f;
    }

    /** Fire for every matching request until cancelled. */
    public Fault always() {
        return times(Integer.MAX_VALUE);
    }

    /** Let the first {@code n} matching requests pass untouched, then start firing. */
    public Fault afterMatches(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0");
        }
        Fault f = copy();
        f.skip = n;
        return f;
    }

    // ------------------------------------------------------------------ accessors (package)

    Kind kind() {
        return kind;
    }

    Target target() {
        return target;
    }

    int status() {
        return status;
    }

    Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    String rawBody() {
        return rawBody;
    }

    String contentType() {
        return contentType;
    }

    Duration delayAmount() {
        return delay;
    }

    int timesValue() {
        return times;
    }

    int skipValue() {
        return skip;
    }

    boolean matches(Target t, String requestMethod, String path, String mailboxKey, String requestGrantType) {
        if (t != target) {
            return false;
        }
        if (grantType != null && !grantType.equals(requestGrantType)) {
            return false;
        }
        if (method != null && !method.equalsIgnoreCase(requestMethod)) {
            return false;
        }
        if (mailbox != null && !mailbox.equals(mailboxKey)) {
            return false;
        }
        Pattern p = pathPattern;
        if (p == null) {
            p = Pattern.compile(defaultPath());
        }
        return path != null && p.matcher(path).matches();
    }

    private String defaultPath() {
        if (target == Target.TOKEN) {
            return TOKEN_PATH;
        }
        return kind == Kind.RESET_MID_BODY ? VALUE_PATH : GRAPH_ANY;
    }

    /** Graph error code to send. */
    String graphCode() {
        if (code != null) {
            return code;
        }
        switch (status) {
            case 429: return "TooManyRequests";
            case 503: return "ServiceUnavailable";
            case 504: return "GatewayTimeout";
            case 401: return "InvalidAuthenticationToken";
            case 404: return "ErrorItemNotFound";
            case 500: return "InternalServerError";
            case 400: return "BadRequest";
            default: return "UnknownError";
        }
    }

    String graphMessage() {
        if (message != null) {
            return message;
        }
        switch (status) {
            case 429: return "Application is over its MailboxConcurrency limit.";
            case 503: return "The service is temporarily unavailable. Please try again later.";
            case 504: return "The gateway did not receive a response in time.";
            case 401: return "Access token has expired or is not yet valid.";
            case 404: return "The specified object was not found in the store.";
            default: return "";
        }
    }

    /** Entra {@code error} to send on the token endpoint. */
    String tokenErrorCode() {
        if (code != null) {
            return code;
        }
        switch (status) {
            case 500: return "server_error";
            case 503: case 504: case 429: return "temporarily_unavailable";
            case 401: return "invalid_client";
            default: return "invalid_request";
        }
    }

    int tokenAadsts() {
        if (aadsts != null) {
            return aadsts;
        }
        switch (tokenErrorCode()) {
            case "server_error": return 50000;
            case "temporarily_unavailable": return 50033;
            case "invalid_client": return 7000215;
            default: return 90014;
        }
    }

    String tokenMessage() {
        if (message != null) {
            return message;
        }
        switch (tokenAadsts()) {
            case 50000: return "There was an error issuing a token or an issue with our sign-in service.";
            case 50033: return "A transient error has occurred. Please try again.";
            case 7000215: return "Invalid client secret provided. Ensure the secret being sent in the request is "
                    + "the client secret value, not the client secret ID, for a secret added to app.";
            default: return "The request is invalid or temporarily unavailable.";
        }
    }

    /** Short description, also recorded in {@link LoggedRequest#fault()}. */
    @Override
    public String toString() {
        String what;
        switch (kind) {
            case RESET_MID_BODY: what = "reset-mid-body"; break;
            case DELAY: what = "delay " + delay.toMillis() + "ms"; break;
            default:
                what = status + " " + (rawBody != null ? "(raw " + contentType + ")"
                        : target == Target.TOKEN ? tokenErrorCode() + " AADSTS" + tokenAadsts() : graphCode());
        }
        StringBuilder sb = new StringBuilder(what);
        if (retryAfterSeconds != null) {
            sb.append(" Retry-After=").append(retryAfterSeconds);
        }
        sb.append(" on ").append(target == Target.TOKEN ? "token " : "")
                .append(method == null ? "*" : method).append(' ')
                .append(pathRegex == null ? defaultPath() : pathRegex);
        if (mailbox != null) {
            sb.append(" mailbox=").append(mailbox);
        }
        if (grantType != null) {
            sb.append(" grant_type=").append(grantType);
        }
        if (times != 1) {
            sb.append(" x").append(times == Integer.MAX_VALUE ? "always" : String.valueOf(times));
        }
        if (skip > 0) {
            sb.append(" after ").append(skip);
        }
        return sb.toString();
    }
}

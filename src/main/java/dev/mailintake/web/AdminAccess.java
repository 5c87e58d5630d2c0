package dev.mailintake.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Function;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards the admin server, in this order: a request whose {@code Host} is not ours is refused (421, DNS rebinding);
 * a state-changing request from another site's page ({@code Origin}, or {@code Referer} without it) is refused (403);
 * beyond localhost the password is asked (HTTP Basic, user {@code admin}); a state-changing request must carry the
 * browser's CSRF token in its form, equal to the one in the browser's {@code SameSite=Strict} cookie (403).
 * The OAuth callback only gets the {@code Host} check: the provider's form_post is a cross-site POST, protected by
 * the one-time state.
 */
public final class AdminAccess {
    /** Exchange property set when the request may go on (a property: a request cannot set it). */
    public static final String ALLOWED = "MailIntakeAdminAllowed";
    static final String COOKIE = "mailintake_csrf";
    static final String SECURE_COOKIE = "__Host-mailintake_csrf";
    private static final Logger LOG = LoggerFactory.getLogger(AdminAccess.class);

    private final Optional<String> password;
    private final AdminOrigins origins;
    private final SecureRandom random = new SecureRandom();

    public AdminAccess(Optional<String> password, AdminOrigins origins) {
        this.password = password;
        this.origins = origins;
    }

    /** Every admin page and action but the OAuth callback. */
    public void check(Exchange exchange) {
        exchange.setProperty(ALLOWED, false);
        Optional<AdminRequest> request = hostChecked(exchange);
        if (request.isEmpty()) {
            return;
        }
        AdminRequest r = request.get();
        if (r.changesState()) {
            Optional<String> from = r.origin().or(r::referer);
            if (from.isPresent() && !origins.originAllowed(from.get())) {
                LOG.warn("admin request refused: {} {} came from a page of {}", r.method(), path(exchange),
                        LogSafe.of(from.get()));
                Html.respond(exchange.getMessage(), 403, Html.page("Refused", "This form was sent from a page of"
                        + " another site. Open the status page at its own address and try again."));
                return;
            }
        }
        if (!passwordOk(exchange)) {
            Message out = exchange.getMessage();
            Html.respond(out, 401, Html.page("Sign in", "Sign in as admin with the password from"
                    + " mailintake.admin.password."));
            out.setHeader("WWW-Authenticate", "Basic realm=\"Mail Intake\", charset=\"UTF-8\"");
            return;
        }
        if (r.changesState() && !csrfValid(exchange, r)) {
            LOG.warn("admin request refused: {} {} without the browser's security token", r.method(), path(exchange));
            Html.respond(exchange.getMessage(), 403, Html.page("Refused", "The form is missing its security token;"
                    + " reload the status page and try again."));
            return;
        }
        exchange.setProperty(ALLOWED, true);
    }

    /** The OAuth callback: our {@code Host} only (no Origin or CSRF check: the provider posts it cross-site). */
    public void checkHost(Exchange exchange) {
        exchange.setProperty(ALLOWED, hostChecked(exchange).isPresent());
    }

    /**
     * Answers with a page holding forms: {@code page} gets the browser's CSRF token for its hidden {@code csrf}
     * fields; a browser without one gets a new random token in a cookie.
     */
    public void respondWithForms(Exchange exchange, int status, Function<String, String> page, String csp) {
        AdminRequest r = AdminRequest.of(exchange).orElseThrow();
        boolean secure = origins.viaHttpsPublicUrl(r.host());
        Optional<String> existing = Optional.ofNullable(r.cookies().get(secure ? SECURE_COOKIE : COOKIE))
                .filter(AdminAccess::wellFormed);
        String token = existing.orElseGet(this::newToken);
        Message out = exchange.getMessage();
        Html.respond(out, status, page.apply(token), csp);
        if (existing.isEmpty()) {
            out.setHeader("Set-Cookie", (secure ? SECURE_COOKIE : COOKIE) + "=" + token
                    + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : ""));
        }
    }

    private Optional<AdminRequest> hostChecked(Exchange exchange) {
        Optional<AdminRequest> request = AdminRequest.of(exchange);
        if (request.isPresent() && origins.hostAllowed(request.get().host())) {
            return request;
        }
        LOG.warn("admin request refused: Host {} is not this server's (DNS rebinding?)",
                LogSafe.of(request.map(AdminRequest::host).orElse(null)));
        Html.respond(exchange.getMessage(), 421, Html.page("Misdirected request", "This admin server answers at its"
                + " public base URL (mailintake.admin.public-base-url) and on this machine's loopback addresses"
                + " (localhost, 127.0.0.1) only. Behind a reverse proxy, have the proxy pass the public host on."));
        return Optional.empty();
    }

    private boolean passwordOk(Exchange exchange) {
        if (password.isEmpty()) {
            return true;
        }
        String auth = exchange.getIn().getHeader("Authorization", String.class);
        exchange.getIn().removeHeader("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
            return MessageDigest.isEqual(decoded.getBytes(StandardCharsets.UTF_8),
                    ("admin:" + password.get()).getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean csrfValid(Exchange exchange, AdminRequest r) {
        String cookie = r.cookies().get(origins.viaHttpsPublicUrl(r.host()) ? SECURE_COOKIE : COOKIE);
        Object field = exchange.getIn().getHeader("csrf");
        return cookie != null && wellFormed(cookie) && field instanceof String f
                && MessageDigest.isEqual(f.getBytes(StandardCharsets.UTF_8), cookie.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean wellFormed(String token) {
        return token.length() == 43 && token.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_');
    }

    private String newToken() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String path(Exchange exchange) {
        return LogSafe.of(AdminRequest.of(exchange).map(AdminRequest::path).orElse(null));
    }
}

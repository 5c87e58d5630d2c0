package dev.mailintake.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;
import org.apache.camel.Exchange;

/**
 * Guards the admin pages when the admin server listens beyond localhost: HTTP Basic with the configured password
 * (user {@code admin}). On 127.0.0.1 without a password it lets everything through.
 */
public final class AdminAccess {
    /** Header set when the request may go on. */
    public static final String ALLOWED = "MailIntakeAdminAllowed";

    private final Optional<String> password;

    public AdminAccess(Optional<String> password) {
        this.password = password;
    }

    public void check(Exchange exchange) {
        if (password.isEmpty()) {
            exchange.getIn().setHeader(ALLOWED, true);
            return;
        }
        String auth = exchange.getIn().getHeader("Authorization", String.class);
        boolean ok = false;
        if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                ok = MessageDigest.isEqual(decoded.getBytes(StandardCharsets.UTF_8),
                        ("admin:" + password.get()).getBytes(StandardCharsets.UTF_8));
            } catch (IllegalArgumentException ignored) {
                ok = false;
            }
        }
        exchange.getIn().removeHeader("Authorization");
        exchange.getIn().setHeader(ALLOWED, ok);
        if (!ok) {
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 401);
            exchange.getMessage().setHeader("WWW-Authenticate", "Basic realm=\"Mail Intake\", charset=\"UTF-8\"");
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getMessage().setBody("Sign in as admin with the password from mailintake.admin.password.");
        }
    }
}

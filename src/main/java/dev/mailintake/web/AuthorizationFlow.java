package dev.mailintake.web;

import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenException;
import dev.mailintake.auth.TokenService;
import dev.mailintake.config.AdminConfig;
import dev.mailintake.store.OAuthStates;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two ends of the delegated sign-in, called from the {@code oauth-redirect} routes: {@code start} (a POST from
 * the status page's Authorize button, with the browser's CSRF token) sends the browser to the provider with PKCE and
 * a one-time {@code state} bound to the connection; {@code callback} checks the state (unknown, expired or replayed →
 * 400, nothing stored), redeems the code and stores the grant. One redirect URI serves every connection: the state
 * tells them apart. Request values reach the log only through {@link LogSafe}.
 */
public final class AuthorizationFlow {
    private static final Logger LOG = LoggerFactory.getLogger(AuthorizationFlow.class);

    private final Map<String, DelegatedGrant> connections;
    private final OAuthStates states;
    private final AdminConfig admin;
    private final TokenService tokens;
    private final AdminAccess access;
    private final AdminOrigins origins;

    public AuthorizationFlow(Map<String, DelegatedGrant> connections, OAuthStates states, AdminConfig admin,
                             TokenService tokens, AdminAccess access, AdminOrigins origins) {
        this.connections = Map.copyOf(connections);
        this.states = states;
        this.admin = admin;
        this.tokens = tokens;
        this.access = access;
        this.origins = origins;
    }

    /**
     * {@code POST /oauth/start/{connection}}: a new pending sign-in (at most {@link OAuthStates#MAX_PENDING} per
     * connection are kept) and a 303 to the provider. {@code GET} (an old bookmark, a link) writes nothing: it
     * answers a page with the Authorize button.
     */
    public void start(Exchange exchange) {
        String path = exchange.getIn().getHeader(Exchange.HTTP_PATH, "", String.class);
        String name = path.startsWith("/") ? path.substring(1) : path;
        boolean post = AdminRequest.of(exchange).map(AdminRequest::changesState).orElse(false);
        DelegatedGrant source = connections.get(name);
        Message out = reset(exchange);
        if (source == null) {
            LOG.debug("sign-in asked for unknown connection {}", LogSafe.of(name));
            Html.respond(out, 404, Html.page("Unknown connection", "There is no delegated connection of that name."
                    + " Connections that sign in are configured with flow=delegated."));
            return;
        }
        if (source.isDeviceCode()) {
            Html.respond(out, 409, Html.page("Sign in on the server", "Connection '" + name + "' signs in with the device"
                    + " code flow: run java -jar mail-intake.jar authorize " + name + " --device-code on the server."));
            return;
        }
        if (!post) {
            access.respondWithForms(exchange, 200, csrf -> Html.document("Authorize connection " + name,
                    "<p>Sign in at the provider so that Mail Intake can read the mailboxes of connection "
                            + Html.escape(name) + ".</p><form method=\"post\" action=\"" + Html.escape(name)
                            + "\"><input type=\"hidden\" name=\"csrf\" value=\"" + csrf
                            + "\"><button type=\"submit\">Authorize</button></form>"), origins.signInCsp());
            return;
        }
        OAuthStates.Pending pending = states.create(name);
        Html.redirect(out, 303, source.authorizationUrl(admin.redirectUri(), pending.state(), pending.verifier())
                .toString());
        LOG.info("connection '{}': authorization started; browser sent to the provider", LogSafe.of(name));
    }

    /** {@code GET} or {@code POST /oauth/callback} (msal4j asks for {@code response_mode=form_post}). */
    public void callback(Exchange exchange) {
        Message in = exchange.getIn();
        String state = in.getHeader("state", String.class);
        String code = in.getHeader("code", String.class);
        String error = in.getHeader("error", String.class);
        String description = in.getHeader("error_description", String.class);
        Message out = reset(exchange);
        OAuthStates.Pending pending;
        try {
            pending = states.consume(state);
        } catch (OAuthStates.Refused refused) {
            LOG.warn("authorization answer refused: {}", LogSafe.of(refused.getMessage()));
            Html.respond(out, 400, Html.page("Authorization refused", refused.getMessage()));
            return;
        }
        String name = pending.connection();
        if (error != null || code == null) {
            LOG.warn("connection '{}': the provider answered the authorization with {}{}", LogSafe.of(name),
                    error == null ? "no code" : LogSafe.of(error),
                    description == null ? "" : ": " + LogSafe.of(description));
            Html.respond(out, 400, Html.page("Not authorized", "Connection '" + name + "': the provider answered "
                    + (error == null ? "without a code" : error) + (description == null ? "" : ": " + description)));
            return;
        }
        DelegatedGrant source = connections.get(name);
        if (source == null) {
            Html.respond(out, 404, Html.page("Unknown connection", "Connection '" + name + "' is no longer configured."));
            return;
        }
        try {
            String account = source.redeem(code, admin.redirectUri(), pending.verifier());
            tokens.forget(name);
            LOG.info("connection '{}': authorized by {}", LogSafe.of(name), LogSafe.of(account));
            Html.respond(out, 200, Html.page("Authorized", "Connection '" + name + "' is authorized as " + account
                    + ". Its mailboxes import from their next poll."));
        } catch (TokenException e) {
            LOG.warn("connection '{}': the code could not be redeemed: {}", LogSafe.of(name), LogSafe.of(e.getMessage()));
            Html.respond(out, 502, Html.page("Not authorized", e.getMessage()));
        }
    }

    /** Nothing that came in (code, state, cookies) is echoed back as a response header. */
    private static Message reset(Exchange exchange) {
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        return out;
    }

}

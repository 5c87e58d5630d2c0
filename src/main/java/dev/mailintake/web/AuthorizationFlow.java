package dev.mailintake.web;

import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenException;
import dev.mailintake.auth.TokenFailures;
import dev.mailintake.auth.TokenService;
import dev.mailintake.config.AdminConfig;
import dev.mailintake.store.GrantState;
import dev.mailintake.store.OAuthStates;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two ends of the delegated sign-in, called from the {@code oauth-redirect} routes: {@code start} (a POST from
 * the status page's Authorize button, with the browser's CSRF token) sends the browser to the provider with PKCE and
 * a one-time {@code state} bound to the connection; {@code callback} checks the state (unknown, expired or replayed →
 * 400, nothing stored), redeems the code and stores the grant. One redirect URI serves every connection: the state
 * tells them apart. {@code adminConsent} (the status page's "Ask an administrator", a POST like Authorize) sends a
 * tenant administrator to Entra's admin consent endpoint with a state of purpose
 * {@link OAuthStates.Purpose#ADMIN_CONSENT}; its answer ({@code admin_consent=True} or an error) comes to the same
 * callback, and the state's purpose says which answer it is. A sign-in refused for missing consent (AADSTS65001,
 * 90094) says to ask an administrator. Request values reach the log only through {@link LogSafe}.
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
        String name = connectionInPath(exchange);
        boolean post = AdminRequest.of(exchange).map(AdminRequest::changesState).orElse(false);
        DelegatedGrant source = connections.get(name);
        Message out = reset(exchange);
        if (source == null) {
            unknownConnection(out, name);
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

    /**
     * {@code POST /oauth/adminconsent/{connection}}: a new pending admin consent (purpose
     * {@link OAuthStates.Purpose#ADMIN_CONSENT}, kept like a sign-in's) and a 303 to Entra's admin consent endpoint
     * with the connection's scopes and the app's redirect URI. {@code GET} writes nothing: it answers a page with the
     * button and the URL (without a state) to send to an administrator.
     */
    public void adminConsent(Exchange exchange) {
        String name = connectionInPath(exchange);
        boolean post = AdminRequest.of(exchange).map(AdminRequest::changesState).orElse(false);
        DelegatedGrant source = connections.get(name);
        Message out = reset(exchange);
        if (source == null) {
            unknownConnection(out, name);
            return;
        }
        Optional<URI> shareable = source.adminConsentUrl(admin.redirectUri(), null);
        if (shareable.isEmpty()) {
            Html.respond(out, 409, Html.page("No admin consent here", "Connection '" + name + "' does not sign in"
                    + " with Microsoft in the browser (a generic OAuth2 provider or the device code flow): its"
                    + " provider's administrator grants consent in the provider's own console."));
            return;
        }
        if (!post) {
            access.respondWithForms(exchange, 200, csrf -> Html.document("Ask an administrator for connection " + name,
                    "<p>An administrator of the Microsoft tenant signs in at Microsoft and consents, for every user"
                            + " of the tenant, to the permissions connection " + Html.escape(name) + " asks for."
                            + " Then users sign in with Authorize without being asked.</p><form method=\"post\""
                            + " action=\"" + Html.escape(name) + "\"><input type=\"hidden\" name=\"csrf\" value=\""
                            + csrf + "\"><button type=\"submit\">Ask an administrator</button></form>"
                            + "<p>Or send the administrator this address: <code>" + Html.escape(shareable.get()
                            .toString()) + "</code></p>"), origins.signInCsp());
            return;
        }
        OAuthStates.Pending pending = states.create(name, OAuthStates.Purpose.ADMIN_CONSENT);
        Html.redirect(out, 303, source.adminConsentUrl(admin.redirectUri(), pending.state()).orElseThrow().toString());
        LOG.info("connection '{}': admin consent started; browser sent to the provider", LogSafe.of(name));
    }

    /** {@code GET} or {@code POST /oauth/callback} (msal4j asks for {@code response_mode=form_post}). */
    public void callback(Exchange exchange) {
        Message in = exchange.getIn();
        String state = in.getHeader("state", String.class);
        String code = in.getHeader("code", String.class);
        String error = in.getHeader("error", String.class);
        String description = in.getHeader("error_description", String.class);
        String adminConsent = in.getHeader("admin_consent", String.class);
        String tenant = in.getHeader("tenant", String.class);
        String scope = in.getHeader("scope", String.class);
        Message out = reset(exchange);
        OAuthStates.Pending pending;
        try {
            pending = states.consume(state);
        } catch (OAuthStates.Refused refused) {
            LOG.warn("authorization answer refused: {}", LogSafe.of(refused.getMessage()));
            Html.respond(out, 400, Html.page("Authorization refused", refused.getMessage() + (adminConsent == null
                    ? "" : ". If an administrator followed a link to consent, Microsoft has recorded their answer;"
                    + " Mail Intake cannot verify it and records nothing: sign in with Authorize on the status"
                    + " page, or use 'Ask an administrator' there.")));
            return;
        }
        String name = pending.connection();
        if (pending.purpose() == OAuthStates.Purpose.ADMIN_CONSENT) {
            adminConsentAnswer(out, name, adminConsent, tenant, scope, error, description);
            return;
        }
        if (error != null || code == null) {
            refusedSignIn(out, name, error, description);
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

    /**
     * The provider sent an error (or nothing) instead of a code. Missing consent (AADSTS65001, 90094: the tenant lets
     * only administrators consent) points to "Ask an administrator", on the page, in the log and, for a connection
     * without a usable grant, as its reason on the status page.
     */
    private void refusedSignIn(Message out, String name, String error, String description) {
        String answered = "Connection '" + name + "': the provider answered " + (error == null ? "without a code"
                : error) + (description == null ? "" : ": " + description);
        DelegatedGrant source = connections.get(name);
        if (error != null && TokenFailures.consentMissing(description)) {
            // the reason holds the error (made log-safe here), the AADSTS code's digits and our own text with the URL
            TokenException e = TokenFailures.classify(name, null, null, LogSafe.of(error), description, null,
                    source == null ? Optional.empty() : source.adminConsentUrl(admin.redirectUri(), null));
            LOG.warn("connection '{}': sign-in refused: {}", LogSafe.of(name), e.reason());
            boolean usable = source != null && source.grant().filter(g -> g.state() == GrantState.AUTHORIZED)
                    .isPresent();
            if (!usable) {
                tokens.signInFailed(e);
            }
            Html.respond(out, 400, Html.document("Not authorized", "<p>" + Html.escape(answered) + "</p><p class=\"bad\">"
                    + Html.escape(e.reason()) + "</p><p><a href=\"../\">Back to the status page</a></p>"));
            return;
        }
        LOG.warn("connection '{}': the provider answered the authorization with {}{}", LogSafe.of(name),
                error == null ? "no code" : LogSafe.of(error), description == null ? "" : ": " + LogSafe.of(description));
        Html.respond(out, 400, Html.page("Not authorized", answered));
    }

    /**
     * Entra's answer to an admin consent: {@code error} (the administrator declined, or may not consent) wins over
     * {@code admin_consent=True}, which Microsoft also sends with errors. Nothing is stored either way: the consent
     * lives at Microsoft. The {@code tenant} it names is shown, never trusted (Microsoft's warning).
     */
    private void adminConsentAnswer(Message out, String name, String adminConsent, String tenant, String scope,
                                    String error, String description) {
        if (error != null) {
            LOG.warn("connection '{}': the administrator's consent was not given: {}{}", LogSafe.of(name),
                    LogSafe.of(error), description == null ? "" : ": " + LogSafe.of(description));
            Html.respond(out, 400, Html.page("Consent not granted", "Connection '" + name + "': the provider answered "
                    + error + (description == null ? "" : ": " + description) + ". Nothing was recorded; an"
                    + " administrator of the tenant can try again with 'Ask an administrator' on the status page."));
            return;
        }
        if (!"true".equalsIgnoreCase(adminConsent)) {
            LOG.warn("connection '{}': the answer to the admin consent says neither admin_consent=True nor an error",
                    LogSafe.of(name));
            Html.respond(out, 400, Html.page("Consent not granted", "Connection '" + name + "': the provider's answer"
                    + " says neither that an administrator consented nor why not. Try again with 'Ask an"
                    + " administrator' on the status page."));
            return;
        }
        LOG.info("connection '{}': an administrator of tenant {} consented for the tenant to {}", LogSafe.of(name),
                LogSafe.of(tenant), LogSafe.of(scope));
        tokens.signInProblem(name).filter(p -> TokenFailures.consentMissing(p.getMessage()))
                .ifPresent(p -> tokens.forget(name));
        Html.respond(out, 200, Html.document("Consent granted", "<p class=\"ok\">An administrator of tenant "
                + Html.escape(tenant == null ? "(not named)" : tenant) + " consented, for every user of the tenant,"
                + " to the permissions of connection " + Html.escape(name) + (scope == null ? "" : ": <code>"
                + Html.escape(scope) + "</code>") + ".</p><p>Users of the tenant can now sign in: Authorize the"
                + " connection on the status page.</p><p><a href=\"../\">Back to the status page</a></p>"));
    }

    private static String connectionInPath(Exchange exchange) {
        String path = exchange.getIn().getHeader(Exchange.HTTP_PATH, "", String.class);
        return path.startsWith("/") ? path.substring(1) : path;
    }

    private static void unknownConnection(Message out, String name) {
        LOG.debug("sign-in asked for unknown connection {}", LogSafe.of(name));
        Html.respond(out, 404, Html.page("Unknown connection", "There is no delegated connection of that name."
                + " Connections that sign in are configured with flow=delegated."));
    }

    /** Nothing that came in (code, state, cookies) is echoed back as a response header. */
    private static Message reset(Exchange exchange) {
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        return out;
    }

}

package dev.mailintake.web;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.RefreshRun;
import dev.mailintake.auth.TokenRefresher;
import dev.mailintake.auth.Credential;
import dev.mailintake.auth.TokenException;
import dev.mailintake.auth.TokenService;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Flow;
import dev.mailintake.config.MailIntakeConfig;
import dev.mailintake.intake.Mailbox;
import dev.mailintake.ops.Cluster;
import dev.mailintake.intake.MailboxStatus;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.store.Grant;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page ({@code GET /}) and its actions ({@code POST}, checked by {@link AdminAccess} for Origin and the
 * browser's CSRF token): every connection with its authorization state, an Authorize button (a form posting to
 * {@code oauth/start/<connection>}), for Microsoft connections "Ask an administrator" (a form posting to
 * {@code oauth/adminconsent/<connection>}: a tenant administrator consents for every user), a Test button, "Refresh tokens now" (starts a round in the background, or joins
 * the running one) and the refresh round's progress and last result; every mailbox with its state, last poll and
 * counts. Plain server-rendered HTML with relative links (it also works behind a reverse proxy under a path
 * prefix); never a secret or a token.
 */
public final class StatusPage {
    private static final Logger LOG = LoggerFactory.getLogger(StatusPage.class);

    private final MailIntakeConfig config;
    private final Mailboxes mailboxes;
    private final Map<String, DelegatedGrant> delegated;
    private final TokenService tokens;
    private final TokenRefresher refresher;
    private final AdminAccess access;
    private final AdminOrigins origins;
    private final String redirectUri;

    /** What the page shows beyond the connections' and mailboxes' own state: credentials' expiry, mailboxes' owners. */
    public record Extras(Map<String, Credential> credentials, Cluster cluster, java.time.Clock clock) {
    }

    private final Extras extras;

    public StatusPage(MailIntakeConfig config, Mailboxes mailboxes, Map<String, DelegatedGrant> delegated,
                      TokenService tokens, TokenRefresher refresher, AdminAccess access, AdminOrigins origins,
                      Extras extras) {
        this.extras = extras;
        this.config = config;
        this.mailboxes = mailboxes;
        this.delegated = Map.copyOf(delegated);
        this.tokens = tokens;
        this.refresher = refresher;
        this.access = access;
        this.origins = origins;
        this.redirectUri = config.admin().redirectUri();
    }

    /** {@code GET /}. */
    public void render(Exchange exchange) {
        Optional<String> flash = Optional.ofNullable(exchange.getIn().getHeader("refresh", String.class));
        access.respondWithForms(exchange, 200, csrf -> page(csrf, flash), origins.signInCsp());
    }

    private String page(String csrfToken, Optional<String> flash) {
        RefreshRun.Status refresh = refresher.status();
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mail Intake</title>")
                .append(refresh.running().isPresent() ? "<meta http-equiv=\"refresh\" content=\"5\">" : "")
                .append("<meta name=\"viewport\" content=\"width=device-width\"><style>")
                .append("body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;")
                .append("width:100%;margin-bottom:2rem}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ccc}")
                .append(".bad{color:#a00;font-weight:600}.ok{color:#060}</style></head><body><main>")
                .append("<h1>Mail Intake</h1>");
        flash.filter("requested"::equals).ifPresent(f -> h.append("<p role=\"status\">Token refresh requested;")
                .append(" its progress and result are shown below.</p>"));

        h.append("<h2>Connections</h2><table><thead><tr><th scope=\"col\">Connection</th><th scope=\"col\">Flow</th>")
                .append("<th scope=\"col\">Authorization</th><th scope=\"col\">Access token valid until</th>")
                .append("<th scope=\"col\">Refresh token last redeemed</th><th scope=\"col\">Credential</th>")
                .append("<th scope=\"col\">Action</th><th scope=\"col\">Check</th></tr></thead><tbody>");
        for (ConnectionConfig c : config.connections().values()) {
            h.append("<tr><th scope=\"row\">").append(Html.escape(c.name())).append("</th><td>")
                    .append(c.flow() == Flow.CLIENT_CREDENTIALS ? "app-only" : c.flow() == Flow.DELEGATED ? "delegated" : "device code").append("</td>");
            if (c.flow() == Flow.DELEGATED || c.flow() == Flow.DEVICE_CODE) {
                Optional<Grant> grant = delegated.get(c.name()).grant();
                h.append("<td>").append(authorization(grant, tokens.problem(c.name()), tokens.signInProblem(c.name())))
                        .append("</td>");
                h.append("<td>").append(time(tokens.cached(c.name()).map(AccessToken::expiresAt))).append("</td>");
                h.append("<td>").append(time(grant.flatMap(Grant::refreshedAt))).append("</td>");
                h.append("<td>").append(credential(c.name())).append("</td>");
                if (c.flow() == Flow.DEVICE_CODE) {
                    h.append("<td><code>java -jar mail-intake.jar authorize ").append(Html.escape(c.name()))
                            .append(" --device-code</code></td>");
                } else {
                    h.append("<td><form method=\"post\" action=\"oauth/start/").append(Html.escape(c.name()))
                            .append("\"><input type=\"hidden\" name=\"csrf\" value=\"").append(csrfToken)
                            .append("\"><button type=\"submit\">Authorize</button></form>");
                    if (delegated.get(c.name()).adminConsentUrl(redirectUri, null).isPresent()) {
                        h.append("<form method=\"post\" action=\"oauth/adminconsent/").append(Html.escape(c.name()))
                                .append("\"><input type=\"hidden\" name=\"csrf\" value=\"").append(csrfToken)
                                .append("\"><button type=\"submit\" title=\"A tenant administrator consents for every")
                                .append(" user of the tenant\">Ask an administrator</button></form>");
                    }
                    h.append("</td>");
                }
            } else {
                h.append("<td>").append(tokens.problem(c.name()).map(StatusPage::problem).orElse("client credentials"))
                        .append("</td><td>")
                        .append(time(tokens.cached(c.name()).map(AccessToken::expiresAt))).append("</td><td>–</td><td>")
                        .append(credential(c.name())).append("</td><td></td>");
            }
            h.append("<td><form method=\"post\" action=\"actions/test-connection\"><input type=\"hidden\" name=\"csrf\"")
                    .append(" value=\"").append(csrfToken).append("\"><input type=\"hidden\" name=\"name\" value=\"")
                    .append(Html.escape(c.name())).append("\"><button type=\"submit\">Test</button></form></td>");
            h.append("</tr>");
        }
        h.append("</tbody></table>");
        if (!delegated.isEmpty()) {
            h.append("<form method=\"post\" action=\"actions/refresh-tokens\"><input type=\"hidden\" name=\"csrf\" value=\"")
                    .append(csrfToken).append("\"><button type=\"submit\">Refresh tokens now</button></form>");
            refreshStatus(h, refresh);
        }

        h.append("<h2>Mailboxes</h2><table><thead><tr><th scope=\"col\">Mailbox</th><th scope=\"col\">Address</th>")
                .append("<th scope=\"col\">Read over</th><th scope=\"col\">Connection</th><th scope=\"col\">State</th><th scope=\"col\">Last poll</th>")
                .append("<th scope=\"col\">Imported</th><th scope=\"col\">Errors</th><th scope=\"col\">Postponed</th>")
                .append(extras.cluster().clustered() ? "<th scope=\"col\">Owner</th>" : "")
                .append("</tr></thead><tbody>");
        for (Mailbox mb : mailboxes.all()) {
            MailboxStatus s = mb.status();
            boolean bad = s.state() == MailboxStatus.State.FAILED || s.state() == MailboxStatus.State.PAUSED;
            h.append("<tr><th scope=\"row\">").append(Html.escape(mb.name())).append("</th><td>")
                    .append(Html.escape(mb.config().address())).append("</td><td>")
                    .append(Html.escape(mb.config().imap().map(i -> "IMAP " + i.host() + ":" + i.port()).orElse("Graph")))
                    .append("</td><td>")
                    .append(Html.escape(mb.config().connection())).append("</td><td class=\"")
                    .append(bad ? "bad" : "ok").append("\">").append(s.state().name().toLowerCase())
                    .append(s.reason().map(r -> ": " + Html.escape(r)).orElse("")).append("</td><td>")
                    .append(time(s.lastPoll())).append("</td><td>").append(s.importedCount()).append("</td><td>")
                    .append(s.errorCount()).append("</td><td>").append(s.postponedCount()).append("</td>");
            if (extras.cluster().clustered()) {
                String ns = "mailbox-" + mb.name();
                h.append("<td>").append(extras.cluster().owns(ns) ? "this instance ("
                        + Html.escape(extras.cluster().instanceId()) + ")"
                        : Html.escape(extras.cluster().owner(ns).orElse("none yet"))).append("</td>");
            }
            h.append("</tr>");
        }
        h.append("</tbody></table></main></body></html>");
        return h.toString();
    }

    /** When the connection's secret or certificate expires; a warning from 30 days before. */
    private String credential(String connection) {
        Credential c = extras.credentials().get(connection);
        if (c == null || c.expiresAt().isEmpty()) {
            return c == null || c.kind().equals("none") ? "–" : Html.escape(c.kind()) + ": expiry not given";
        }
        return c.warning(extras.clock()).map(w -> "<span class=\"bad\">" + Html.escape(w) + "</span>")
                .orElse(Html.escape(c.kind()) + " valid until " + time(c.expiresAt()));
    }

    private static void refreshStatus(StringBuilder h, RefreshRun.Status status) {
        status.running().ifPresent(r -> h.append("<p role=\"status\">Token refresh running since ")
                .append(time(Optional.of(r.startedAt()))).append(" (started by ").append(Html.escape(r.trigger()))
                .append(").</p>"));
        status.last().ifPresentOrElse(r -> {
            h.append("<p>Last token refresh (started by ").append(Html.escape(r.trigger())).append(") finished at ")
                    .append(time(r.finishedAt())).append(":</p><ul>");
            r.outcomes().forEach((name, o) -> h.append("<li class=\"").append(o.ok() ? "ok" : "bad").append("\">")
                    .append(Html.escape(name)).append(": ").append(Html.escape(o.text())).append("</li>"));
            h.append("</ul>");
        }, () -> h.append("<p>No token refresh has run since the start.</p>"));
    }

    /**
     * {@code POST /actions/test-connection}: gets a token for the connection and, for each of its mailboxes, signs in,
     * resolves the folders and opens the Inbox (nothing imported or moved). Shows each outcome, never a token.
     */
    public void testConnection(Exchange exchange) {
        Message out = exchange.getMessage();
        String name = exchange.getIn().getHeader("name", String.class); // not "connection": an HTTP header of that name wins
        if (name == null || !config.connections().containsKey(name)) {
            Html.respond(out, 404, Html.page("Unknown connection", "There is no connection of that name."));
            return;
        }
        StringBuilder body = new StringBuilder("<ul>");
        boolean ok = true;
        try {
            AccessToken token = tokens.token(name);
            body.append("<li class=\"ok\">Token: issued, valid until ").append(Html.escape(token.expiresAt().toString()))
                    .append("</li>");
        } catch (RuntimeException e) {
            ok = false;
            body.append("<li class=\"bad\">Token: ").append(Html.escape(String.valueOf(e.getMessage()))).append("</li>");
        }
        for (Mailbox mb : mailboxes.all()) {
            if (!mb.config().connection().equals(name)) {
                continue;
            }
            String outcome;
            boolean good;
            try {
                outcome = mb.gateway().check();
                good = true;
            } catch (RuntimeException e) {
                outcome = String.valueOf(e.getMessage());
                good = false;
            }
            ok &= good;
            body.append("<li class=\"").append(good ? "ok" : "bad").append("\">Mailbox ").append(Html.escape(mb.name()))
                    .append(" (").append(Html.escape(mb.config().address())).append("): ").append(Html.escape(outcome))
                    .append("</li>");
        }
        body.append("</ul><p><a href=\"../\">Back to the status page</a></p>");
        LOG.info("connection '{}' tested from the status page: {}", LogSafe.of(name), ok ? "ok" : "problems found");
        Html.respond(out, 200, Html.document("Test of connection " + name + (ok ? ": OK" : ": problems found"),
                body.toString()));
    }

    /**
     * {@code POST /actions/refresh-tokens}: starts a refresh round in the background (or joins the running one) and
     * answers at once with a 303 back to the status page, which shows the round's progress and result.
     */
    public void refreshTokens(Exchange exchange) {
        LOG.info("token refresh requested from the status page");
        refresher.requestNow();
        // relative, so the page also works behind a reverse proxy under a path prefix
        Html.redirect(exchange.getMessage(), 303, "../?refresh=requested");
    }

    /**
     * The stored grant's state, unless the last token request said more: an expired client secret shows here as soon
     * as a refresh meets it, while the grant itself stays authorized.
     */
    private static String authorization(Optional<Grant> grant, Optional<TokenException> problem,
                                        Optional<TokenException> signInProblem) {
        // a failed sign-in (e.g. an administrator must consent first) says why, as the newest news
        String lastSignIn = signInProblem.map(p -> Html.escape(withoutLead(p.reason(), "re-authorization required")))
                .orElse(null);
        if (grant.isEmpty()) {
            return "<span class=\"bad\">never authorized</span>" + (lastSignIn == null ? "" : ": " + lastSignIn);
        }
        Grant g = grant.get();
        return switch (g.state()) {
            case AUTHORIZED -> problem.map(StatusPage::problem).orElse(
                    "<span class=\"ok\">authorized as " + Html.escape(g.account().orElse("?")) + "</span>");
            case REAUTHORIZATION_REQUIRED -> "<span class=\"bad\">re-authorization required</span>: "
                    + (lastSignIn != null ? lastSignIn
                    : Html.escape(withoutLead(g.reason().orElse(""), "re-authorization required")));
            case ADMIN_MUST_FIX -> "<span class=\"bad\">admin must fix the app</span>: " + Html.escape(g.reason().orElse(""));
        };
    }

    private static String problem(TokenException e) {
        return "<span class=\"bad\">" + (e.kind() == TokenException.Kind.REAUTHORIZATION_REQUIRED
                ? "re-authorization required" : "admin must fix the app") + "</span>: "
                + Html.escape(withoutLead(e.reason(), "re-authorization required"));
    }

    /** A reason without the connection's name and the state's words in front, which the page shows already. */
    private static String withoutLead(String reason, String lead) {
        String r = reason.replaceFirst("^connection '[^']*': ", "");
        return r.startsWith(lead) ? r.substring(lead.length()).replaceFirst("^[:\\s]+", "") : r;
    }

    private static String time(Optional<Instant> t) {
        return t.map(i -> "<time datetime=\"" + i + "\">" + i + "</time>").orElse("–");
    }

}

package dev.mailintake.check;

import dev.mailintake.auth.AccessToken;
import dev.mailintake.auth.DelegatedGrant;
import dev.mailintake.auth.TokenService;
import dev.mailintake.auth.TrustStores;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Flow;
import dev.mailintake.config.MailIntakeConfig;
import dev.mailintake.config.MailboxConfig;
import dev.mailintake.config.Protocol;
import dev.mailintake.config.Provider;
import dev.mailintake.config.Secret;
import dev.mailintake.intake.Mailbox;
import dev.mailintake.intake.Mailboxes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code java -jar mail-intake.jar check}: everything the status page's Test button checks, and more, without importing
 * or moving anything — per connection the token, the permissions it carries and (for a browser sign-in) whether the
 * provider accepts the redirect URI; per mailbox sign-in, folders and Inbox, and whether the target can be written.
 * Each result says what to fix. (Missing Processed/Error folders are created when create-folders=true, as the first
 * poll would.)
 */
public final class Preflight {
    private final MailIntakeConfig config;
    private final Mailboxes mailboxes;
    private final TokenService tokens;
    private final Map<String, DelegatedGrant> delegated;
    private final SecureRandom random = new SecureRandom();

    public Preflight(MailIntakeConfig config, Mailboxes mailboxes, TokenService tokens,
                     Map<String, DelegatedGrant> delegated) {
        this.config = config;
        this.mailboxes = mailboxes;
        this.tokens = tokens;
        this.delegated = Map.copyOf(delegated);
    }

    /**
     * Checks the named mailboxes (all when none is named) and the connections they use.
     *
     * @throws IllegalArgumentException naming a mailbox that is not configured
     */
    public List<CheckResult> run(List<String> mailboxNames) {
        List<Mailbox> selected = new ArrayList<>();
        for (String name : mailboxNames) {
            if (!config.mailboxes().containsKey(name)) {
                throw new IllegalArgumentException("no mailbox named '" + name + "'; configured: "
                        + config.mailboxes().keySet());
            }
            selected.add(mailboxes.get(name));
        }
        if (mailboxNames.isEmpty()) {
            selected.addAll(mailboxes.all());
        }
        Set<String> connections = new LinkedHashSet<>();
        selected.forEach(mb -> connections.add(mb.config().connection()));
        if (mailboxNames.isEmpty()) {
            connections.addAll(config.connections().keySet());
        }
        List<CheckResult> out = new ArrayList<>();
        connections.forEach(c -> connection(config.connections().get(c), out));
        selected.forEach(mb -> mailbox(mb, out));
        return out;
    }

    private void connection(ConnectionConfig c, List<CheckResult> out) {
        Optional<AccessToken> token;
        try {
            AccessToken t = tokens.token(c.name());
            token = Optional.of(t);
            out.add(new CheckResult("connection", c.name(), "token", true, "issued, valid until " + t.expiresAt()));
        } catch (RuntimeException e) {
            token = Optional.empty();
            out.add(new CheckResult("connection", c.name(), "token", false, String.valueOf(e.getMessage())));
        }
        token.ifPresent(t -> permissions(c, t, out));
        if (c.flow() == Flow.DELEGATED && delegated.containsKey(c.name())) {
            redirectUri(c, delegated.get(c.name()), out);
        }
    }

    /** The permission the connection's mailboxes need, named from the token's roles or scopes when it is a JWT. */
    private void permissions(ConnectionConfig c, AccessToken token, List<CheckResult> out) {
        if (c.provider() != Provider.MICROSOFT) {
            return;
        }
        Optional<TokenClaims> claims = TokenClaims.of(token.value());
        if (claims.isEmpty()) {
            out.add(new CheckResult("connection", c.name(), "permissions", true, "the token does not show its"
                    + " permissions (not a JWT); the mailbox checks below show whether access works"));
            return;
        }
        boolean appOnly = c.flow() == Flow.CLIENT_CREDENTIALS;
        List<String> missing = new ArrayList<>();
        for (String needed : needed(c, appOnly)) {
            if (!claims.get().grants(needed)) {
                missing.add(needed);
            }
        }
        if (missing.isEmpty()) {
            out.add(new CheckResult("connection", c.name(), "permissions", true, "the token carries "
                    + (appOnly ? claims.get().roles() : claims.get().scopes())));
        } else {
            out.add(new CheckResult("connection", c.name(), "permissions", false, "the token lacks " + missing
                    + (appOnly ? "; add the application permission(s) in the app registration (API permissions) and"
                    + " grant admin consent" : "; add the delegated permission(s) in the app registration, grant"
                    + " consent and sign in again")));
        }
    }

    private List<String> needed(ConnectionConfig c, boolean appOnly) {
        boolean imap = config.mailboxes().values().stream()
                .anyMatch(m -> m.connection().equals(c.name()) && m.protocol() == Protocol.IMAP);
        if (imap) {
            return List.of(appOnly ? "IMAP.AccessAsApp" : "IMAP.AccessAsUser.All");
        }
        List<String> needed = new ArrayList<>(List.of("Mail.ReadWrite"));
        Optional<String> account = Optional.ofNullable(delegated.get(c.name()))
                .flatMap(DelegatedGrant::grant).flatMap(g -> g.account());
        boolean shared = !appOnly && config.mailboxes().values().stream()
                .filter(m -> m.connection().equals(c.name())).map(MailboxConfig::address)
                .anyMatch(a -> account.map(acc -> !acc.equalsIgnoreCase(a)).orElse(false));
        if (shared) {
            needed.add("Mail.ReadWrite.Shared");
        }
        return needed;
    }

    /** Asks the provider's authorize endpoint whether it knows the redirect URI (Entra: AADSTS50011 if not). */
    private void redirectUri(ConnectionConfig c, DelegatedGrant grant, List<CheckResult> out) {
        String redirect = config.admin().redirectUri();
        URI url = grant.authorizationUrl(redirect, token(24), token(48)); // a state nobody will redeem
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NEVER);
        c.trustStore().ifPresent(ts -> b.sslContext(TrustStores.context(ts,
                c.trustStorePassword().map(Secret::value).orElse(""))));
        try {
            HttpResponse<String> answer = b.build().send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (answer.body().contains("AADSTS50011") || answer.body().contains("AADSTS500113")) {
                out.add(new CheckResult("connection", c.name(), "redirect-uri", false, "the app registration does not"
                        + " list " + redirect + " as a redirect URI (AADSTS50011): add it under Authentication → Web,"
                        + " or set mailintake.admin.public-base-url to the address that is registered"));
            } else if (answer.statusCode() >= 400) {
                java.util.regex.Matcher aadsts = java.util.regex.Pattern.compile("AADSTS\\d+: [^<\"]{0,300}")
                        .matcher(answer.body());
                out.add(new CheckResult("connection", c.name(), "redirect-uri", false, "the authorize endpoint"
                        + " answered HTTP " + answer.statusCode() + " for redirect URI " + redirect
                        + (aadsts.find() ? " (" + aadsts.group() + ")" : "; sign in from the status page to see the"
                        + " provider's message")));
            } else {
                out.add(new CheckResult("connection", c.name(), "redirect-uri", true, "the provider accepts "
                        + redirect));
            }
        } catch (IOException e) {
            out.add(new CheckResult("connection", c.name(), "redirect-uri", false, "cannot reach the authorize"
                    + " endpoint " + url.getScheme() + "://" + url.getAuthority() + " (" + e + ")"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void mailbox(Mailbox mb, List<CheckResult> out) {
        String disabled = mb.config().enabled() ? "" : "(disabled, checked anyway) ";
        try {
            out.add(new CheckResult("mailbox", mb.name(), "mailbox", true, disabled + mb.gateway().check()));
        } catch (RuntimeException e) {
            out.add(new CheckResult("mailbox", mb.name(), "mailbox", false, String.valueOf(e.getMessage())));
        }
        Path probe = null;
        try {
            probe = mb.target().newSpoolDir();
            out.add(new CheckResult("mailbox", mb.name(), "target", true, "writable: " + probe.getParent()));
        } catch (IOException | RuntimeException e) {
            out.add(new CheckResult("mailbox", mb.name(), "target", false, "cannot write the target's spool ("
                    + e + "); give the application's user write access or change the mailbox's target"));
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // an empty directory the next start-up sweeps
                }
            }
        }
    }

    private String token(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}

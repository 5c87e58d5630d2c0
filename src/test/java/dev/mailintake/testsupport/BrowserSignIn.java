package dev.mailintake.testsupport;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser without JavaScript (but with cookies) signing in as an administrator does: the status page, its Authorize
 * button (a POST to {@code /oauth/start/<connection>} with the page's CSRF token), the fake's authorize endpoint
 * (already signed in there with {@link GraphFake#signInAs}) and back to the callback; likewise its "Ask an
 * administrator" button ({@code /oauth/adminconsent/<connection>}, the fake's admin consent endpoint).
 */
public final class BrowserSignIn {
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");
    private final HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .cookieHandler(new java.net.CookieManager()).build();
    private final HttpClient toProvider;
    private final int adminPort;

    public BrowserSignIn(GraphFake fake, int adminPort) {
        this.adminPort = adminPort;
        this.toProvider = HttpClient.newBuilder().sslContext(fake.clientSslContext())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public HttpClient browser() {
        return browser;
    }

    public HttpClient toProvider() {
        return toProvider;
    }

    public static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The CSRF token of the status page's forms for this browser (its cookie is kept by {@link #browser()}). */
    public String csrfToken() throws Exception {
        HttpResponse<String> page = get(browser, "http://127.0.0.1:" + adminPort + "/");
        Matcher csrf = CSRF.matcher(page.body());
        if (page.statusCode() != 200 || !csrf.find()) {
            throw new AssertionError("the status page answered " + page.statusCode() + ": " + page.body());
        }
        return csrf.group(1);
    }

    /** Where the status page's Authorize button for the connection sends the browser (the provider's authorize URL). */
    public String authorizeUrl(String connection) throws Exception {
        HttpResponse<String> start = post("http://127.0.0.1:" + adminPort + "/oauth/start/" + connection,
                Map.of("csrf", csrfToken()));
        if (start.statusCode() != 303) {
            throw new AssertionError("/oauth/start answered " + start.statusCode() + ": " + start.body());
        }
        return start.headers().firstValue("Location").orElseThrow();
    }

    /**
     * Where the status page's "Ask an administrator" button for the connection sends the browser (Entra's admin
     * consent URL, with a one-time state).
     */
    public String adminConsentUrl(String connection) throws Exception {
        HttpResponse<String> start = post("http://127.0.0.1:" + adminPort + "/oauth/adminconsent/" + connection,
                Map.of("csrf", csrfToken()));
        if (start.statusCode() != 303) {
            throw new AssertionError("/oauth/adminconsent answered " + start.statusCode() + ": " + start.body());
        }
        return start.headers().firstValue("Location").orElseThrow();
    }

    /**
     * Opens a provider URL that redirects back to the application (the admin consent endpoint; an authorize URL in
     * query mode) and follows that redirect in this browser; returns the application's answer.
     */
    public HttpResponse<String> viaProvider(String providerUrl) throws Exception {
        HttpResponse<String> provider = get(toProvider, providerUrl);
        if (provider.statusCode() != 302) {
            throw new AssertionError("the provider answered " + provider.statusCode() + ": " + provider.body());
        }
        return get(browser, provider.headers().firstValue("Location").orElseThrow()
                .replace("http://localhost:", "http://127.0.0.1:"));
    }

    /** The status page's "Ask an administrator" through the provider (signed in there as an administrator). */
    public HttpResponse<String> adminConsent(String connection) throws Exception {
        return viaProvider(adminConsentUrl(connection));
    }

    /** Follows the authorize URL to the provider's auto-submitting form_post page and returns (action, fields). */
    public Map.Entry<String, Map<String, String>> formPost(String authorizeUrl) throws Exception {
        HttpResponse<String> page = get(toProvider, authorizeUrl);
        if (page.statusCode() != 200) {
            throw new AssertionError("the provider answered " + page.statusCode() + ": " + page.body());
        }
        Matcher action = Pattern.compile("<form[^>]*action=\"([^\"]+)\"").matcher(page.body());
        if (!action.find()) {
            throw new AssertionError("no form in " + page.body());
        }
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher input = Pattern.compile("<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"").matcher(page.body());
        while (input.find()) {
            fields.put(input.group(1), unescape(input.group(2)));
        }
        return Map.entry(unescape(action.group(1)), fields);
    }

    /** Posts the provider's form to the application's callback, as the browser would. */
    public HttpResponse<String> post(String action, Map<String, String> fields) throws Exception {
        String form = fields.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        String target = action.replace("http://localhost:", "http://127.0.0.1:");
        return browser.send(HttpRequest.newBuilder(URI.create(target))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The whole Entra sign-in (form_post); returns the application's answer to the callback. */
    public HttpResponse<String> signIn(String connection) throws Exception {
        Map.Entry<String, Map<String, String>> form = formPost(authorizeUrl(connection));
        return post(form.getKey(), form.getValue());
    }

    /** The whole sign-in with a generic provider that redirects back with the code in the query. */
    public HttpResponse<String> signInByRedirect(String connection) throws Exception {
        HttpResponse<String> provider = get(toProvider, authorizeUrl(connection));
        if (provider.statusCode() != 302) {
            throw new AssertionError("the provider answered " + provider.statusCode() + ": " + provider.body());
        }
        String callback = provider.headers().firstValue("Location").orElseThrow()
                .replace("http://localhost:", "http://127.0.0.1:");
        return get(browser, callback);
    }

    private static String unescape(String html) {
        return html.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'")
                .replace("&#x27;", "'").replace("&amp;", "&");
    }
}

package dev.mailintake.web;

import dev.mailintake.config.AdminConfig;
import java.net.URI;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the admin pages may be reached from (DNS rebinding: a foreign {@code Host} is refused) and which pages may
 * post to them (a foreign {@code Origin} is refused): the public base URL's host and origin, loopback names with the
 * admin port ({@code localhost}, {@code 127.x.x.x}, {@code [::1]}), and the configured {@code admin.host} when it is
 * one address rather than every interface. Also the CSP of the pages that send the browser to a provider.
 */
public final class AdminOrigins {
    private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final String BASE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none';"
            + " frame-ancestors 'none'; form-action 'self'";

    /** A host and port as they appear in a {@code Host} header or an origin; host lower-case, IPv6 in brackets. */
    private record HostPort(String host, int port) {
    }

    private final int adminPort;
    private final HostPort publicHost;
    private final String publicScheme;
    private final Optional<String> boundHost;
    private final String signInCsp;

    /**
     * @param providerOrigins the origins of the providers' authorize pages: a sign-in form posts to us and is sent
     *                        on there, and browsers apply {@code form-action} to that redirect too
     */
    public AdminOrigins(AdminConfig admin, Collection<String> providerOrigins) {
        this.adminPort = admin.port();
        URI base = admin.publicBaseUrl();
        this.publicScheme = base.getScheme().toLowerCase(Locale.ROOT);
        this.publicHost = new HostPort(bracketed(base.getHost()), base.getPort() != -1 ? base.getPort()
                : defaultPort(publicScheme));
        String h = admin.host().toLowerCase(Locale.ROOT);
        this.boundHost = h.equals("0.0.0.0") || h.equals("[::]") || h.equals("::") ? Optional.empty() : Optional.of(h);
        this.signInCsp = BASE_CSP + providerOrigins.stream().distinct().map(o -> " " + o).reduce("", String::concat);
    }

    /** The CSP of every admin answer. */
    public static String csp() {
        return BASE_CSP;
    }

    /** The CSP of a page with an Authorize form (its target redirects to the provider). */
    public String signInCsp() {
        return signInCsp;
    }

    /** Whether a request with this {@code Host} header was meant for us. */
    public boolean hostAllowed(String hostHeader) {
        return parse(hostHeader, 80).filter(this::local).isPresent()
                || parse(hostHeader, defaultPort(publicScheme)).filter(publicHost::equals).isPresent();
    }

    /** Whether an {@code Origin} (or the origin of a {@code Referer}) is one of our own pages. */
    public boolean originAllowed(String originOrReferer) {
        URI u;
        try {
            u = URI.create(originOrReferer.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (u.getScheme() == null || u.getHost() == null || u.getRawUserInfo() != null) {
            return false;
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        HostPort hp = new HostPort(bracketed(u.getHost().toLowerCase(Locale.ROOT)),
                u.getPort() != -1 ? u.getPort() : defaultPort(scheme));
        return (scheme.equals(publicScheme) && hp.equals(publicHost)) || (scheme.equals("http") && local(hp));
    }

    /** Whether this request came through the https public base URL (its cookies can be {@code Secure}). */
    public boolean viaHttpsPublicUrl(String hostHeader) {
        return publicScheme.equals("https")
                && parse(hostHeader, defaultPort(publicScheme)).filter(publicHost::equals).isPresent();
    }

    private boolean local(HostPort hp) {
        if (hp.port() != adminPort) {
            return false;
        }
        String h = hp.host();
        return h.equals("localhost") || h.equals("[::1]") || LOOPBACK_V4.matcher(h).matches()
                || boundHost.filter(h::equals).isPresent();
    }

    private static Optional<HostPort> parse(String hostHeader, int defaultPort) {
        if (hostHeader == null || hostHeader.isBlank()) {
            return Optional.empty();
        }
        String v = hostHeader.trim().toLowerCase(Locale.ROOT);
        String host;
        String port;
        if (v.startsWith("[")) {
            int end = v.indexOf(']');
            if (end < 0) {
                return Optional.empty();
            }
            host = v.substring(0, end + 1);
            String rest = v.substring(end + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return Optional.empty();
            }
            port = rest.isEmpty() ? null : rest.substring(1);
        } else {
            int colon = v.indexOf(':');
            host = colon < 0 ? v : v.substring(0, colon);
            port = colon < 0 ? null : v.substring(colon + 1);
        }
        if (host.isEmpty() || (port != null && !port.matches("\\d{1,5}"))) {
            return Optional.empty();
        }
        return Optional.of(new HostPort(host, port == null ? defaultPort : Integer.parseInt(port)));
    }

    private static String bracketed(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
    }

    private static int defaultPort(String scheme) {
        return "https".equals(scheme) ? 443 : 80;
    }
}

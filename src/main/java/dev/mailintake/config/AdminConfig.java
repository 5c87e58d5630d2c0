package dev.mailintake.config;

import java.net.URI;

/**
 * The admin web server (Undertow): the OAuth redirect route. Bound to 127.0.0.1 by default; behind a reverse proxy
 * {@code publicBaseUrl} is the address browsers use, and the redirect URI is {@code <publicBaseUrl>/oauth/callback}.
 * Beyond localhost the admin pages require {@code password} (HTTP Basic, user {@code admin}).
 */
public record AdminConfig(String host, int port, URI publicBaseUrl, java.util.Optional<Secret> password) {
    public String redirectUri() {
        String base = publicBaseUrl.toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/oauth/callback";
    }
}

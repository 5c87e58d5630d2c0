package dev.mailintake.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A named connection: an Entra ID app registration (or a generic OAuth2 client) plus its credentials.
 *
 * @param authorityHost     e.g. {@code https://login.microsoftonline.com}; the authority is {@code <host>/<tenant>/}
 * @param graphBaseUrl      e.g. {@code https://graph.microsoft.com/v1.0}
 * @param instanceDiscovery whether msal4j may ask the authority host about itself (off for private/test hosts)
 */
public record ConnectionConfig(
        String name,
        Provider provider,
        Flow flow,
        String tenantId,
        String clientId,
        Optional<Secret> clientSecret,
        Optional<Path> certificate,
        Optional<Path> certificateKey,
        Optional<Secret> certificatePassword,
        URI authorityHost,
        URI graphBaseUrl,
        List<String> scopes,
        boolean instanceDiscovery,
        Optional<Path> trustStore,
        Optional<Secret> trustStorePassword) {

    /** The Entra authority URL for this connection, always ending with a slash. */
    public String authority() {
        String host = authorityHost.toString();
        return (host.endsWith("/") ? host : host + "/") + tenantId + "/";
    }
}

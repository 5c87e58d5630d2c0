package dev.mailintake.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A named connection: an Entra ID app registration (or a generic OAuth2 client) plus its credentials.
 *
 * @param authorityHost     e.g. {@code https://login.microsoftonline.com}; the authority is {@code <host>/<tenant>/}
 * @param graphBaseUrl      e.g. {@code https://graph.microsoft.com/v1.0}
 * @param instanceDiscovery whether msal4j may ask the authority host about itself (off for private/test hosts)
 * @param clientSecretExpires the client secret's expiry date as the app registration shows it, if given
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
        Optional<Secret> trustStorePassword,
        GenericOAuth generic,
        Optional<java.time.LocalDate> clientSecretExpires) {

    /**
     * The endpoints and conventions of a {@code provider=generic} OAuth2 server (unused for Microsoft).
     *
     * @param scopeSeparator  how scopes are joined in requests (space by default; some providers want a comma)
     * @param basicAuth       send the client credentials as HTTP Basic instead of in the form
     * @param authorizeParams extra parameters for the authorize request, e.g. {@code access_type=offline} for Google
     * @param tokenParams     extra form fields of every token request ({@code token-params.<name>}), in key order;
     *                        their values are kept as secrets: never printed
     */
    public record GenericOAuth(Optional<URI> authorizeUrl, Optional<URI> tokenUrl, String scopeSeparator,
                               boolean basicAuth, String authorizeParams, Map<String, Secret> tokenParams) {
        public GenericOAuth {
            tokenParams = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(tokenParams));
        }

        public static GenericOAuth none() {
            return new GenericOAuth(Optional.empty(), Optional.empty(), " ", false, "", Map.of());
        }
    }

    public Optional<URI> authorizeUrl() {
        return generic.authorizeUrl();
    }

    public Optional<URI> tokenUrl() {
        return generic.tokenUrl();
    }


    /** The Entra authority URL for this connection, always ending with a slash. */
    public String authority() {
        String host = authorityHost.toString();
        return (host.endsWith("/") ? host : host + "/") + tenantId + "/";
    }
}

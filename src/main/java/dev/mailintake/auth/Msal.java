package dev.mailintake.auth;

import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.ITokenCacheAccessAspect;
import com.microsoft.aad.msal4j.PublicClientApplication;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Secret;
import java.net.MalformedURLException;

/** Builds msal4j confidential clients for a connection: authority, discovery switches, TLS trust, credential. */
final class Msal {
    private Msal() {
    }

    /** A public client (device code flow): no credential, the app registration must allow public client flows. */
    static PublicClientApplication publicClient(ConnectionConfig connection, ITokenCacheAccessAspect cache) {
        try {
            PublicClientApplication.Builder builder = PublicClientApplication.builder(connection.clientId())
                    .authority(connection.authority())
                    .instanceDiscovery(connection.instanceDiscovery())
                    .validateAuthority(connection.instanceDiscovery())
                    .logPii(false)
                    .setTokenCacheAccessAspect(cache);
            if (connection.trustStore().isPresent()) {
                builder.sslSocketFactory(TrustStores.socketFactory(connection.trustStore().get(),
                        connection.trustStorePassword().map(Secret::value).orElse("")));
            }
            return builder.build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': authority "
                    + connection.authority() + " is not a valid URL", e);
        }
    }

    static ConfidentialClientApplication client(ConnectionConfig connection, ITokenCacheAccessAspect cache) {
        try {
            ConfidentialClientApplication.Builder builder = ConfidentialClientApplication
                    .builder(connection.clientId(), credential(connection))
                    .authority(connection.authority())
                    .instanceDiscovery(connection.instanceDiscovery())
                    .validateAuthority(connection.instanceDiscovery())
                    .logPii(false);
            if (cache != null) {
                builder.setTokenCacheAccessAspect(cache);
            }
            if (connection.trustStore().isPresent()) {
                builder.sslSocketFactory(TrustStores.socketFactory(connection.trustStore().get(),
                        connection.trustStorePassword().map(Secret::value).orElse("")));
            }
            return builder.build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': authority "
                    + connection.authority() + " is not a valid URL", e);
        }
    }

    private static IClientCredential credential(ConnectionConfig c) {
        if (c.clientSecret().isPresent()) {
            return ClientCredentialFactory.createFromSecret(c.clientSecret().get().value());
        }
        try {
            ClientCertificate cert = ClientCertificate.load(c.certificate().orElseThrow(), c.certificateKey(),
                    c.certificatePassword().map(Secret::value).orElse(""));
            return ClientCredentialFactory.createFromCertificate(cert.key(), cert.certificate());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mailintake.connections." + c.name() + ".client-certificate: "
                    + e.getMessage(), e);
        }
    }
}

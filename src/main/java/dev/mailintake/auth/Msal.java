package dev.mailintake.auth;

import com.microsoft.aad.msal4j.AbstractClientApplicationBase;
import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.ITokenCacheAccessAspect;
import com.microsoft.aad.msal4j.PublicClientApplication;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Secret;
import java.net.MalformedURLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Builds msal4j confidential clients for a connection: authority, discovery switches, TLS trust, credential. */
final class Msal {
    private Msal() {
    }

    /** A public client (device code flow): no credential, the app registration must allow public client flows. */
    static PublicClientApplication publicClient(ConnectionConfig connection, ITokenCacheAccessAspect cache) {
        return configure(PublicClientApplication.builder(connection.clientId()), connection, cache).build();
    }

    static ConfidentialClientApplication client(ConnectionConfig connection, ITokenCacheAccessAspect cache) {
        return configure(ConfidentialClientApplication.builder(connection.clientId(), credential(connection)),
                connection, cache).build();
    }

    /** Authority, discovery switches, TLS trust and the persisted token cache: the same for every client. */
    private static <B extends AbstractClientApplicationBase.Builder<B>> B configure(B builder, ConnectionConfig connection,
                                                                                    ITokenCacheAccessAspect cache) {
        try {
            builder.authority(connection.authority())
                    .instanceDiscovery(connection.instanceDiscovery())
                    .validateAuthority(connection.instanceDiscovery())
                    .logPii(false);
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': authority "
                    + connection.authority() + " is not a valid URL", e);
        }
        if (cache != null) {
            builder.setTokenCacheAccessAspect(cache);
        }
        if (connection.trustStore().isPresent()) {
            builder.sslSocketFactory(TrustStores.socketFactory(connection.trustStore().get(),
                    connection.trustStorePassword().map(Secret::value).orElse("")));
        }
        return builder;
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

    /**
     * Waits for an msal4j call; failures come back classified (transient, re-authorize, admin must fix).
     *
     * @param scope what the call asks for, named when the authority refuses it
     */
    static IAuthenticationResult await(String connection, String scope, CompletableFuture<IAuthenticationResult> call,
                                       long timeoutSeconds) {
        return await(connection, scope, call, timeoutSeconds, java.util.Optional.empty());
    }

    /** The same; a refusal for missing consent names {@code adminConsentUrl}. */
    static IAuthenticationResult await(String connection, String scope, CompletableFuture<IAuthenticationResult> call,
                                       long timeoutSeconds, java.util.Optional<java.net.URI> adminConsentUrl) {
        try {
            return call.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenException(connection, TokenException.Kind.TRANSIENT, "interrupted", e);
        } catch (ExecutionException e) {
            throw TokenFailures.classify(connection, scope, e.getCause() == null ? e : e.getCause(), adminConsentUrl);
        } catch (TimeoutException e) {
            throw TokenFailures.classify(connection, scope, e, adminConsentUrl);
        }
    }
}

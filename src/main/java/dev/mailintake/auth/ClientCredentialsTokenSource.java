package dev.mailintake.auth;

import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.IClientCredential;
import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.util.LinkedHashSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** App-only tokens through msal4j's confidential client (client secret or PKCS#12 certificate). */
public final class ClientCredentialsTokenSource implements TokenSource {
    private static final long TIMEOUT_SECONDS = 60;

    private final ConnectionConfig connection;
    private final ConfidentialClientApplication app;

    public ClientCredentialsTokenSource(ConnectionConfig connection) {
        this.connection = connection;
        try {
            ConfidentialClientApplication.Builder builder = ConfidentialClientApplication
                    .builder(connection.clientId(), credential(connection))
                    .authority(connection.authority())
                    .instanceDiscovery(connection.instanceDiscovery())
                    .validateAuthority(connection.instanceDiscovery())
                    .logPii(false);
            if (connection.trustStore().isPresent()) {
                builder.sslSocketFactory(TrustStores.socketFactory(connection.trustStore().get(),
                        connection.trustStorePassword().map(Secret::value).orElse("")));
            }
            this.app = builder.build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("connection '" + connection.name() + "': authority "
                    + connection.authority() + " is not a valid URL", e);
        }
    }

    private static IClientCredential credential(ConnectionConfig c) {
        if (c.clientSecret().isPresent()) {
            return ClientCredentialFactory.createFromSecret(c.clientSecret().get().value());
        }
        try (InputStream in = Files.newInputStream(c.certificate().orElseThrow())) {
            return ClientCredentialFactory.createFromCertificate(in,
                    c.certificatePassword().map(Secret::value).orElse(""));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("connection '" + c.name() + "': cannot read client-certificate "
                    + c.certificate().orElseThrow() + " (" + e.getClass().getSimpleName()
                    + "); give a PKCS#12 file with the certificate and its private key and the right password", e);
        }
    }

    @Override
    public AccessToken acquire(boolean skipCache) {
        ClientCredentialParameters params = ClientCredentialParameters
                .builder(new LinkedHashSet<>(connection.scopes()))
                .skipCache(skipCache)
                .build();
        try {
            IAuthenticationResult result = app.acquireToken(params).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new AccessToken(result.accessToken(), result.expiresOnDate().toInstant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenException(connection.name(), TokenException.Kind.TRANSIENT, "interrupted", e);
        } catch (ExecutionException e) {
            throw TokenFailures.classify(connection.name(), e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw TokenFailures.classify(connection.name(), e);
        }
    }
}

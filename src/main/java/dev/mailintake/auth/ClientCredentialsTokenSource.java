package dev.mailintake.auth;

import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import dev.mailintake.config.ConnectionConfig;
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
        this.app = Msal.client(connection, null);
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

package dev.mailintake.auth;

import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import dev.mailintake.config.ConnectionConfig;
import java.util.LinkedHashSet;

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
            IAuthenticationResult result = Msal.await(connection.name(), scope(), app.acquireToken(params),
                    TIMEOUT_SECONDS);
            return new AccessToken(result.accessToken(), result.expiresOnDate().toInstant());
        } catch (TokenException e) {
            throw e;
        } catch (RuntimeException e) {
            throw TokenFailures.classify(connection.name(), scope(), e);
        }
    }

    private String scope() {
        return String.join(" ", connection.scopes());
    }
}

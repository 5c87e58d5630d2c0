package dev.mailintake.auth;

import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.store.Grant;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A connection whose tokens come from a person's sign-in (Microsoft through msal4j, or any OAuth2 provider): the
 * sign-in itself (authorization code with PKCE, or the device code flow) and the stored grant's state.
 */
public interface DelegatedGrant extends TokenSource {
    String connectionName();

    /** Signs in on the command line ({@code authorize <connection> --device-code}) rather than in a browser. */
    boolean isDeviceCode();

    /** The provider's authorization URL for a new browser sign-in (PKCE S256 from the verifier, one-time state). */
    URI authorizationUrl(String redirectUri, String state, String codeVerifier);

    /**
     * Entra's admin consent URL for the app ({@code {authority-host}/{tenant}/v2.0/adminconsent} with the client id,
     * the scopes a sign-in asks for and {@code redirectUri}): a tenant administrator who opens it consents for every
     * user of the tenant. {@code state} may be null (a URL to send to an administrator, whose answer Mail Intake then
     * cannot verify). Empty for providers without admin consent (generic OAuth2) and for the device code flow.
     */
    default java.util.Optional<URI> adminConsentUrl(String redirectUri, String state) {
        return java.util.Optional.empty();
    }

    /** Redeems the authorization code and stores the new grant; returns who signed in. */
    String redeem(String code, String redirectUri, String codeVerifier);

    Optional<Grant> grant();

    /** What a grant is issued for: provider, endpoints, tenant, client id and scopes. */
    static String fingerprint(ConnectionConfig c) {
        String text = c.provider() + "|" + c.authority() + "|" + c.authorizeUrl().map(URI::toString).orElse("") + "|"
                + c.tokenUrl().map(URI::toString).orElse("") + "|" + c.clientId() + "|" + new TreeSet<>(c.scopes());
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The S256 PKCE challenge of a verifier. */
    static String challenge(String codeVerifier) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(codeVerifier.getBytes(StandardCharsets.US_ASCII));
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

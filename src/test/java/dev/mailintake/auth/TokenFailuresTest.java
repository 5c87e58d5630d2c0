package dev.mailintake.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.auth.TokenException.Kind;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The classification table: standard OAuth2 errors from any provider, Entra's AADSTS codes, HTTP statuses. */
class TokenFailuresTest {
    private static final String SCOPE = "https://graph.microsoft.com/.default";

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @CsvSource(nullValues = "null", value = {
            // RFC 6749 errors without an AADSTS code (generic providers)
            "400, invalid_grant, null, REAUTHORIZATION_REQUIRED",
            "400, invalid_grant, 'Token has been expired or revoked.', REAUTHORIZATION_REQUIRED",
            "401, invalid_client, null, ADMIN_MUST_FIX",
            "400, unauthorized_client, 'client not allowed', ADMIN_MUST_FIX",
            "400, invalid_scope, null, ADMIN_MUST_FIX",
            "400, unsupported_grant_type, null, ADMIN_MUST_FIX",
            "400, invalid_request, null, ADMIN_MUST_FIX",
            "503, temporarily_unavailable, null, TRANSIENT",
            "500, server_error, null, TRANSIENT",
            "200, server_error, null, TRANSIENT",
            "502, null, null, TRANSIENT",
            "429, null, null, TRANSIENT",
            "404, null, null, ADMIN_MUST_FIX",
            "null, null, null, ADMIN_MUST_FIX",
            // Entra: the AADSTS code decides
            "400, invalid_grant, 'AADSTS70008: The refresh token has expired', REAUTHORIZATION_REQUIRED",
            "400, invalid_grant, 'AADSTS50173: The provided grant has expired', REAUTHORIZATION_REQUIRED",
            "400, interaction_required, 'AADSTS50076: MFA required', REAUTHORIZATION_REQUIRED",
            "401, invalid_client, 'AADSTS7000222: The provided client secret keys are expired', ADMIN_MUST_FIX",
            "400, invalid_grant, 'AADSTS50057: The user account is disabled', ADMIN_MUST_FIX",
            "400, invalid_resource, 'AADSTS500011: The resource principal named x was not found', ADMIN_MUST_FIX",
            "503, temporarily_unavailable, 'AADSTS50033: retry', TRANSIENT",
            "400, invalid_request, 'AADSTS90033: A transient error has occurred', TRANSIENT",
            "400, invalid_grant, 'AADSTS65001: The user or administrator has not consented', REAUTHORIZATION_REQUIRED",
            "null, access_denied, 'AADSTS90094: app needs permission that only an admin can grant', REAUTHORIZATION_REQUIRED",
    })
    void classifiesWithAndWithoutAadstsCodes(Integer status, String error, String description, Kind kind) {
        TokenException e = TokenFailures.classify("c1", SCOPE, status, error, description, null);
        assertThat(e.kind()).isEqualTo(kind);
        assertThat(e.connection()).isEqualTo("c1");
        assertThat(e.getMessage()).startsWith("connection 'c1': ").doesNotContain("retrying")
                .doesNotContain("null");
    }

    @Test
    void missingConsentPointsToAnAdministratorsConsent() {
        java.util.Optional<java.net.URI> url = java.util.Optional.of(java.net.URI.create(
                "https://login.microsoftonline.com/t1/v2.0/adminconsent?client_id=a"));
        TokenException adminOnly = TokenFailures.classify("c1", SCOPE, null, "access_denied",
                "AADSTS90094: app needs permission that only an admin can grant.", null, url);
        assertThat(adminOnly.getMessage()).isEqualTo("connection 'c1': re-authorization required (access_denied"
                + " AADSTS90094): an administrator of the tenant must consent first: use 'Ask an administrator' on"
                + " the status page (or send them https://login.microsoftonline.com/t1/v2.0/adminconsent?client_id=a);"
                + " then sign in again");
        assertThat(TokenFailures.classify("c1", SCOPE, 400, "invalid_grant", "AADSTS65001: not consented", null, url)
                .getMessage()).contains("(invalid_grant AADSTS65001): the app's permissions are not consented; sign in"
                        + " again and consent, or, where users may not consent, an administrator of the tenant must"
                        + " consent first: use 'Ask an administrator'");
        // without an admin consent URL (the Entra app of a generic connection): where in Entra to consent
        assertThat(TokenFailures.classify("c1", SCOPE, 400, "invalid_grant", "AADSTS65001: not consented", null)
                .getMessage()).contains("Grant admin consent").doesNotContain("Ask an administrator");
        assertThat(TokenFailures.consentMissing("AADSTS90094: x")).isTrue();
        assertThat(TokenFailures.consentMissing("AADSTS65004: User declined")).isFalse();
        assertThat(TokenFailures.consentMissing(null)).isFalse();
    }

    @Test
    void adminErrorsNameTheKeyToCheck() {
        assertThat(TokenFailures.classify("gmail", SCOPE, 401, "invalid_client", null, null).getMessage())
                .contains("invalid_client").contains("mailintake.connections.gmail.client-secret")
                .contains("mailintake.connections.gmail.client-auth");
        assertThat(TokenFailures.classify("gmail", "https://mail.google.com/", 400, "invalid_scope", null, null)
                .getMessage()).contains("'https://mail.google.com/'").contains("mailintake.connections.gmail.scopes");
        assertThat(TokenFailures.classify("gmail", SCOPE, 400, "unauthorized_client", null, null).getMessage())
                .contains("mailintake.connections.gmail.flow");
        assertThat(TokenFailures.classify("gmail", SCOPE, 400, "unsupported_grant_type", null, null).getMessage())
                .contains("mailintake.connections.gmail.flow");
        assertThat(TokenFailures.classify("c1", SCOPE, 401, "invalid_client",
                "AADSTS7000222: The provided client secret keys are expired.", null).getMessage())
                .contains("the client secret has expired (invalid_client AADSTS7000222)")
                .contains("mailintake.connections.c1.client-secret");
    }

    @Test
    void anUnknownResourceNamesTheScopeAskedForAndTheScopesKey() {
        TokenException e = TokenFailures.classify("contoso", "https://graph.contoso.test/.default", 400,
                "invalid_resource", "AADSTS500011: The resource principal named https://graph.contoso.test was not"
                        + " found in the tenant named contoso.", null);
        assertThat(e.kind()).isEqualTo(Kind.ADMIN_MUST_FIX);
        assertThat(e.getMessage()).contains("AADSTS500011").contains("'https://graph.contoso.test/.default'")
                .contains("mailintake.connections.contoso.scopes").contains("graph-base-url");
    }

    @Test
    void networkFailuresAreTransientAndDoNotPromiseARetry() {
        TokenException e = TokenFailures.classify("c1", SCOPE, new IOException(new ConnectException("refused")));
        assertThat(e.kind()).isEqualTo(Kind.TRANSIENT);
        assertThat(e.getMessage()).isEqualTo("connection 'c1': token endpoint unreachable (IOException)");
    }
}

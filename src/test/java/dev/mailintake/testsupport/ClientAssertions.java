package dev.mailintake.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Certificate credentials as Entra checks them: registered certificates per app, and verification of
 * {@code client_assertion} JWTs ({@code private_key_jwt}, RFC 7523). Error codes are Entra's where Entra has one
 * for the case; {@link #REPLAYED}, {@link #TWO_CREDENTIALS} and {@link #BAD_ASSERTION_TYPE} are invented by the fake.
 * No assertion, key or signature is ever put into an error message (thumbprints only).
 */
final class ClientAssertions {

    static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /** Entra: "JWT token is invalid or malformed." (also: no thumbprint in the header, unsupported alg). */
    static final int MALFORMED = 50027;
    /** Entra: "Client assertion application identifier doesn't match 'client_id' parameter." */
    static final int WRONG_ISSUER = 700021;
    /** Entra: "Client assertion audience claim does not match Realm issuer." */
    static final int WRONG_AUDIENCE = 700023;
    /** Entra: "Client assertion is not within its valid time range." */
    static final int TIME_RANGE = 700024;
    /** Entra: key not found / expired key / signature does not verify. */
    static final int BAD_SIGNATURE = 700027;
    /** Invented by GraphFake: a {@code jti} used before (Entra documents no code for a replayed assertion). */
    static final int REPLAYED = 7000290;
    /** Invented by GraphFake: both {@code client_secret} and {@code client_assertion} in one request. */
    static final int TWO_CREDENTIALS = 7000291;
    /** Invented by GraphFake: {@code client_assertion_type} other than {@link #JWT_BEARER}. */
    static final int BAD_ASSERTION_TYPE = 7000292;

    private static final String DOCS = " Review the documentation at "
            + "https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .";
    private static final DateTimeFormatter KEY_DATE = DateTimeFormatter.ofPattern("MM/dd/yyyy HH:mm:ss", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter ENTRA_TIME = DateTimeFormatter
            .ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** Why an assertion was refused: Entra's status, {@code error}, AADSTS code and description. */
    record Failure(int status, String error, int aadsts, String description) {
        static Failure invalidClient(int aadsts, String description) {
            return new Failure(401, "invalid_client", aadsts, description);
        }
    }

    private record Registered(X509Certificate certificate, byte[] sha1, byte[] sha256) {
    }

    private final ObjectMapper json;
    /** "tenant|client" (lower-case) → registered certificates. */
    private final Map<String, List<Registered>> certificates = new ConcurrentHashMap<>();
    /** "tenant|client|jti" → expiry of the assertion that used it (entries are dropped once expired). */
    private final Map<String, Instant> usedJtis = new ConcurrentHashMap<>();
    private volatile boolean rejectReplays = true;

    ClientAssertions(ObjectMapper json) {
        this.json = json;
    }

    void register(String tenantKey, String clientId, X509Certificate certificate) {
        Registered r;
        try {
            byte[] der = certificate.getEncoded();
            r = new Registered(certificate, digest("SHA-1", der), digest("SHA-256", der));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the certificate", e);
        }
        List<Registered> list = certificates.computeIfAbsent(key(tenantKey, clientId),
                k -> new CopyOnWriteArrayList<>());
        if (list.stream().noneMatch(e -> MessageDigest.isEqual(e.sha256(), r.sha256()))) {
            list.add(r);
        }
    }

    boolean hasCertificates(String tenantKey, String clientId) {
        List<Registered> list = certificates.get(key(tenantKey, clientId));
        return list != null && !list.isEmpty();
    }

    void rejectReplays(boolean reject) {
        rejectReplays = reject;
    }

    /**
     * Verifies a client assertion for the client in the (resolved) tenant; null if it is good, in which case its
     * {@code jti} is now used up.
     *
     * @param authorityHost {@code https://localhost:PORT}
     * @param tenantIds     the tenant's name and id (lower-case): either may appear in {@code aud}
     */
    Failure verify(String tenantKey, Set<String> tenantIds, String authorityHost, String clientId, String assertion) {
        Instant now = Instant.now();
        String[] parts = assertion.split("\\.", -1);
        if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
            return malformed("JWT token is invalid or malformed. (GraphFake: a JWS in compact serialization, "
                    + "header.payload.signature, is expected.)");
        }
        JsonNode header;
        JsonNode claims;
        byte[] signature;
        try {
            header = json.readTree(Base64.getUrlDecoder().decode(parts[0]));
            claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));
            signature = Base64.getUrlDecoder().decode(parts[2]);
        } catch (IllegalArgumentException | IOException e) {
            return malformed("JWT token is invalid or malformed. (GraphFake: header, payload or signature is not "
                    + "base64url-encoded JSON.)");
        }
        if (header == null || !header.isObject() || claims == null || !claims.isObject()) {
            return malformed("JWT token is invalid or malformed. (GraphFake: header and payload must be JSON "
                    + "objects.)");
        }
        String alg = text(header, "alg");
        if (!"RS256".equals(alg) && !"PS256".equals(alg)) {
            return malformed("JWT token is invalid or malformed. (GraphFake: the header's 'alg' is '" + alg
                    + "'; certificate credentials are signed with RS256 or PS256.)");
        }
        String x5t = text(header, "x5t");
        String x5tS256 = text(header, "x5t#S256");
        if (x5t == null && x5tS256 == null) {
            return malformed("Invalid JWT token. No certificate thumbprint specified in token header.");
        }
        byte[] sha1 = x5t == null ? null : thumbprint(x5t);
        byte[] sha256 = x5tS256 == null ? null : thumbprint(x5tS256);
        if (x5t != null && (sha1 == null || sha1.length != 20)
                || x5tS256 != null && (sha256 == null || sha256.length != 32)) {
            return malformed("JWT token is invalid or malformed. (GraphFake: 'x5t' must be a base64url SHA-1 and "
                    + "'x5t#S256' a base64url SHA-256 certificate thumbprint.)");
        }
        String shown = HexFormat.of().withUpperCase().formatHex(sha1 != null ? sha1 : sha256);
        Registered key = null;
        for (Registered r : certificates.getOrDefault(key(tenantKey, clientId), List.of())) {
            if ((sha1 == null || MessageDigest.isEqual(sha1, r.sha1()))
                    && (sha256 == null || MessageDigest.isEqual(sha256, r.sha256()))) {
                key = r;
                break;
            }
        }
        if (key == null) {
            return Failure.invalidClient(BAD_SIGNATURE, "Client assertion contains an invalid signature. [Reason - "
                    + "The key was not found., Thumbprint of key used by client: '" + shown + "', Please visit the "
                    + "Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '"
                    + clientId + "'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments "
                    + "to determine the corresponding service endpoint and "
                    + "https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to "
                    + "build a query request URL, such as 'https://graph.microsoft.com/beta/applications/" + clientId
                    + "']");
        }
        X509Certificate cert = key.certificate();
        String found = "Found key 'Start=" + KEY_DATE.format(cert.getNotBefore().toInstant()) + ", End="
                + KEY_DATE.format(cert.getNotAfter().toInstant()) + "'";
        if (now.isBefore(cert.getNotBefore().toInstant()) || now.isAfter(cert.getNotAfter().toInstant())) {
            return Failure.invalidClient(BAD_SIGNATURE, "Client assertion contains an invalid signature. [Reason - "
                    + "The key used is expired., Thumbprint of key used by client: '" + shown + "', " + found + "]");
        }
        if (!verifies(alg, cert.getPublicKey(), parts[0] + "." + parts[1], signature)) {
            return Failure.invalidClient(BAD_SIGNATURE, "Client assertion failed signature validation. [Reason - "
                    + "The provided signature value did not match the expected signature value., Thumbprint of key "
                    + "used by client: '" + shown + "', " + found + "]");
        }

        for (String claim : new String[]{"aud", "iss", "sub", "exp", "jti"}) {
            if (!claims.hasNonNull(claim)) {
                return malformed("JWT token is invalid or malformed. (GraphFake: the client assertion has no '"
                        + claim + "' claim.)");
            }
        }
        String iss = text(claims, "iss");
        String sub = text(claims, "sub");
        if (iss == null || sub == null || !iss.equalsIgnoreCase(clientId) || !sub.equalsIgnoreCase(clientId)) {
            return Failure.invalidClient(WRONG_ISSUER, "Client assertion application identifier doesn't match "
                    + "'client_id' parameter." + DOCS);
        }
        if (!audienceMatches(claims.get("aud"), tenantIds, authorityHost)) {
            return Failure.invalidClient(WRONG_AUDIENCE, "Client assertion audience claim does not match Realm "
                    + "issuer." + DOCS);
        }
        JsonNode expNode = claims.get("exp");
        JsonNode nbfNode = claims.get("nbf");
        if (!expNode.isNumber() || nbfNode != null && !nbfNode.isNull() && !nbfNode.isNumber()) {
            return malformed("JWT token is invalid or malformed. (GraphFake: 'exp' and 'nbf' must be NumericDate "
                    + "numbers.)");
        }
        Instant exp;
        Instant nbf;
        try {
            exp = Instant.ofEpochSecond(expNode.asLong());
            nbf = nbfNode == null || nbfNode.isNull() ? null : Instant.ofEpochSecond(nbfNode.asLong());
            ENTRA_TIME.format(exp);
            if (nbf != null) {
                ENTRA_TIME.format(nbf);
            }
        } catch (DateTimeException e) {
            return malformed("JWT token is invalid or malformed. (GraphFake: 'exp' or 'nbf' is out of range.)");
        }
        if (!now.isBefore(exp) || nbf != null && now.isBefore(nbf)) {
            return Failure.invalidClient(TIME_RANGE, "Client assertion is not within its valid time range. Current "
                    + "time: " + ENTRA_TIME.format(now) + ", assertion valid from "
                    + (nbf == null ? "(no nbf)" : ENTRA_TIME.format(nbf)) + ", expiry time of assertion "
                    + ENTRA_TIME.format(exp) + "." + DOCS);
        }
        String jti = text(claims, "jti");
        if (jti == null || jti.isEmpty()) {
            return malformed("JWT token is invalid or malformed. (GraphFake: 'jti' must be a non-empty string.)");
        }
        usedJtis.values().removeIf(e -> e.isBefore(now));
        if (usedJtis.putIfAbsent(key(tenantKey, clientId) + "|" + jti, exp) != null && rejectReplays) {
            return Failure.invalidClient(REPLAYED, "(GraphFake) The client assertion has already been used: its "
                    + "'jti' was seen in an earlier token request. Create a new assertion for every request.");
        }
        return null;
    }

    /**
     * {@code aud} (a string, or an array holding one) names this tenant's token endpoint: {@code /oauth2/v2.0/token}
     * or the v1 {@code /oauth2/token}, by tenant name or id, on the fake's authority host.
     */
    private static boolean audienceMatches(JsonNode aud, Set<String> tenantIds, String authorityHost) {
        List<String> values = new ArrayList<>();
        if (aud.isTextual()) {
            values.add(aud.asText());
        } else if (aud.isArray()) {
            aud.forEach(a -> values.add(a.asText()));
        }
        URI host = URI.create(authorityHost);
        for (String value : values) {
            URI u;
            try {
                u = URI.create(value);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null
                    || !u.getHost().equalsIgnoreCase(host.getHost()) || u.getPort() != host.getPort()
                    || u.getRawQuery() != null || u.getRawFragment() != null || u.getRawPath() == null) {
                continue;
            }
            String path = u.getRawPath().toLowerCase(Locale.ROOT);
            for (String t : tenantIds) {
                if (path.equals("/" + t + "/oauth2/v2.0/token") || path.equals("/" + t + "/oauth2/token")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean verifies(String alg, PublicKey key, String signingInput, byte[] signature) {
        if (!(key instanceof RSAPublicKey)) {
            return false;
        }
        try {
            Signature s;
            if (alg.equals("PS256")) {
                s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
            } else {
                s = Signature.getInstance("SHA256withRSA");
            }
            s.initVerify(key);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * A thumbprint from the header: base64url as RFC 7515 says, or standard base64 with padding, which is what
     * msal4j 1.26 sends (Entra takes both). Null if it is neither.
     */
    private static byte[] thumbprint(String value) {
        String s = value.replace('+', '-').replace('/', '_');
        while (s.endsWith("=")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static Failure malformed(String description) {
        return Failure.invalidClient(MALFORMED, description);
    }

    private static byte[] digest(String algorithm, byte[] input) {
        try {
            return MessageDigest.getInstance(algorithm).digest(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(String tenantKey, String clientId) {
        return tenantKey.toLowerCase(Locale.ROOT) + "|" + clientId.toLowerCase(Locale.ROOT);
    }
}

package dev.mailintake.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;

/**
 * Signs id tokens with RS256 and publishes the key as a JWKS, as Entra does ({@code /{tenant}/discovery/v2.0/keys}).
 * The RSA key is generated on first use, so fakes that never issue an id token do not pay for it.
 */
final class IdTokenSigner {

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final ObjectMapper json;
    private volatile KeyPair keyPair;
    private volatile String kid;

    IdTokenSigner(ObjectMapper json) {
        this.json = json;
    }

    private KeyPair keys() {
        KeyPair k = keyPair;
        if (k == null) {
            synchronized (this) {
                k = keyPair;
                if (k == null) {
                    try {
                        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                        generator.initialize(2048);
                        k = generator.generateKeyPair();
                        byte[] modulus = ((RSAPublicKey) k.getPublic()).getModulus().toByteArray();
                        kid = B64URL.encodeToString(MessageDigest.getInstance("SHA-256").digest(modulus))
                                .substring(0, 27);
                    } catch (GeneralSecurityException e) {
                        throw new IllegalStateException("cannot create the id token signing key", e);
                    }
                    keyPair = k;
                }
            }
        }
        return k;
    }

    /** {@code header.payload.signature} with header {@code {"typ":"JWT","alg":"RS256","kid":...}}. */
    String sign(ObjectNode claims) {
        KeyPair k = keys();
        ObjectNode header = json.createObjectNode();
        header.put("typ", "JWT");
        header.put("alg", "RS256");
        header.put("kid", kid);
        try {
            String input = B64URL.encodeToString(json.writeValueAsBytes(header)) + "."
                    + B64URL.encodeToString(json.writeValueAsBytes(claims));
            Signature rsa = Signature.getInstance("SHA256withRSA");
            rsa.initSign(k.getPrivate());
            rsa.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + B64URL.encodeToString(rsa.sign());
        } catch (GeneralSecurityException | JsonProcessingException e) {
            throw new IllegalStateException("cannot sign id token", e);
        }
    }

    /** The JWKS document: {@code {"keys":[{"kty":"RSA","use":"sig","kid":...,"n":...,"e":...}]}}. */
    ObjectNode jwks(String issuer) {
        RSAPublicKey key = (RSAPublicKey) keys().getPublic();
        ObjectNode doc = json.createObjectNode();
        ObjectNode jwk = doc.putArray("keys").addObject();
        jwk.put("kty", "RSA");
        jwk.put("use", "sig");
        jwk.put("kid", kid);
        jwk.put("alg", "RS256");
        jwk.put("n", B64URL.encodeToString(unsigned(key.getModulus())));
        jwk.put("e", B64URL.encodeToString(unsigned(key.getPublicExponent())));
        jwk.put("issuer", issuer);
        return doc;
    }

    private static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return bytes.length > 1 && bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }
}

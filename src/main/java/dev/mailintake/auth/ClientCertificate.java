package dev.mailintake.auth;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collections;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client certificate and its private key for certificate credentials: a PKCS#12 file ({@code .p12}/{@code .pfx},
 * with its password), or PEM — a {@code CERTIFICATE} block and an unencrypted PKCS#8 {@code PRIVATE KEY} block, in
 * one file or with the key in a second file.
 */
public record ClientCertificate(PrivateKey key, X509Certificate certificate) {
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    @Override
    public String toString() {
        return "ClientCertificate[" + certificate.getSubjectX500Principal() + "]";
    }

    public static ClientCertificate load(Path file, Optional<Path> keyFile, String password) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = new String(bytes, StandardCharsets.US_ASCII);
            if (text.contains("-----BEGIN")) {
                String keyText = keyFile.isPresent() ? Files.readString(keyFile.get(), StandardCharsets.US_ASCII) : text;
                return new ClientCertificate(pemKey(keyText, file), pemCertificate(text, file));
            }
            return pkcs12(bytes, password, file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static ClientCertificate pkcs12(byte[] bytes, String password, Path file) {
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias)) {
                    return new ClientCertificate((PrivateKey) ks.getKey(alias, password.toCharArray()),
                            (X509Certificate) ks.getCertificate(alias));
                }
            }
            throw new IllegalArgumentException(file + " holds no private key entry");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " is neither PEM nor a PKCS#12 file this password opens ("
                    + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static X509Certificate pemCertificate(String text, Path file) {
        byte[] der = block(text, "CERTIFICATE").orElseThrow(() ->
                new IllegalArgumentException(file + " has no -----BEGIN CERTIFICATE----- block"));
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + ": the CERTIFICATE block is not an X.509 certificate", e);
        }
    }

    private static PrivateKey pemKey(String text, Path file) {
        if (block(text, "RSA PRIVATE KEY").isPresent() || block(text, "ENCRYPTED PRIVATE KEY").isPresent()) {
            throw new IllegalArgumentException(file + ": give the key as unencrypted PKCS#8 (-----BEGIN PRIVATE KEY-----),"
                    + " e.g. openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
        }
        byte[] der = block(text, "PRIVATE KEY").orElseThrow(() ->
                new IllegalArgumentException(file + " has no -----BEGIN PRIVATE KEY----- block (or give client-certificate-key)"));
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + ": the PRIVATE KEY block is not an RSA key (Entra ID takes RSA)", e);
        }
    }

    private static Optional<byte[]> block(String text, String type) {
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                return Optional.of(Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", "")));
            }
        }
        return Optional.empty();
    }
}

package dev.mailintake.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientCertificateTest {
    @TempDir
    Path tmp;
    private Path p12;
    private PrivateKey key;
    private X509Certificate cert;

    @BeforeEach
    void makeCertificate() throws Exception {
        p12 = tmp.resolve("app.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "app", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=mail-intake-test", "-keystore", p12.toString(), "-storetype", "PKCS12",
                "-storepass", "pw-123456", "-keypass", "pw-123456").redirectErrorStream(true).start();
        assertThat(keytool.waitFor()).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "pw-123456".toCharArray());
        }
        key = (PrivateKey) ks.getKey("app", "pw-123456".toCharArray());
        cert = (X509Certificate) ks.getCertificate("app");
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @Test
    void readsPkcs12AndPemInOneOrTwoFiles() throws Exception {
        ClientCertificate fromP12 = ClientCertificate.load(p12, Optional.empty(), "pw-123456");
        assertThat(fromP12.certificate()).isEqualTo(cert);
        assertThat(fromP12.key().getEncoded()).isEqualTo(key.getEncoded());

        Path both = tmp.resolve("app.pem");
        Files.writeString(both, pem("CERTIFICATE", cert.getEncoded()) + pem("PRIVATE KEY", key.getEncoded()));
        assertThat(ClientCertificate.load(both, Optional.empty(), "").key().getEncoded()).isEqualTo(key.getEncoded());

        Path certOnly = tmp.resolve("cert.pem");
        Path keyOnly = tmp.resolve("key.pem");
        Files.writeString(certOnly, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyOnly, pem("PRIVATE KEY", key.getEncoded()));
        assertThat(ClientCertificate.load(certOnly, Optional.of(keyOnly), "").certificate()).isEqualTo(cert);
        assertThat(ClientCertificate.load(certOnly, Optional.of(keyOnly), "").toString()).doesNotContain("PRIVATE");
    }

    @Test
    void saysWhatIsWrong() throws Exception {
        assertThatThrownBy(() -> ClientCertificate.load(p12, Optional.empty(), "wrong"))
                .hasMessageContaining("neither PEM nor a PKCS#12 file this password opens");
        Path certOnly = tmp.resolve("cert.pem");
        Files.writeString(certOnly, pem("CERTIFICATE", cert.getEncoded()));
        assertThatThrownBy(() -> ClientCertificate.load(certOnly, Optional.empty(), ""))
                .hasMessageContaining("no -----BEGIN PRIVATE KEY----- block");
        Path pkcs1 = tmp.resolve("pkcs1.pem");
        Files.writeString(pkcs1, pem("CERTIFICATE", cert.getEncoded()) + pem("RSA PRIVATE KEY", new byte[] {1, 2, 3}));
        assertThatThrownBy(() -> ClientCertificate.load(pkcs1, Optional.empty(), ""))
                .hasMessageContaining("unencrypted PKCS#8");
    }
}

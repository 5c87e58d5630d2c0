package dev.mailintake.auth;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/** Builds TLS socket factories for private authorities from a PKCS#12 trust store. */
public final class TrustStores {
    private TrustStores() {
    }

    public static SSLContext context(Path trustStore, String password) {
        try (InputStream in = Files.newInputStream(trustStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot load trust store " + trustStore + ": " + e.getMessage(), e);
        }
    }

    public static SSLSocketFactory socketFactory(Path trustStore, String password) {
        return context(trustStore, password).getSocketFactory();
    }
}

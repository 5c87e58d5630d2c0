package dev.mailintake.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** Generates RSA key pairs with self-signed certificates into PKCS#12 files with the JDK's own {@code keytool}. */
final class Keytool {
    private Keytool() {
    }

    /**
     * {@code keytool -genkeypair} (RSA 2048, SHA256withRSA) into {@code keyStore}, store and key password
     * {@code password}; {@code extra} adds options such as {@code -ext SAN=...}.
     */
    static void genKeyPair(Path keyStore, String alias, String password, String dname, String startDate, int validityDays,
                           String... extra) throws IOException {
        boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("win");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", windows ? "keytool.exe" : "keytool");
        List<String> command = new ArrayList<>(List.of(keytool.toString(), "-genkeypair", "-noprompt", "-alias", alias,
                "-keyalg", "RSA", "-keysize", "2048", "-sigalg", "SHA256withRSA", "-dname", dname,
                "-startdate", startDate, "-validity", String.valueOf(validityDays),
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password, "-keypass", password));
        command.addAll(List.of(extra));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("keytool did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for keytool", e);
        }
        if (process.exitValue() != 0 || !Files.exists(keyStore)) {
            throw new IOException("keytool failed with exit code " + process.exitValue() + ": " + output);
        }
    }

    static String randomPassword() {
        String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        SecureRandom random = new SecureRandom();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}

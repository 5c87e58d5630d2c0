package dev.mailintake.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts what the store keeps of grants (AES-256-GCM, a fresh 96-bit IV per value, the row's key as associated
 * data so a value cannot be moved to another row). The key comes from the environment ({@code MAILINTAKE_STORE_KEY},
 * base64 of 32 bytes) or from a key file created on first start with owner-only permissions.
 */
public final class SecretBox {
    public static final String ENV = "MAILINTAKE_STORE_KEY";
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecretKey key;
    private final SecureRandom random = new SecureRandom();

    public SecretBox(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("the store key must be 32 bytes (base64 of 32 random bytes)");
        }
        this.key = new SecretKeySpec(key, "AES");
    }

    /** The key from {@code envValue} if given, else from {@code keyFile} (created with owner-only permissions). */
    public static SecretBox load(String envValue, Path keyFile) {
        if (envValue != null && !envValue.isBlank()) {
            try {
                return new SecretBox(Base64.getDecoder().decode(envValue.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ENV + " must be the base64 of 32 random bytes (e.g. openssl rand -base64 32)");
            }
        }
        try {
            if (!Files.exists(keyFile)) {
                createKeyFile(keyFile);
            }
            return new SecretBox(Base64.getDecoder().decode(Files.readString(keyFile, StandardCharsets.US_ASCII).trim()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create the store key file " + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static void createKeyFile(Path keyFile) throws IOException {
        Files.createDirectories(keyFile.toAbsolutePath().getParent());
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
        try {
            try {
                Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(ownerOnly));
            } catch (UnsupportedOperationException notPosix) {
                Files.createFile(keyFile);
            }
            Files.writeString(keyFile, Base64.getEncoder().encodeToString(bytes), StandardCharsets.US_ASCII);
        } catch (FileAlreadyExistsException raced) {
            // another instance created it first: use theirs
        }
    }

    public String encrypt(String plaintext, String associatedData) {
        try {
            byte[] iv = new byte[IV_BYTES];
            random.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[iv.length + ct.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(ct, 0, out, iv.length, ct.length);
            return "v1:" + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("encryption failed", e);
        }
    }

    /** @throws IllegalStateException if the value was not encrypted with this key for this row */
    public String decrypt(String value, String associatedData) {
        if (!value.startsWith("v1:")) {
            throw new IllegalStateException("unknown encrypted value format");
        }
        try {
            byte[] in = Base64.getDecoder().decode(value.substring(3));
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return new String(c.doFinal(in, IV_BYTES, in.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot decrypt a stored grant: wrong " + ENV + " or key file, or the"
                    + " value was tampered with", e);
        }
    }
}

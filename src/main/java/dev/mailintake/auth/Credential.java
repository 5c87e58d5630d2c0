package dev.mailintake.auth;

import dev.mailintake.config.ConnectionConfig;
import dev.mailintake.config.Secret;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * What a connection proves itself with and when that stops working: a certificate's {@code notAfter}, or the client
 * secret's expiry as configured ({@code client-secret-expires}, the end of that day in UTC). Secrets without a date and
 * public clients have no known expiry.
 */
public record Credential(String connection, String kind, Optional<Instant> expiresAt) {
    /** Warn this long before a credential expires (and again at {@link #URGENT}). */
    public static final Duration WARN = Duration.ofDays(30);
    public static final Duration URGENT = Duration.ofDays(7);

    public static Credential of(ConnectionConfig c) {
        if (c.certificate().isPresent()) {
            ClientCertificate cert = ClientCertificate.load(c.certificate().get(), c.certificateKey(),
                    c.certificatePassword().map(Secret::value).orElse(""));
            return new Credential(c.name(), "certificate", Optional.of(cert.certificate().getNotAfter().toInstant()));
        }
        if (c.clientSecret().isPresent()) {
            return new Credential(c.name(), "client secret", c.clientSecretExpires()
                    .map(d -> d.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        return new Credential(c.name(), "none", Optional.empty());
    }

    /** Time left at {@code clock}'s now (negative once expired). */
    public Optional<Duration> left(Clock clock) {
        return expiresAt.map(t -> Duration.between(clock.instant(), t));
    }

    /** A sentence for people when the credential expires within {@link #WARN} or has expired; empty otherwise. */
    public Optional<String> warning(Clock clock) {
        return left(clock).filter(l -> l.compareTo(WARN) <= 0).map(l -> {
            String fix = kind.equals("certificate")
                    ? "upload a new certificate to the app registration and set client-certificate to it"
                    : "create a new client secret in the app registration and update client-secret"
                            + " (and client-secret-expires)";
            return l.isNegative()
                    ? "the " + kind + " expired on " + expiresAt.get() + ": " + fix
                    : "the " + kind + " expires in " + l.toDays() + " days (" + expiresAt.get() + "): " + fix;
        });
    }
}

package dev.mailintake.store;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mailintake.config.StoreConfig;
import dev.mailintake.testsupport.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxAndStatesTest {
    @TempDir
    Path tmp;

    @Test
    void keyFileIsCreatedOwnerOnlyAndValuesAreBoundToTheirRow() throws Exception {
        Path keyFile = tmp.resolve("data/store.key");
        SecretBox box = SecretBox.load(null, keyFile);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        String sealed = box.encrypt("refresh-token-value", "contoso");
        assertThat(sealed).doesNotContain("refresh-token-value");
        assertThat(SecretBox.load(null, keyFile).decrypt(sealed, "contoso")).isEqualTo("refresh-token-value");
        assertThatThrownBy(() -> box.decrypt(sealed, "fabrikam")).hasMessageContaining("cannot decrypt");
        SecretBox other = SecretBox.load(Base64.getEncoder().encodeToString(new byte[32]), keyFile);
        assertThatThrownBy(() -> other.decrypt(sealed, "contoso")).hasMessageContaining("wrong MAILINTAKE_STORE_KEY");
        assertThatThrownBy(() -> SecretBox.load("short", keyFile)).hasMessageContaining("base64 of 32 random bytes");
    }

    @Test
    void statesAreOneTimeAndExpire() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
        try (Store store = new Store(new StoreConfig("jdbc:h2:file:" + tmp.resolve("db"), "sa", Optional.empty()))) {
            OAuthStates states = new OAuthStates(store.dataSource(), SecretBox.load(null, tmp.resolve("k")), clock);
            OAuthStates.Pending a = states.create("contoso");
            assertThat(a.verifier()).hasSizeGreaterThanOrEqualTo(43);
            assertThat(states.consume(a.state())).isEqualTo(a);
            assertThatThrownBy(() -> states.consume(a.state())).hasMessageContaining("already used");
            assertThatThrownBy(() -> states.consume("forged-state")).hasMessageContaining("unknown state");
            assertThatThrownBy(() -> states.consume(null)).hasMessageContaining("no valid state");

            OAuthStates.Pending b = states.create("contoso");
            clock.advance(OAuthStates.LIFETIME.plus(Duration.ofSeconds(1)));
            assertThatThrownBy(() -> states.consume(b.state())).hasMessageContaining("expired");
            assertThatThrownBy(() -> states.consume(b.state())).hasMessageContaining("already used");

            // an administrator's consent comes back to the same callback: the state says which it was
            assertThat(a.purpose()).isEqualTo(OAuthStates.Purpose.SIGN_IN);
            OAuthStates.Pending consent = states.create("contoso", OAuthStates.Purpose.ADMIN_CONSENT);
            assertThat(states.consume(consent.state())).isEqualTo(consent);
            assertThat(consent.purpose()).isEqualTo(OAuthStates.Purpose.ADMIN_CONSENT);
            assertThatThrownBy(() -> states.consume(consent.state())).hasMessageContaining("already used");
        }
    }
}

package dev.mailintake.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.auth.Credential;
import dev.mailintake.auth.TokenService;
import dev.mailintake.config.ClusterConfig;
import dev.mailintake.intake.Mailboxes;
import dev.mailintake.store.Instances;
import dev.mailintake.testsupport.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A credential's expiry on a fixed clock: one alert at 30 days, another at 7, one when expired, one on renewal. */
class AlertWatcherTest {
    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private static AlertWatcher watcher(ManualClock clock, Credential credential) {
        Cluster alone = new Cluster(new ClusterConfig(ClusterConfig.Service.NONE, Optional.empty(), Optional.empty(),
                "test", Duration.ofMinutes(2)), new Instances(null, clock));
        return new AlertWatcher(new Mailboxes(List.of()), Map.of(), Map.of("contoso", credential),
                new TokenService(Map.of(), clock, Duration.ofMinutes(5)), 3, Optional.empty(), "https://intake/", clock,
                alone);
    }

    /** One check, as the alerts route runs it: what changed is sent and then counts as notified. */
    private static List<AlertWatcher.Alert> check(AlertWatcher w) {
        List<AlertWatcher.Alert> changes = w.changes();
        changes.forEach(w::notified);
        return changes;
    }

    @Test
    void aSecretIsAnnouncedAtThirtyDaysAtSevenWhenExpiredAndNotOtherwise() {
        ManualClock clock = new ManualClock(NOW);
        AlertWatcher w = watcher(clock, new Credential("contoso", "client secret",
                Optional.of(NOW.plus(Duration.ofDays(40)))));
        assertThat(check(w)).isEmpty();

        clock.advance(Duration.ofDays(11)); // 29 days left
        List<AlertWatcher.Alert> first = check(w);
        assertThat(first).singleElement().satisfies(a -> {
            assertThat(a.state()).isEqualTo("FIRING");
            assertThat(a.subject()).isEqualTo("credential");
            assertThat(a.condition()).isEqualTo("expires-within-30-days");
            assertThat(a.reason()).contains("expires in 29 days");
            assertThat(a.fix()).isEqualTo("https://intake/");
        });
        clock.advance(Duration.ofDays(1));
        assertThat(check(w)).as("no second alert for the same state").isEmpty();

        clock.advance(Duration.ofDays(22)); // 6 days left
        assertThat(check(w)).singleElement().satisfies(a -> assertThat(a.condition()).isEqualTo("expires-within-7-days"));
        clock.advance(Duration.ofDays(7)); // expired
        assertThat(check(w)).singleElement().satisfies(a -> {
            assertThat(a.condition()).isEqualTo("expired");
            assertThat(a.reason()).contains("expired on");
        });
        assertThat(check(w)).isEmpty();
    }

    @Test
    void anAlertTheEndpointRefusedIsSentAgainAndARecoveryOnce() {
        ManualClock clock = new ManualClock(NOW);
        AlertWatcher w = watcher(clock, new Credential("contoso", "certificate", Optional.of(NOW.plus(Duration.ofDays(3)))));
        assertThat(w.changes()).hasSize(1); // the endpoint refused it: not notified
        assertThat(check(w)).as("sent again").hasSize(1);
        assertThat(check(w)).isEmpty();

        AlertWatcher renewed = watcher(clock, new Credential("contoso", "certificate",
                Optional.of(NOW.plus(Duration.ofDays(365)))));
        assertThat(check(renewed)).as("a restart with a new certificate has nothing to say").isEmpty();
    }
}

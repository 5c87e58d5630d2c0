package dev.mailintake.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;

/**
 * The refresh decisions are the same whatever the JVM's default time zone: the seed product compared a server
 * time in CEST with an app time in UTC and took expired tokens for valid ones.
 */
class RefreshPolicyTest {
    private static final RefreshPolicy POLICY = RefreshPolicy.of(Duration.ofMinutes(30));
    private static final Instant NOW = Instant.parse("2026-03-29T00:30:00Z"); // the night Europe switches to summer time

    private static List<Boolean> decisions() {
        List<Boolean> out = new ArrayList<>();
        out.add(POLICY.due(NOW, Optional.of(NOW.plus(Duration.ofMinutes(10))), Optional.of(NOW.minusSeconds(60))));
        out.add(POLICY.due(NOW, Optional.of(NOW.plus(Duration.ofMinutes(45))), Optional.of(NOW.minusSeconds(60))));
        out.add(POLICY.due(NOW, Optional.of(NOW.minusSeconds(1)), Optional.of(NOW.minusSeconds(60))));
        out.add(POLICY.due(NOW, Optional.empty(), Optional.empty()));
        out.add(POLICY.due(NOW, Optional.of(NOW.plus(Duration.ofHours(20))), Optional.of(NOW.minus(Duration.ofHours(23)))));
        out.add(POLICY.due(NOW, Optional.of(NOW.plus(Duration.ofHours(20))), Optional.of(NOW.minus(Duration.ofHours(22)))));
        return out;
    }

    @Test
    void decisionsDoNotDependOnTheDefaultTimeZone() {
        TimeZone original = TimeZone.getDefault();
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
            List<Boolean> utc = decisions();
            assertThat(utc).containsExactly(true, false, true, true, true, false);
            for (String zone : List.of("Europe/Berlin", "Pacific/Kiritimati", "America/St_Johns")) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                assertThat(decisions()).as(zone).isEqualTo(utc);
            }
        } finally {
            TimeZone.setDefault(original);
        }
    }
}

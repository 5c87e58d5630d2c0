package dev.mailintake.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.config.RequestBudget;
import dev.mailintake.testsupport.ManualClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestGateTest {
    @Test
    void budgetExhaustedWaitsUntilTheOldestRequestLeavesTheWindow() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
        List<Duration> sleeps = new ArrayList<>();
        RequestGate gate = new RequestGate("m", 4, new RequestBudget(3, Duration.ofMinutes(10)), clock, d -> {
            sleeps.add(d);
            clock.advance(d);
        });
        for (int i = 0; i < 3; i++) {
            gate.enter();
            gate.leave();
            clock.advance(Duration.ofSeconds(60));
        }
        assertThat(sleeps).isEmpty();
        gate.enter();
        gate.leave();
        // first request at t0, now t0+3min: wait until t0+10min
        assertThat(sleeps).hasSize(1);
        assertThat(sleeps.get(0)).isBetween(Duration.ofMinutes(7), Duration.ofMinutes(7).plusMillis(2));
    }

    @Test
    void aPauseHoldsEveryRequestOfTheMailbox() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
        List<Duration> sleeps = new ArrayList<>();
        RequestGate gate = new RequestGate("m", 4, new RequestBudget(100, Duration.ofMinutes(10)), clock, d -> {
            sleeps.add(d);
            clock.advance(d);
        });
        gate.pauseUntil(clock.instant().plusSeconds(2));
        gate.enter();
        gate.leave();
        assertThat(sleeps).containsExactly(Duration.ofSeconds(2));
    }

    /**
     * The slot accounting: a throttling pause is free slot time with a caller waiting (the other slot, wanted by
     * nobody, is idle time); the request itself is time at one admitted; nothing ever at two.
     */
    @Test
    void countsHowTheSlotsAreUsed() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
        RequestGate gate = new RequestGate("m", 2, new RequestBudget(100, Duration.ofMinutes(10)), clock, d -> {
            letOneMillisecondPass();
            clock.advance(d);
        });
        RequestGate.Occupancy occupancy = gate.occupancy();
        assertThat(occupancy.nanosAt()).as("nothing counted before the first request").containsOnly(0L);

        gate.pauseUntil(clock.instant().plusSeconds(2));
        gate.enter();
        letOneMillisecondPass();
        gate.leave();

        long[] at = occupancy.nanosAt();
        assertThat(at).hasSize(3);
        assertThat(at[1]).isGreaterThanOrEqualTo(1_000_000L);
        assertThat(at[2]).isZero();
        assertThat(occupancy.freeWithWaiterNanos()).as("the pause").isGreaterThanOrEqualTo(1_000_000L);
        assertThat(occupancy.freeIdleNanos()).as("the second slot all along, the first after the request")
                .isGreaterThanOrEqualTo(at[1] + occupancy.freeWithWaiterNanos());

        occupancy.reset();
        assertThat(occupancy.nanosAt()[1]).isZero();
        assertThat(occupancy.freeWithWaiterNanos()).isZero();
    }

    /** Lets real time pass (the accounting reads System.nanoTime), without sleeping. */
    private static void letOneMillisecondPass() {
        long until = System.nanoTime() + 1_000_000L;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    @Test
    void neverMoreThanTheConcurrencyInFlight() throws Exception {
        RequestGate gate = new RequestGate("m", 2, new RequestBudget(100, Duration.ofMinutes(10)), Clock.systemUTC(),
                d -> Thread.sleep(d.toMillis()));
        gate.enter();
        gate.enter();
        Thread third = new Thread(() -> {
            try {
                gate.enter();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        third.start();
        third.join(300);
        assertThat(third.isAlive()).isTrue();
        gate.leave();
        third.join(2000);
        assertThat(third.isAlive()).isFalse();
    }
}

package dev.mailintake.graph;

import dev.mailintake.config.RequestBudget;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits Graph requests for one mailbox: at most {@code concurrency} in flight, at most the request budget per
 * sliding window, and none before a throttling pause ({@code Retry-After}) has passed — for every thread of the
 * mailbox, since throttled requests still count.
 */
public final class RequestGate {
    private static final Logger LOG = LoggerFactory.getLogger(RequestGate.class);

    /** Waits; a seam for tests. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final String mailbox;
    private final Semaphore inFlight;
    private final RequestBudget budget;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Deque<Instant> sent = new ArrayDeque<>();
    private final Occupancy occupancy;
    private Instant pausedUntil = Instant.EPOCH;

    public RequestGate(String mailbox, int concurrency, RequestBudget budget, Clock clock, Sleeper sleeper) {
        this.mailbox = mailbox;
        this.inFlight = new Semaphore(concurrency);
        this.budget = budget;
        this.clock = clock;
        this.sleeper = sleeper;
        this.occupancy = new Occupancy(concurrency);
    }

    /** Blocks until a request may be sent; the caller must {@link #leave()} when its response is consumed. */
    public void enter() throws InterruptedException {
        occupancy.change(0, 1);
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            occupancy.change(0, -1);
            throw e;
        }
        try {
            while (true) {
                Duration wait = waitTime();
                if (wait.isZero()) {
                    occupancy.change(1, -1);
                    return;
                }
                sleeper.sleep(wait);
            }
        } catch (InterruptedException | RuntimeException e) {
            occupancy.change(0, -1);
            inFlight.release();
            throw e;
        }
    }

    public void leave() {
        occupancy.change(-1, 0);
        inFlight.release();
    }

    /** How the slots were used since this gate was made (or last {@link Occupancy#reset() reset}). */
    public Occupancy occupancy() {
        return occupancy;
    }

    /** Slots not taken by a request in flight. */
    public int freeSlots() {
        return inFlight.availablePermits();
    }

    /** No request for this mailbox before {@code until} (a 429/503 with Retry-After). */
    public synchronized void pauseUntil(Instant until) {
        if (until.isAfter(pausedUntil)) {
            pausedUntil = until;
        }
    }

    private synchronized Duration waitTime() {
        Instant now = clock.instant();
        if (now.isBefore(pausedUntil)) {
            return Duration.between(now, pausedUntil);
        }
        Instant windowStart = now.minus(budget.window());
        while (!sent.isEmpty() && !sent.peekFirst().isAfter(windowStart)) {
            sent.removeFirst();
        }
        if (sent.size() >= budget.requests()) {
            Duration wait = Duration.between(windowStart, sent.peekFirst()).plusMillis(1);
            LOG.warn("mailbox '{}': request budget of {} per {} used up; waiting {} ms", mailbox, budget.requests(),
                    budget.window(), wait.toMillis());
            return wait;
        }
        sent.addLast(now);
        return Duration.ZERO;
    }

    /**
     * Time-weighted use of the slots: how long {@code n} requests were admitted, and how much slot time was free while
     * a caller was waiting to enter (a hand-over not yet taken up: the waiter not yet running, or a throttling pause)
     * or while no caller wanted one (the workers busy elsewhere); counted from the first request on. Bookkeeping only,
     * a few nanoseconds per request.
     */
    public static final class Occupancy {
        private final int slots;
        private final long[] nanosAt;
        private long freeWithWaiterNanos;
        private long freeIdleNanos;
        private int admitted;
        private int waiting;
        private long since;
        private boolean started;

        Occupancy(int slots) {
            this.slots = slots;
            this.nanosAt = new long[slots + 1];
        }

        synchronized void change(int admittedDelta, int waitingDelta) {
            if (!started) {
                // counted from the first request on
                started = true;
                since = System.nanoTime();
            }
            account();
            admitted += admittedDelta;
            waiting += waitingDelta;
        }

        private void account() {
            if (!started) {
                return;
            }
            long now = System.nanoTime();
            long dt = now - since;
            since = now;
            int level = Math.max(0, Math.min(slots, admitted));
            nanosAt[level] += dt;
            int free = slots - level;
            int taken = Math.min(free, waiting);
            freeWithWaiterNanos += taken * dt;
            freeIdleNanos += (free - taken) * dt;
        }

        /** Starts counting afresh (the requests in flight stay admitted). */
        public synchronized void reset() {
            account();
            java.util.Arrays.fill(nanosAt, 0);
            freeWithWaiterNanos = 0;
            freeIdleNanos = 0;
        }

        /** Nanoseconds spent with {@code n} requests admitted, for n = 0..slots. */
        public synchronized long[] nanosAt() {
            account();
            return nanosAt.clone();
        }

        /** Slot-nanoseconds free while a caller waited to enter. */
        public synchronized long freeWithWaiterNanos() {
            account();
            return freeWithWaiterNanos;
        }

        /** Slot-nanoseconds free while no caller wanted a slot. */
        public synchronized long freeIdleNanos() {
            account();
            return freeIdleNanos;
        }
    }
}

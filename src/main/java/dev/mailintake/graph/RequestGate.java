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
    private Instant pausedUntil = Instant.EPOCH;

    public RequestGate(String mailbox, int concurrency, RequestBudget budget, Clock clock, Sleeper sleeper) {
        this.mailbox = mailbox;
        this.inFlight = new Semaphore(concurrency);
        this.budget = budget;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** Blocks until a request may be sent; the caller must {@link #leave()} when its response is consumed. */
    public void enter() throws InterruptedException {
        inFlight.acquire();
        try {
            while (true) {
                Duration wait = waitTime();
                if (wait.isZero()) {
                    return;
                }
                sleeper.sleep(wait);
            }
        } catch (InterruptedException | RuntimeException e) {
            inFlight.release();
            throw e;
        }
    }

    public void leave() {
        inFlight.release();
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
}

package dev.mailintake.testsupport;

import java.util.concurrent.atomic.AtomicInteger;

/** A fault queued with {@link GraphFake#fault(Fault)}: shows how often it fired and lets a test cancel it. */
public final class FaultHandle {

    private final Fault fault;
    private final AtomicInteger skipLeft;
    private final AtomicInteger left;
    private final AtomicInteger fired = new AtomicInteger();
    private volatile boolean cancelled;

    FaultHandle(Fault fault) {
        this.fault = fault;
        this.skipLeft = new AtomicInteger(fault.skipValue());
        this.left = new AtomicInteger(fault.timesValue());
    }

    public Fault fault() {
        return fault;
    }

    /** How many requests this fault acted on so far. */
    public int fired() {
        return fired.get();
    }

    /** How many more times it will fire ({@code Integer.MAX_VALUE}-ish for {@link Fault#always()}). */
    public int remaining() {
        return cancelled ? 0 : left.get();
    }

    public boolean usedUp() {
        return remaining() == 0;
    }

    /** Stop firing (requests already affected are not undone). */
    public void cancel() {
        cancelled = true;
    }

    /** Called under the fake's fault lock for a matching request; true if the fault fires for it. */
    boolean consume() {
        if (cancelled || left.get() <= 0) {
            return false;
        }
        if (skipLeft.get() > 0) {
            skipLeft.decrementAndGet();
            return false;
        }
        if (left.get() != Integer.MAX_VALUE) {
            left.decrementAndGet();
        }
        fired.incrementAndGet();
        return true;
    }

    @Override
    public String toString() {
        return fault + " (fired " + fired() + ", remaining " + remaining() + ")";
    }
}

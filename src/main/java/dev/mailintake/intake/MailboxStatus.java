package dev.mailintake.intake;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** What operators see of one mailbox: its state, last poll and counts (never message content or secrets). */
public final class MailboxStatus {
    /** The mailbox's life cycle. */
    public enum State {
        STARTING,
        RUNNING,
        /** Waiting for its connection to be authorized again; polls go on and resume the mailbox. */
        PAUSED,
        FAILED,
        DISABLED
    }

    private final String mailbox;
    private final AtomicReference<State> state;
    private final AtomicReference<String> reason = new AtomicReference<>();
    private final AtomicReference<Instant> lastPoll = new AtomicReference<>();
    private final AtomicReference<Instant> pollStarted = new AtomicReference<>(Instant.EPOCH);
    private final AtomicReference<Instant> lastDelivery = new AtomicReference<>();
    private final AtomicLong imported = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong postponed = new AtomicLong();
    private final AtomicLong failedPolls = new AtomicLong();
    private final AtomicReference<String> lastPollError = new AtomicReference<>();

    public MailboxStatus(String mailbox, boolean enabled) {
        this.mailbox = mailbox;
        this.state = new AtomicReference<>(enabled ? State.STARTING : State.DISABLED);
    }

    public String mailbox() {
        return mailbox;
    }

    public State state() {
        return state.get();
    }

    public Optional<String> reason() {
        return Optional.ofNullable(reason.get());
    }

    /** @return true if this call changed the state (so the caller logs the change once) */
    public boolean fail(String why) {
        reason.set(why);
        return state.getAndSet(State.FAILED) != State.FAILED;
    }

    /** A stopped mailbox's route was started again (JMX): forget the failure. @return true if it had failed */
    public boolean restart() {
        if (state.compareAndSet(State.FAILED, State.STARTING)) {
            reason.set(null);
            return true;
        }
        return false;
    }

    public void pollStarted(Instant at) {
        pollStarted.set(at);
    }

    /** When the current (or last) poll started. */
    public Instant pollStartedAt() {
        return pollStarted.get();
    }

    /** @return true if this call changed the state */
    public boolean pause(String why) {
        reason.set(why);
        return state.getAndSet(State.PAUSED) != State.PAUSED;
    }

    /** @return true if the mailbox was paused and runs again */
    public boolean polled(Instant at) {
        lastPoll.set(at);
        failedPolls.set(0);
        lastPollError.set(null);
        state.compareAndSet(State.STARTING, State.RUNNING);
        if (state.compareAndSet(State.PAUSED, State.RUNNING)) {
            reason.set(null);
            return true;
        }
        return false;
    }

    /**
     * A poll could not list the Inbox (cannot connect, TLS, a Graph error): counted until a poll succeeds again.
     *
     * @return how many polls in a row have failed now
     */
    public long pollFailed(String why) {
        lastPollError.set(why);
        return failedPolls.incrementAndGet();
    }

    /** Polls in a row that could not list the Inbox (0 after a successful poll). */
    public long failedPolls() {
        return failedPolls.get();
    }

    /** Why the last failed poll failed, until a poll succeeds. */
    public Optional<String> lastPollError() {
        return Optional.ofNullable(lastPollError.get());
    }

    public void delivered(Instant at) {
        lastDelivery.set(at);
    }

    public void imported() {
        imported.incrementAndGet();
    }

    public void error() {
        errors.incrementAndGet();
    }

    public void postponed() {
        postponed.incrementAndGet();
    }

    public Optional<Instant> lastPoll() {
        return Optional.ofNullable(lastPoll.get());
    }

    public Optional<Instant> lastDelivery() {
        return Optional.ofNullable(lastDelivery.get());
    }

    public long importedCount() {
        return imported.get();
    }

    public long errorCount() {
        return errors.get();
    }

    public long postponedCount() {
        return postponed.get();
    }
}

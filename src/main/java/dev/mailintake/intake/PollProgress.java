package dev.mailintake.intake;

import java.util.Iterator;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One poll's progress, shared by the poll's exchange and its messages' exchanges (an exchange property): how many
 * messages the listing handed out and how many of them left the Inbox (moved to Processed or Error). It decides
 * whether the scheduler polls again at once ({@link #moreWaiting()}).
 */
final class PollProgress {
    private final int max;
    private final AtomicInteger listed = new AtomicInteger();
    private final AtomicInteger moved = new AtomicInteger();

    PollProgress(int max) {
        this.max = max;
    }

    /** The listing, counting the messages it hands out. */
    Iterator<MessageRef> counting(Iterator<MessageRef> refs) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return refs.hasNext();
            }

            @Override
            public MessageRef next() {
                MessageRef ref = refs.next();
                listed.incrementAndGet();
                return ref;
            }
        };
    }

    /** A message of this poll left the Inbox. */
    void moved() {
        moved.incrementAndGet();
    }

    int listed() {
        return listed.get();
    }

    int movedCount() {
        return moved.get();
    }

    /**
     * The poll took as many messages as a poll may (so more may be waiting) and made progress (at least one message
     * left the Inbox). A poll whose messages all stayed (a target or server that fails for every message) lists the
     * same messages again, so it waits the interval instead of polling again at once.
     */
    boolean moreWaiting() {
        return listed.get() >= max && moved.get() > 0;
    }
}

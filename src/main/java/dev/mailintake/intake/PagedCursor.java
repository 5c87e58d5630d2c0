package dev.mailintake.intake;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;

/** A lazy listing of an Inbox: the next page is read only when the messages of the last one have been handed out. */
public abstract class PagedCursor implements Iterator<MessageRef> {
    private final Deque<MessageRef> buffer = new ArrayDeque<>();

    /** True when no further page can hold messages. */
    protected abstract boolean exhausted();

    /** Reads the next page, handing its messages to {@link #add}. */
    protected abstract void fetchPage();

    protected final void add(MessageRef ref) {
        buffer.addLast(ref);
    }

    @Override
    public final boolean hasNext() {
        while (buffer.isEmpty() && !exhausted()) {
            fetchPage();
        }
        return !buffer.isEmpty();
    }

    @Override
    public final MessageRef next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return buffer.removeFirst();
    }
}

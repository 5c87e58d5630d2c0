package dev.mailintake.store;

/**
 * Makes the store's commits so far survive a crash of this process ({@code kill -9}) before a step that depends on
 * them: a move out of the Inbox, a hand-over to a target that cannot recognise a second delivery, a rotated token.
 */
@FunctionalInterface
public interface Durability {
    /** A store whose commits are in its files when they return (PostgreSQL, an in-memory H2). */
    Durability AT_COMMIT = () -> { };

    void persist();
}

package dev.mailintake.store;

/** Where a message stands in the exactly-once ledger; see {@code db/migration}. */
public enum LedgerState {
    /**
     * Handed to the target, its answer not yet recorded: found so at the next poll (the instance died in between), the
     * message is delivered again flagged as a possible duplicate.
     */
    DELIVERING,
    DELIVERED,
    PROCESSED,
    FAILING,
    REJECTED,
    ERROR
}

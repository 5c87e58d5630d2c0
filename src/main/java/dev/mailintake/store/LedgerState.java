package dev.mailintake.store;

/** Where a message stands in the exactly-once ledger; see {@code db/migration}. */
public enum LedgerState {
    DELIVERED,
    PROCESSED,
    FAILING,
    REJECTED,
    ERROR
}

package dev.mailintake.store;

/** Where a connection's delegated grant stands. */
public enum GrantState {
    AUTHORIZED,
    /** The grant was revoked, expired or no longer matches the configuration: someone must authorize again. */
    REAUTHORIZATION_REQUIRED,
    /** The app registration or its credentials are wrong (e.g. secret expired): an admin must fix it. */
    ADMIN_MUST_FIX
}

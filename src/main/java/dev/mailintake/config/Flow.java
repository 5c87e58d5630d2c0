package dev.mailintake.config;

/** How a connection obtains its tokens. */
public enum Flow {
    /** App-only: client credentials (client secret or certificate). */
    CLIENT_CREDENTIALS,
    /** An administrator signs in once; refresh tokens keep the grant alive. */
    DELEGATED,
    /** Delegated, signed in through the device code flow on a headless server. */
    DEVICE_CODE
}

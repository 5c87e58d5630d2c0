package dev.mailintake.config;

/** Who issues the tokens of a connection. */
public enum Provider {
    MICROSOFT,
    GENERIC
}

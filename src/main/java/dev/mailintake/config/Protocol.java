package dev.mailintake.config;

/** How a mailbox is read. */
public enum Protocol {
    GRAPH,
    IMAP
}

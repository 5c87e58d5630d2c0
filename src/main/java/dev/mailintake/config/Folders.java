package dev.mailintake.config;

/**
 * The three folders of a mailbox, each a well-known name ({@code inbox}), a path ({@code Inbox/Scans/Processed}),
 * an id ({@code id:AAMk...}) or a bare name looked up in the whole tree.
 */
public record Folders(String inbox, String processed, String error) {
}

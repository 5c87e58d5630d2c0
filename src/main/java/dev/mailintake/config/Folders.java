package dev.mailintake.config;

import java.util.Set;

/**
 * The three folders of a mailbox, each a well-known name ({@code inbox}, or explicitly {@code well-known:archive}), a
 * path ({@code Inbox/Scans/Processed}), a path from the root ({@code /Archive}), an id ({@code id:AAMk...}) or a bare
 * name looked up in the whole tree.
 */
public record Folders(String inbox, String processed, String error) {
    /** The explicit well-known form: {@code well-known:archive}. */
    public static final String WELL_KNOWN_PREFIX = "well-known:";

    /** Graph's locale-independent folder names, usable in place of an id. */
    public static final Set<String> WELL_KNOWN = Set.of("archive", "clutter", "conflicts", "conversationhistory",
            "deleteditems", "drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
            "recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues");
}

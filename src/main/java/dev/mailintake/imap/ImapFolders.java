package dev.mailintake.imap;

import dev.mailintake.config.Folders;
import dev.mailintake.intake.MailboxFailure;
import dev.mailintake.intake.TransientFailure;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a folder setting to an IMAP folder's full name: {@code inbox} or {@code well-known:inbox} (any case) is
 * {@code INBOX}; a path ({@code Inbox/Scans/Processed}, or from the root {@code /Archive}) is joined with the server's
 * hierarchy separator (so it is {@code INBOX.Scans.Processed} on a server using dots); a bare name is every folder of
 * that full name or of that own name in the whole tree — refusing ambiguous names with every match as a path from the
 * root.
 */
final class ImapFolders {
    private static final Logger LOG = LoggerFactory.getLogger(ImapFolders.class);

    private final IMAPStore store;
    private final String mailbox;

    ImapFolders(IMAPStore store, String mailbox) {
        this.store = store;
        this.mailbox = mailbox;
    }

    String resolve(String setting, String key, boolean create) {
        try {
            char separator = store.getDefaultFolder().getSeparator();
            if (setting.equalsIgnoreCase("inbox") || setting.equalsIgnoreCase(Folders.WELL_KNOWN_PREFIX + "inbox")) {
                return "INBOX";
            }
            List<Folder> all = Arrays.asList(store.getDefaultFolder().list("*"));
            if (setting.contains("/")) {
                String path = setting.startsWith("/") ? setting.substring(1) : setting;
                List<String> segments = new ArrayList<>(List.of(path.split("/")));
                if (segments.get(0).equalsIgnoreCase("inbox")) {
                    segments.set(0, "INBOX");
                }
                String fullName = String.join(String.valueOf(separator), segments);
                return existingOrCreated(all, fullName, setting, key, create);
            }
            // a top-level folder of this name is one match among others, not a silent winner
            List<String> matches = new ArrayList<>();
            for (Folder f : all) {
                if (f.getFullName().equals(setting) || f.getName().equalsIgnoreCase(setting)) {
                    matches.add(f.getFullName());
                }
            }
            if (matches.size() == 1) {
                return matches.get(0);
            }
            if (matches.size() > 1) {
                List<String> paths = matches.stream().map(m -> "/" + m.replace(separator, '/')).sorted().toList();
                throw new MailboxFailure("mailbox '" + mailbox + "': " + key + " = " + setting + " is ambiguous: "
                        + matches.size() + " folders have this name (" + String.join(", ", paths) + "); give the one"
                        + " you mean as a path from the root: " + String.join(" or ",
                        paths.stream().map(path -> key + "=" + path).toList()));
            }
            return existingOrCreated(all, setting, setting, key, create);
        } catch (MessagingException e) {
            throw new TransientFailure("mailbox '" + mailbox + "': cannot list the IMAP folders: " + e.getMessage());
        }
    }

    private String existingOrCreated(List<Folder> all, String fullName, String setting, String key, boolean create)
            throws MessagingException {
        for (Folder f : all) {
            if (f.getFullName().equals(fullName)) {
                return f.getFullName();
            }
        }
        if (!create) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + " = " + setting + ": there is no folder "
                    + fullName + " on the IMAP server; create it, or set create-folders=true");
        }
        Folder folder = store.getFolder(fullName);
        if (!folder.create(Folder.HOLDS_MESSAGES)) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + " = " + setting + ": the IMAP server"
                    + " refused to create folder " + fullName);
        }
        LOG.info("mailbox '{}': created IMAP folder {}", mailbox, fullName);
        return folder.getFullName();
    }
}

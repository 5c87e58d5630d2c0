package dev.mailintake.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mailintake.config.Folders;
import dev.mailintake.intake.MailboxFailure;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a folder setting to a Graph folder id: {@code id:<id>}; {@code well-known:<name>}; {@code inbox}; a path
 * from the root ({@code /Archive}, {@code /Inbox/Scans}); a path whose first segment is a well-known name or a
 * top-level folder ({@code Inbox/Scans/Processed}); or a bare name looked up in the whole tree, a well-known name
 * included ({@code Archive} is the well-known folder only if no other folder has that name) — refusing ambiguous
 * names with every match and an unambiguous form of each.
 */
final class GraphFolders {
    private static final Logger LOG = LoggerFactory.getLogger(GraphFolders.class);
    private static final String FOLDER_QUERY = "?$top=100&$select=id,displayName,childFolderCount";

    private final GraphClient client;
    private final String userUrl;
    private final String mailbox;

    GraphFolders(GraphClient client, String userUrl, String mailbox) {
        this.client = client;
        this.userUrl = userUrl;
        this.mailbox = mailbox;
    }

    String resolve(String setting, String key, boolean create) {
        if (setting.startsWith("id:")) {
            String id = setting.substring(3);
            try {
                return client.get(userUrl + "/mailFolders/" + GraphUrls.segment(id) + "?$select=id").path("id").asText();
            } catch (GraphException e) {
                throw new MailboxFailure("mailbox '" + mailbox + "': " + key + " = " + setting
                        + " does not name a folder of this mailbox (" + e.getMessage() + ")");
            }
        }
        if (setting.startsWith(Folders.WELL_KNOWN_PREFIX)) {
            String name = setting.substring(Folders.WELL_KNOWN_PREFIX.length()).toLowerCase(Locale.ROOT);
            return wellKnown(name).orElseThrow(() -> new MailboxFailure("mailbox '" + mailbox + "': " + key + " = "
                    + setting + ": this mailbox has no well-known folder " + name)).id();
        }
        if (setting.startsWith("/")) {
            return fromRoot(List.of(setting.substring(1).split("/")), key, create).id();
        }
        List<String> segments = List.of(setting.split("/"));
        if (segments.size() == 1) {
            // the default Inbox is always the Inbox; every other bare name, a well-known one too, may be ambiguous
            return setting.equalsIgnoreCase("inbox") ? wellKnownFolder("inbox", setting).id()
                    : byBareName(setting, key, create);
        }
        String first = segments.get(0);
        Folder current = Folders.WELL_KNOWN.contains(first.toLowerCase(Locale.ROOT))
                ? wellKnownFolder(first.toLowerCase(Locale.ROOT), first)
                : child(null, first, key, create);
        for (String segment : segments.subList(1, segments.size())) {
            current = child(current, segment, key, create);
        }
        return current.id();
    }

    /** {@code /Inbox/Scans}: each segment a child of the one before, the first a top-level folder. */
    private Folder fromRoot(List<String> segments, String key, boolean create) {
        Folder current = null;
        for (String segment : segments) {
            current = child(current, segment, key, create);
        }
        return current;
    }

    private Folder wellKnownFolder(String name, String shownAs) {
        JsonNode f = client.get(userUrl + "/mailFolders/" + name + FOLDER_QUERY.replace("$top=100&", ""));
        return new Folder(f.path("id").asText(), f.path("displayName").asText(shownAs), shownAs, 0, true);
    }

    /** The well-known folder, if the mailbox has it (Graph answers 404 for e.g. an archive never provisioned). */
    private Optional<Folder> wellKnown(String name) {
        try {
            return Optional.of(wellKnownFolder(name, Folders.WELL_KNOWN_PREFIX + name));
        } catch (GraphException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private Folder child(Folder parent, String name, String key, boolean create) {
        String parentPath = parent == null ? "" : parent.path();
        String listUrl = parent == null ? userUrl + "/mailFolders" : userUrl + "/mailFolders/" + GraphUrls.segment(parent.id()) + "/childFolders";
        List<Folder> children = list(listUrl, parent);
        for (Folder c : children) {
            if (c.name().equalsIgnoreCase(name)) {
                return c;
            }
        }
        String where = parent == null ? "at the top level" : "under '" + parentPath + "'";
        if (!create) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + ": folder '" + name + "' not found " + where
                    + " (there: " + children.stream().map(Folder::name).toList()
                    + "); create it in the mailbox or set create-folders=true");
        }
        JsonNode created = client.send("POST", listUrl, Map.of("displayName", name));
        String path = parentPath.isEmpty() ? name : parentPath + "/" + name;
        LOG.info("mailbox '{}': created folder '{}' for {}", mailbox, path, key);
        return new Folder(created.path("id").asText(), name, path, 0,
                (parent == null || parent.plainPath()) && !name.contains("/"));
    }

    private String byBareName(String name, String key, boolean create) {
        List<Folder> matches = new ArrayList<>();
        Deque<Folder> queue = new ArrayDeque<>(list(userUrl + "/mailFolders", null));
        while (!queue.isEmpty()) {
            Folder f = queue.removeFirst();
            if (f.name().equalsIgnoreCase(name)) {
                matches.add(f);
            }
            if (f.childCount() > 0) {
                queue.addAll(list(userUrl + "/mailFolders/" + GraphUrls.segment(f.id()) + "/childFolders", f));
            }
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (Folders.WELL_KNOWN.contains(lower)) {
            // the well-known folder may show another name (a localized "Archiv"): it is a match all the same
            wellKnown(lower).filter(w -> matches.stream().noneMatch(m -> m.id().equals(w.id()))).ifPresent(matches::add);
        }
        if (matches.size() == 1) {
            return matches.get(0).id();
        }
        if (matches.size() > 1) {
            List<String> unambiguous = matches.stream().map(GraphFolders::unambiguous).toList();
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + ": folder name '" + name + "' is ambiguous, it"
                    + " matches " + unambiguous.stream().map(u -> "'" + u + "'").collect(Collectors.joining(", "))
                    + "; give the one you mean as a path from the root: " + unambiguous.stream()
                    .map(u -> key + "=" + u).collect(Collectors.joining(" or ")));
        }
        if (!create) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + ": no folder named '" + name
                    + "' in the mailbox; create it, give a path like /Inbox/" + name + ", or set create-folders=true");
        }
        return child(null, name, key, true).id();
    }

    /**
     * How to name one folder so that nothing else matches: its path from the root; {@code well-known:<name>} for a
     * well-known folder found by that name only; its id when a name on its path contains a {@code /}.
     */
    private static String unambiguous(Folder f) {
        if (f.path().startsWith(Folders.WELL_KNOWN_PREFIX)) {
            return f.path();
        }
        return f.plainPath() ? "/" + f.path() : "id:" + f.id();
    }

    /** The children listed at {@code url}, whose parent is {@code parent} (null: the root). */
    private List<Folder> list(String url, Folder parent) {
        String parentPath = parent == null ? "" : parent.path();
        boolean plainParent = parent == null || parent.plainPath();
        List<Folder> out = new ArrayList<>();
        String next = url + FOLDER_QUERY;
        while (next != null) {
            JsonNode page = client.get(next);
            for (JsonNode f : page.path("value")) {
                String name = f.path("displayName").asText();
                out.add(new Folder(f.path("id").asText(), name, parentPath.isEmpty() ? name : parentPath + "/" + name,
                        f.path("childFolderCount").asInt(0), plainParent && !name.contains("/")));
            }
            next = page.hasNonNull("@odata.nextLink") ? page.get("@odata.nextLink").asText() : null;
        }
        return out;
    }

    /**
     * A folder found by a listing; {@code path} is its display path ({@code Inbox/Scans}), {@code plainPath} whether
     * no name on it contains a {@code /} (so that {@code /<path>} names it).
     */
    private record Folder(String id, String name, String path, int childCount, boolean plainPath) {
    }
}

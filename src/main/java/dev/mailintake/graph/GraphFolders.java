package dev.mailintake.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mailintake.intake.MailboxFailure;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a folder setting to a Graph folder id: {@code id:<id>}, a well-known name ({@code inbox}), a path whose
 * first segment is a well-known name or a top-level folder ({@code Inbox/Scans/Processed}), or a bare name looked up
 * in the whole tree — refusing ambiguous names with every matching path.
 */
final class GraphFolders {
    private static final Logger LOG = LoggerFactory.getLogger(GraphFolders.class);
    static final Set<String> WELL_KNOWN = Set.of("archive", "clutter", "conflicts", "conversationhistory",
            "deleteditems", "drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
            "recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues");
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
        List<String> segments = List.of(setting.split("/"));
        if (segments.size() == 1 && !WELL_KNOWN.contains(setting.toLowerCase(Locale.ROOT))) {
            return byBareName(setting, key, create);
        }
        String first = segments.get(0);
        Folder current;
        if (WELL_KNOWN.contains(first.toLowerCase(Locale.ROOT))) {
            JsonNode f = client.get(userUrl + "/mailFolders/" + first.toLowerCase(Locale.ROOT) + FOLDER_QUERY.replace("$top=100&", ""));
            current = new Folder(f.path("id").asText(), f.path("displayName").asText(first), first);
        } else {
            current = child(null, first, key, create, "");
        }
        for (String segment : segments.subList(1, segments.size())) {
            current = child(current, segment, key, create, current.path());
        }
        return current.id();
    }

    private Folder child(Folder parent, String name, String key, boolean create, String parentPath) {
        String listUrl = parent == null ? userUrl + "/mailFolders" : userUrl + "/mailFolders/" + GraphUrls.segment(parent.id()) + "/childFolders";
        List<Folder> children = list(listUrl, parentPath);
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
        return new Folder(created.path("id").asText(), name, path);
    }

    private String byBareName(String name, String key, boolean create) {
        List<Folder> matches = new ArrayList<>();
        Deque<Folder> queue = new ArrayDeque<>();
        List<Folder> top = list(userUrl + "/mailFolders", "");
        queue.addAll(top);
        while (!queue.isEmpty()) {
            Folder f = queue.removeFirst();
            if (f.name().equalsIgnoreCase(name)) {
                matches.add(f);
            }
            if (f.childCount() > 0) {
                queue.addAll(list(userUrl + "/mailFolders/" + GraphUrls.segment(f.id()) + "/childFolders", f.path()));
            }
        }
        if (matches.size() == 1) {
            return matches.get(0).id();
        }
        if (matches.size() > 1) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + ": folder name '" + name + "' is ambiguous, it matches "
                    + matches.stream().map(f -> "'" + f.path() + "'").toList().toString().replace("[", "").replace("]", "")
                    + "; give the path of the one you mean (e.g. " + key + "=" + matches.get(0).path() + ")");
        }
        if (!create) {
            throw new MailboxFailure("mailbox '" + mailbox + "': " + key + ": no folder named '" + name
                    + "' in the mailbox; create it, give a path like Inbox/" + name + ", or set create-folders=true");
        }
        return child(null, name, key, true, "").id();
    }

    private List<Folder> list(String url, String parentPath) {
        List<Folder> out = new ArrayList<>();
        String next = url + FOLDER_QUERY;
        while (next != null) {
            JsonNode page = client.get(next);
            for (JsonNode f : page.path("value")) {
                String name = f.path("displayName").asText();
                out.add(new Folder(f.path("id").asText(), name, parentPath.isEmpty() ? name : parentPath + "/" + name,
                        f.path("childFolderCount").asInt(0)));
            }
            next = page.hasNonNull("@odata.nextLink") ? page.get("@odata.nextLink").asText() : null;
        }
        return out;
    }

    private record Folder(String id, String name, String path, int childCount) {
        Folder(String id, String name, String path) {
            this(id, name, path, 0);
        }
    }
}

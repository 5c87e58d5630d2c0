package dev.mailintake.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * State of one mailbox in a {@link GraphFake}, with a direct (no HTTP) setup and inspection API for tests.
 *
 * <p>Folder arguments ("folder specs") accept a folder id, a well-known name ({@code inbox}, {@code sentitems},
 * {@code msgfolderroot}, ... case-insensitive) or a display path such as {@code Inbox/Scans/Processed} whose first
 * segment is a well-known name or a top-level display name (all matching is case-insensitive). Message arguments
 * accept the immutable id or the current REST id.
 *
 * <p>Thread-safe: every method synchronizes on the mailbox, and so do the fake's HTTP handlers.
 */
public final class FakeMailbox {

    /** Well-known folder names Graph accepts in place of an id. */
    static final Set<String> WELL_KNOWN_NAMES = Set.of("archive", "clutter", "conflicts", "conversationhistory",
            "deleteditems", "drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
            "recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues");

    private static final String[][] DEFAULT_FOLDERS = {
            {"inbox", "Inbox"}, {"drafts", "Drafts"}, {"sentitems", "Sent Items"},
            {"deleteditems", "Deleted Items"}, {"junkemail", "Junk Email"}, {"archive", "Archive"},
            {"outbox", "Outbox"}};

    static final Comparator<Msg> RECEIVED_ASC =
            Comparator.comparing((Msg m) -> m.received).thenComparingLong(m -> m.seq);

    static final class Folder {
        final String id;
        final String displayName;
        final Folder parent;
        final String parentId;
        final boolean hidden;
        final String wellKnownName;
        final List<Folder> children = new ArrayList<>();

        Folder(String id, String displayName, Folder parent, String parentId, boolean hidden, String wellKnownName) {
            this.id = id;
            this.displayName = displayName;
            this.parent = parent;
            this.parentId = parentId;
            this.hidden = hidden;
            this.wellKnownName = wellKnownName;
        }
    }

    static final class Msg {
        final String immutableId;
        final long seq;
        final Instant received;
        final Instant created;
        final MimeSummary summary;
        final byte[] content;
        final Path file;
        final long size;
        String restId;
        Folder folder;
        List<String> categories = List.of();
        boolean isRead;
        String changeKey;
        Instant lastModified;

        Msg(String immutableId, long seq, Instant received, MimeSummary summary, byte[] content, Path file, long size) {
            this.immutableId = immutableId;
            this.seq = seq;
            this.received = received;
            this.created = received;
            this.summary = summary;
            this.content = content;
            this.file = file;
            this.size = size;
        }
    }

    private final String address;
    private final String userId;
    private final IdFactory ids;
    private final Map<String, Folder> folders = new LinkedHashMap<>();
    private final Map<String, Folder> wellKnown = new HashMap<>();
    private final Folder root;
    private final Map<String, Msg> byImmutable = new LinkedHashMap<>();
    private final Map<String, Msg> byRest = new HashMap<>();
    private long sequence;

    FakeMailbox(String address, IdFactory ids) {
        this.address = address;
        this.userId = UUID.nameUUIDFromBytes(address.toLowerCase(Locale.ROOT).getBytes()).toString();
        this.ids = ids;
        this.root = new Folder(ids.folderId(), "Top of Information Store", null, ids.folderId(), false,
                "msgfolderroot");
        folders.put(root.id, root);
        wellKnown.put("msgfolderroot", root);
        for (String[] f : DEFAULT_FOLDERS) {
            Folder folder = newFolder(root, f[1], false, f[0]);
            wellKnown.put(f[0], folder);
        }
    }

    // ================================================================== test API: folders

    /** The address as first given to {@link GraphFake#mailbox(String)}. */
    public String address() {
        return address;
    }

    /** Stable user object id (a GUID derived from the address). */
    public String userId() {
        return userId;
    }

    /** Id of the folder named by a folder spec; {@link IllegalArgumentException} if there is none. */
    public synchronized String folderId(String folderSpec) {
        return resolve(folderSpec).id;
    }

    /** Snapshot of the folder named by a folder spec. */
    public synchronized FakeFolder folder(String folderSpec) {
        return snapshot(resolve(folderSpec));
    }

    /** Snapshot of all folders (root first, then in creation order). */
    public synchronized List<FakeFolder> folders() {
        List<FakeFolder> result = new ArrayList<>();
        for (Folder f : folders.values()) {
            result.add(snapshot(f));
        }
        return result;
    }

    /** Creates a visible folder; {@link IllegalStateException} if a sibling has the same name (case-insensitive). */
    public String createFolder(String parentSpec, String displayName) {
        return createFolder(parentSpec, displayName, false);
    }

    public synchronized String createFolder(String parentSpec, String displayName, boolean hidden) {
        Folder parent = resolve(parentSpec);
        if (child(parent, displayName) != null) {
            throw new IllegalStateException("folder '" + displayName + "' already exists in '" + path(parent) + "'");
        }
        return newFolder(parent, displayName, hidden, null).id;
    }

    /** Creates every missing folder along a display path such as {@code Inbox/Scans/Processed}; returns its id. */
    public synchronized String ensureFolder(String path) {
        String[] parts = path.split("/");
        Folder current = resolve(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            Folder next = child(current, parts[i]);
            current = next != null ? next : newFolder(current, parts[i], false, null);
        }
        return current.id;
    }

    // ================================================================== test API: messages

    /** Adds a message held in memory; returns its immutable id. {@code received} is truncated to seconds. */
    public synchronized String addMessage(String folderSpec, byte[] mime, Instant received) {
        Objects.requireNonNull(mime, "mime");
        byte[] copy = mime.clone();
        return add(resolve(folderSpec), MimeSummary.of(copy), copy, null, copy.length, received);
    }

    /** Adds a message received now. */
    public String addMessage(String folderSpec, byte[] mime) {
        return addMessage(folderSpec, mime, Instant.now());
    }

    /**
     * Adds a message whose MIME stays in a file (for very large messages); it is streamed, never loaded into memory.
     * The file must not change or disappear while the fake uses it. Returns the immutable id.
     */
    public String addMessage(String folderSpec, Path mimeFile, Instant received) {
        MimeSummary summary;
        long size;
        try {
            size = Files.size(mimeFile);
            summary = MimeSummary.of(mimeFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        synchronized (this) {
            return add(resolve(folderSpec), summary, null, mimeFile, size, received);
        }
    }

    /** Messages directly in a folder, oldest first (receivedDateTime, then insertion order). */
    public synchronized List<FakeMessage> messagesIn(String folderSpec) {
        Folder folder = resolve(folderSpec);
        List<FakeMessage> result = new ArrayList<>();
        for (Msg m : sorted(messages(folder), RECEIVED_ASC)) {
            result.add(snapshot(m));
        }
        return result;
    }

    /** All messages in the mailbox, oldest first. */
    public synchronized List<FakeMessage> allMessages() {
        List<FakeMessage> result = new ArrayList<>();
        for (Msg m : sorted(new ArrayList<>(byImmutable.values()), RECEIVED_ASC)) {
            result.add(snapshot(m));
        }
        return result;
    }

    /** Snapshot of a message by immutable or REST id; {@link NoSuchElementException} if unknown. */
    public synchronized FakeMessage message(String id) {
        return snapshot(require(id));
    }

    public synchronized Optional<FakeMessage> findMessage(String id) {
        Msg m = find(id);
        return m == null ? Optional.empty() : Optional.of(snapshot(m));
    }

    /** MIME bytes of an in-memory message; {@link IllegalStateException} for a file-backed one. */
    public synchronized byte[] mime(String id) {
        Msg m = require(id);
        if (m.content == null) {
            throw new IllegalStateException("message " + id + " is file-backed: use mimeFile(id)");
        }
        return m.content.clone();
    }

    /** The file of a file-backed message. */
    public synchronized Optional<Path> mimeFile(String id) {
        return Optional.ofNullable(require(id).file);
    }

    /** Moves a message as a user would (the REST id changes); returns the new REST id. */
    public synchronized String moveMessage(String id, String folderSpec) {
        Msg m = require(id);
        move(m, resolve(folderSpec));
        return m.restId;
    }

    /** Hard-deletes a message (both ids become unknown). Returns false if it did not exist. */
    public synchronized boolean deleteMessage(String id) {
        Msg m = find(id);
        if (m == null) {
            return false;
        }
        byImmutable.remove(m.immutableId);
        byRest.remove(m.restId);
        return true;
    }

    public synchronized void setCategories(String id, List<String> categories) {
        Msg m = require(id);
        m.categories = List.copyOf(categories);
        touch(m);
    }

    public synchronized void setRead(String id, boolean read) {
        Msg m = require(id);
        m.isRead = read;
        touch(m);
    }

    @Override
    public String toString() {
        return "FakeMailbox[" + address + "]";
    }

    // ================================================================== package API for the HTTP handlers
    // (callers hold the mailbox lock)

    Folder root() {
        return root;
    }

    /** Graph semantics: id or well-known name; 404 for an unknown but id-shaped value, else 400 malformed. */
    Folder apiFolder(String idOrWellKnown) {
        Folder f = folders.get(idOrWellKnown);
        if (f != null) {
            return f;
        }
        String lower = idOrWellKnown.toLowerCase(Locale.ROOT);
        if (WELL_KNOWN_NAMES.contains(lower)) {
            Folder w = wellKnown.get(lower);
            if (w != null) {
                return w;
            }
            throw GraphError.itemNotFound();
        }
        if (FakeHttp.looksLikeId(idOrWellKnown)) {
            throw GraphError.itemNotFound();
        }
        throw GraphError.malformedId();
    }

    Msg apiMessage(String id) {
        Msg m = find(id);
        if (m != null) {
            return m;
        }
        if (FakeHttp.looksLikeId(id)) {
            throw GraphError.itemNotFound();
        }
        throw GraphError.malformedId();
    }

    Folder apiCreateFolder(Folder parent, String displayName, boolean hidden) {
        if (child(parent, displayName) != null) {
            throw new GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.");
        }
        return newFolder(parent, displayName, hidden, null);
    }

    /** Messages directly in the folder, or in the whole mailbox when folder is null (unsorted). */
    List<Msg> messages(Folder folder) {
        List<Msg> result = new ArrayList<>();
        for (Msg m : byImmutable.values()) {
            if (folder == null || m.folder == folder) {
                result.add(m);
            }
        }
        return result;
    }

    int totalItemCount(Folder folder) {
        int n = 0;
        for (Msg m : byImmutable.values()) {
            if (m.folder == folder) {
                n++;
            }
        }
        return n;
    }

    int unreadItemCount(Folder folder) {
        int n = 0;
        for (Msg m : byImmutable.values()) {
            if (m.folder == folder && !m.isRead) {
                n++;
            }
        }
        return n;
    }

    void move(Msg m, Folder destination) {
        byRest.remove(m.restId);
        m.restId = ids.restMessageId();
        byRest.put(m.restId, m);
        m.folder = destination;
        touch(m);
    }

    void touch(Msg m) {
        m.changeKey = ids.changeKey();
        m.lastModified = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    String path(Folder f) {
        if (f == root) {
            return "";
        }
        StringBuilder sb = new StringBuilder(f.displayName);
        for (Folder p = f.parent; p != null && p != root; p = p.parent) {
            sb.insert(0, p.displayName + "/");
        }
        return sb.toString();
    }

    // ================================================================== internals

    private Folder newFolder(Folder parent, String displayName, boolean hidden, String wellKnownName) {
        if (displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("displayName must not be blank");
        }
        Folder f = new Folder(ids.folderId(), displayName, parent, parent.id, hidden, wellKnownName);
        parent.children.add(f);
        folders.put(f.id, f);
        return f;
    }

    private static Folder child(Folder parent, String displayName) {
        for (Folder c : parent.children) {
            if (c.displayName.equalsIgnoreCase(displayName)) {
                return c;
            }
        }
        return null;
    }

    private Folder resolve(String spec) {
        Objects.requireNonNull(spec, "folder");
        Folder byId = folders.get(spec);
        if (byId != null) {
            return byId;
        }
        String[] parts = spec.split("/");
        Folder current = wellKnown.get(parts[0].toLowerCase(Locale.ROOT));
        if (current == null) {
            current = child(root, parts[0]);
        }
        for (int i = 1; current != null && i < parts.length; i++) {
            current = child(current, parts[i]);
        }
        if (current == null) {
            throw new IllegalArgumentException("no folder '" + spec + "' in mailbox " + address);
        }
        return current;
    }

    private String add(Folder folder, MimeSummary summary, byte[] content, Path file, long size, Instant received) {
        Objects.requireNonNull(received, "received");
        Msg m = new Msg(ids.immutableMessageId(), ++sequence, received.truncatedTo(ChronoUnit.SECONDS), summary,
                content, file, size);
        m.restId = ids.restMessageId();
        m.folder = folder;
        m.changeKey = ids.changeKey();
        m.lastModified = m.received;
        byImmutable.put(m.immutableId, m);
        byRest.put(m.restId, m);
        return m.immutableId;
    }

    private Msg find(String id) {
        if (id == null) {
            return null;
        }
        Msg m = byRest.get(id);
        return m != null ? m : byImmutable.get(id);
    }

    private Msg require(String id) {
        Msg m = find(id);
        if (m == null) {
            throw new NoSuchElementException("no message " + id + " in mailbox " + address);
        }
        return m;
    }

    static List<Msg> sorted(List<Msg> list, Comparator<Msg> order) {
        list.sort(order);
        return list;
    }

    private FakeFolder snapshot(Folder f) {
        return new FakeFolder(f.id, f.displayName, path(f), f.parentId, f.wellKnownName, f.hidden,
                f.children.size(), totalItemCount(f));
    }

    private FakeMessage snapshot(Msg m) {
        return new FakeMessage(m.immutableId, m.restId, m.folder.id, path(m.folder), m.summary.messageId(),
                m.summary.subject(), m.received, m.categories, m.isRead, m.summary.hasAttachments(), m.size,
                m.file != null);
    }
}

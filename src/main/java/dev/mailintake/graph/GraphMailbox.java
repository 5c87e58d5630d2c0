package dev.mailintake.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mailintake.config.MailboxConfig;
import dev.mailintake.intake.LimitedCopy;
import dev.mailintake.intake.MailboxGateway;
import dev.mailintake.intake.MessageRef;
import dev.mailintake.intake.PagedCursor;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A mailbox read over Microsoft Graph: list the Inbox oldest first, stream {@code $value}, categorize and move. */
public final class GraphMailbox implements MailboxGateway {
    private static final Logger LOG = LoggerFactory.getLogger(GraphMailbox.class);
    public static final String CATEGORY_PREFIX = "Mail Intake: ";

    private final MailboxConfig config;
    private final GraphClient client;
    private final String userUrl;
    private volatile ResolvedFolders folders;

    public GraphMailbox(MailboxConfig config, String graphBaseUrl, GraphClient client) {
        this.config = config;
        this.client = client;
        this.userUrl = GraphUrls.user(graphBaseUrl, config.address());
    }

    /** The gate that admits this mailbox's Graph requests. */
    public RequestGate requestGate() {
        return client.gate();
    }

    @Override
    public void prepare() {
        if (folders != null) {
            return;
        }
        String prefix = "mailintake.mailboxes." + config.name() + ".folders.";
        GraphFolders resolver = new GraphFolders(client, userUrl, config.name());
        String inbox = resolver.resolve(config.folders().inbox(), prefix + "inbox", false);
        String processed = resolver.resolve(config.folders().processed(), prefix + "processed", config.createFolders());
        String error = resolver.resolve(config.folders().error(), prefix + "error", config.createFolders());
        folders = new ResolvedFolders(inbox, processed, error);
        LOG.info("mailbox '{}' ({}): folders resolved: inbox={}, processed={}, error={}", config.name(),
                config.address(), config.folders().inbox(), config.folders().processed(), config.folders().error());
    }

    @Override
    public String check() {
        prepare();
        JsonNode inbox = client.get(userUrl + "/mailFolders/" + GraphUrls.segment(folders.inbox())
                + "?$select=totalItemCount");
        return "Inbox holds " + inbox.path("totalItemCount").asLong() + " messages; folders resolved (Graph)";
    }

    @Override
    public Iterator<MessageRef> listNew(int max) {
        return new InboxCursor(max);
    }

    /**
     * Pages through the Inbox oldest first while the messages already listed are being imported. Graph's
     * {@code @odata.nextLink} pages by {@code $skip}, which shifts under our own moves (messages would be skipped
     * until the next poll); so each next page is asked for by key instead: {@code receivedDateTime ge <the last one
     * seen>}, dropping ids already listed in this poll. Only when a whole page shares one timestamp does it follow
     * the page's nextLink.
     */
    private final class InboxCursor extends PagedCursor {
        private final int max;
        private final int top;
        private final Set<String> listed = new HashSet<>();
        private Instant lowerBound;
        private String nextLink;
        private boolean exhausted;

        InboxCursor(int max) {
            this.max = max;
            this.top = Math.min(config.pageSize(), max);
        }

        @Override
        protected boolean exhausted() {
            return exhausted || listed.size() >= max;
        }

        @Override
        protected void fetchPage() {
            String url = nextLink != null ? nextLink : userUrl + "/mailFolders/" + GraphUrls.segment(folders.inbox())
                    + "/messages?$select=id,internetMessageId,receivedDateTime,categories,hasAttachments"
                    + (lowerBound == null ? "" : "&$filter=receivedDateTime%20ge%20" + lowerBound)
                    + "&$orderby=receivedDateTime%20asc&$top=" + top;
            JsonNode page = client.get(url);
            int items = 0;
            int fresh = 0;
            Instant last = null;
            for (JsonNode m : page.path("value")) {
                items++;
                MessageRef ref = ref(m);
                last = ref.receivedAt();
                if (listed.size() < max && listed.add(ref.key())) {
                    add(ref);
                    fresh++;
                }
            }
            String link = page.hasNonNull("@odata.nextLink") ? page.get("@odata.nextLink").asText() : null;
            if (items == 0 || link == null && items < top) {
                exhausted = true;
            } else if (fresh == 0 || last.equals(lowerBound)) {
                // a page of one timestamp (or nothing new): step through it by nextLink
                nextLink = link;
                exhausted = link == null;
            } else {
                lowerBound = last;
                nextLink = null;
            }
        }
    }

    private MessageRef ref(JsonNode m) {
        List<String> categories = new ArrayList<>();
        m.path("categories").forEach(c -> categories.add(c.asText()));
        String imid = m.hasNonNull("internetMessageId") ? m.get("internetMessageId").asText() : null;
        Instant received = m.hasNonNull("receivedDateTime")
                ? Instant.parse(m.get("receivedDateTime").asText()) : Instant.EPOCH;
        MessageRef.Attachments attachments = !m.path("hasAttachments").isBoolean() ? MessageRef.Attachments.UNKNOWN
                : m.get("hasAttachments").asBoolean() ? MessageRef.Attachments.SOME : MessageRef.Attachments.NONE;
        return new MessageRef(config.name(), m.path("id").asText(), imid, received, List.copyOf(categories),
                MessageRef.UNKNOWN_SIZE, attachments);
    }

    @Override
    public String fetch(MessageRef ref, Path file, long maxBytes) {
        return client.download(messageUrl(ref) + "/$value", body -> LimitedCopy.toFile(body, file, maxBytes));
    }

    @Override
    public void moveToProcessed(MessageRef ref) {
        move(ref, folders.processed(), "Processed");
    }

    @Override
    public void moveToError(MessageRef ref, String reason) {
        Set<String> categories = new LinkedHashSet<>(ref.categories());
        if (categories.add(CATEGORY_PREFIX + reason)) {
            try {
                client.sendIgnoringAnswer("PATCH", messageUrl(ref), Map.of("categories", List.copyOf(categories)));
            } catch (GraphException e) {
                if (e.status() != 404) {
                    throw e;
                }
            }
        }
        move(ref, folders.error(), "Error");
    }

    private void move(MessageRef ref, String folderId, String what) {
        try {
            client.sendIgnoringAnswer("POST", messageUrl(ref) + "/move", Map.of("destinationId", folderId));
        } catch (GraphException e) {
            if (e.status() == 404 && "ErrorItemNotFound".equals(e.code())) {
                LOG.warn("mailbox '{}': message {} is no longer in the mailbox; nothing to move to {}", config.name(),
                        ref.shortKey(), what);
                return;
            }
            throw e;
        }
    }

    private String messageUrl(MessageRef ref) {
        return userUrl + "/messages/" + GraphUrls.segment(ref.key());
    }

    private record ResolvedFolders(String inbox, String processed, String error) {
    }
}

package dev.mailintake.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mailintake.config.MailboxConfig;
import dev.mailintake.intake.LimitedCopy;
import dev.mailintake.intake.MailboxGateway;
import dev.mailintake.intake.MessageRef;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
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
    public List<MessageRef> listNew(int max) {
        List<MessageRef> out = new ArrayList<>();
        String next = userUrl + "/mailFolders/" + GraphUrls.segment(folders.inbox()) + "/messages"
                + "?$select=id,internetMessageId,receivedDateTime,categories"
                + "&$orderby=receivedDateTime%20asc&$top=" + Math.min(config.pageSize(), max);
        // the whole list is taken before any message is moved: nextLink pages by $skip, and moving messages out of
        // the folder while paging would skip some of them
        while (next != null && out.size() < max) {
            JsonNode page = client.get(next);
            for (JsonNode m : page.path("value")) {
                if (out.size() >= max) {
                    break;
                }
                List<String> categories = new ArrayList<>();
                m.path("categories").forEach(c -> categories.add(c.asText()));
                String imid = m.hasNonNull("internetMessageId") ? m.get("internetMessageId").asText() : null;
                Instant received = m.hasNonNull("receivedDateTime")
                        ? Instant.parse(m.get("receivedDateTime").asText()) : Instant.EPOCH;
                out.add(new MessageRef(config.name(), m.path("id").asText(), imid, received, List.copyOf(categories)));
            }
            next = page.hasNonNull("@odata.nextLink") ? page.get("@odata.nextLink").asText() : null;
        }
        return out;
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
                client.send("PATCH", messageUrl(ref), Map.of("categories", List.copyOf(categories)));
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
            client.send("POST", messageUrl(ref) + "/move", Map.of("destinationId", folderId));
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

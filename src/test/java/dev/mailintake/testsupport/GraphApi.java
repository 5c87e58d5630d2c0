package dev.mailintake.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mailintake.testsupport.FakeMailbox.Folder;
import dev.mailintake.testsupport.FakeMailbox.Msg;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Routing and rendering of the Graph mail endpoints. */
final class GraphApi {

    private static final List<String> MESSAGE_PROPERTIES = List.of("bccRecipients", "body", "bodyPreview",
            "categories", "ccRecipients", "changeKey", "conversationId", "conversationIndex", "createdDateTime",
            "flag", "from", "hasAttachments", "id", "importance", "inferenceClassification", "internetMessageHeaders",
            "internetMessageId", "isDeliveryReceiptRequested", "isDraft", "isRead", "isReadReceiptRequested",
            "lastModifiedDateTime", "parentFolderId", "receivedDateTime", "replyTo", "sender", "sentDateTime",
            "subject", "toRecipients", "uniqueBody", "webLink", "attachments", "extensions",
            "multiValueExtendedProperties", "singleValueExtendedProperties");
    private static final List<String> FOLDER_PROPERTIES = List.of("id", "displayName", "parentFolderId",
            "childFolderCount", "totalItemCount", "unreadItemCount", "isHidden", "childFolders", "messages",
            "messageRules", "multiValueExtendedProperties", "singleValueExtendedProperties");

    private static final Pattern CLAUSE = Pattern.compile(
            "\\s*([A-Za-z/]+)\\s+(eq|ne|gt|ge|lt|le)\\s+('(?:[^']|'')*'|[^\\s()]+)\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern AND = Pattern.compile("(?i)and\\b");

    private final GraphFake fake;
    private final ObjectMapper json;
    private final TokenEndpoint tokens;

    GraphApi(GraphFake fake, ObjectMapper json, TokenEndpoint tokens) {
        this.fake = fake;
        this.json = json;
        this.tokens = tokens;
    }

    // ================================================================== entry

    void handle(FakeExchange x) throws IOException {
        List<String> s = x.segments;
        TokenEndpoint.Caller caller = authenticate(x);
        if (x.malformedQuery) {
            throw GraphError.badRequest("Malformed percent-encoding in the query string.");
        }
        if (fake.applyFault(x, Fault.Target.GRAPH, x.entry.path, x.entry.mailbox)) {
            return;
        }
        if (s.isEmpty() || !s.get(0).equals("v1.0")) {
            throw GraphError.badRequest("Invalid version: " + (s.isEmpty() ? "" : s.get(0)));
        }
        route(x, s.subList(1, s.size()), caller);
    }

    private TokenEndpoint.Caller authenticate(FakeExchange x) {
        String auth = x.header("Authorization");
        String message;
        if (auth == null || auth.isBlank()) {
            message = "Access token is empty.";
        } else if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            message = "Access token validation failure.";
        } else {
            String token = auth.substring(7).trim();
            switch (tokens.validate(token)) {
                case VALID:
                    return tokens.caller(token);
                case EXPIRED:
                    message = "Access token has expired or is not yet valid.";
                    break;
                case WRONG_AUDIENCE:
                    message = "Access token validation failure. Invalid audience.";
                    break;
                default:
                    message = "CompactToken parsing failed with error code: 80049217";
            }
        }
        throw unauthorized(message);
    }

    GraphError unauthorized(String message) {
        return new GraphError(401, "InvalidAuthenticationToken", message).header("WWW-Authenticate",
                "Bearer realm=\"\", authorization_uri=\"" + fake.authorityHost() + "/common/oauth2/authorize\", "
                        + "client_id=\"00000003-0000-0000-c000-000000000000\"");
    }

    private void route(FakeExchange x, List<String> s, TokenEndpoint.Caller caller) throws IOException {
        if (s.isEmpty()) {
            throw GraphError.badRequest("Invalid request.");
        }
        String head = s.get(0);
        FakeMailbox mb;
        List<String> r;
        if (head.equalsIgnoreCase("me")) {
            if (!caller.delegated()) {
                throw GraphError.badRequest("/me request is only valid with delegated authentication flow.");
            }
            mb = fake.existingMailbox(caller.upn());
            if (mb == null) {
                throw GraphError.invalidUser(caller.upn());
            }
            r = s.subList(1, s.size());
        } else {
            if (!head.equalsIgnoreCase("users") || s.size() < 2) {
                throw GraphError.badRequest("Resource not found for the segment '" + head + "'.");
            }
            mb = fake.existingMailbox(s.get(1));
            if (mb == null) {
                throw GraphError.invalidUser(s.get(1));
            }
            r = s.subList(2, s.size());
        }
        if (caller.delegated()) {
            checkDelegatedAccess(x, caller, mb, r);
        }
        if (r.isEmpty()) {
            requireMethod(x, "GET");
            ObjectNode user = json.createObjectNode();
            user.put("@odata.context", fake.graphBaseUrl() + "/$metadata#users/$entity");
            user.put("id", mb.userId());
            user.put("displayName", mb.address().replaceAll("@.*$", ""));
            user.put("mail", mb.address());
            user.put("userPrincipalName", mb.address());
            sendJson(x, 200, user);
        } else if (r.get(0).equalsIgnoreCase("mailFolders")) {
            folders(x, mb, r);
        } else if (r.get(0).equalsIgnoreCase("messages")) {
            messages(x, mb, null, r.subList(1, r.size()));
        } else {
            throw GraphError.badRequest("Resource not found for the segment '" + r.get(0) + "'.");
        }
    }

    /**
     * Delegated tokens: the mailbox must be the user's own or granted to the user
     * ({@link GraphFake#grantMailboxAccess}); mail requests also need a Mail permission, {@code .Shared} for another
     * user's mailbox, {@code ReadWrite} for anything but GET. Otherwise 403 {@code ErrorAccessDenied}.
     */
    private void checkDelegatedAccess(FakeExchange x, TokenEndpoint.Caller caller, FakeMailbox mb, List<String> r) {
        boolean own = caller.upn().equalsIgnoreCase(mb.address());
        if (!own && !fake.delegatedAccess().mayOpen(caller.upn(), mb.address())) {
            throw accessDenied();
        }
        if (r.isEmpty()) {
            return;                                       // the user object itself
        }
        boolean write = !x.method.equals("GET") && !x.method.equals("HEAD");
        boolean allowed;
        if (own) {
            allowed = write ? caller.has("Mail.ReadWrite") || caller.has("Mail.ReadWrite.Shared")
                    : caller.has("Mail.Read") || caller.has("Mail.ReadWrite") || caller.has("Mail.ReadBasic")
                    || caller.has("Mail.Read.Shared") || caller.has("Mail.ReadWrite.Shared");
        } else {
            allowed = write ? caller.has("Mail.ReadWrite.Shared")
                    : caller.has("Mail.Read.Shared") || caller.has("Mail.ReadWrite.Shared");
        }
        if (!allowed) {
            throw accessDenied();
        }
    }

    private static GraphError accessDenied() {
        return new GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
    }

    // ================================================================== folders

    private void folders(FakeExchange x, FakeMailbox mb, List<String> r) throws IOException {
        if (r.size() == 1) {
            folderCollection(x, mb, mb.root(), true);
            return;
        }
        Folder folder;
        int i = 2;
        synchronized (mb) {
            folder = mb.apiFolder(r.get(1));
            while (i + 1 < r.size() && r.get(i).equalsIgnoreCase("childFolders")) {
                folder = mb.apiFolder(r.get(i + 1));
                i += 2;
            }
        }
        if (i == r.size()) {
            requireMethod(x, "GET");
            Set<String> select = select(x, FOLDER_PROPERTIES, "mailFolder");
            ObjectNode node;
            synchronized (mb) {
                node = json.createObjectNode();
                node.put("@odata.context", context(mb, "mailFolders") + "/$entity");
                node.setAll(folderJson(mb, folder, select));
            }
            sendJson(x, 200, node);
        } else if (r.get(i).equalsIgnoreCase("childFolders") && i + 1 == r.size()) {
            folderCollection(x, mb, folder, false);
        } else if (r.get(i).equalsIgnoreCase("messages")) {
            messages(x, mb, folder, r.subList(i + 1, r.size()));
        } else {
            throw GraphError.badRequest("Resource not found for the segment '" + r.get(i) + "'.");
        }
    }

    /** GET (list) or POST (create) on {@code /mailFolders} (parent = root) or {@code .../childFolders}. */
    private void folderCollection(FakeExchange x, FakeMailbox mb, Folder parent, boolean topLevel) throws IOException {
        String contextPath = topLevel ? "mailFolders" : "mailFolders('" + parent.id + "')/childFolders";
        if (x.method.equals("POST")) {
            JsonNode body = readBody(x);
            JsonNode name = body.get("displayName");
            if (name == null || !name.isTextual() || name.asText().isBlank()) {
                throw new GraphError(400, "ErrorInvalidRequest", "The displayName property is required.");
            }
            boolean hidden = body.path("isHidden").asBoolean(false);
            ObjectNode node = json.createObjectNode();
            synchronized (mb) {
                Folder created = mb.apiCreateFolder(parent, name.asText(), hidden);
                node.put("@odata.context", context(mb, contextPath) + "/$entity");
                node.setAll(folderJson(mb, created, null));
            }
            sendJson(x, 201, node);
            return;
        }
        requireMethod(x, "GET");
        int top = intOption(x, "top", 10, 1, 1000);
        int skip = intOption(x, "skip", 0, 0, Integer.MAX_VALUE);
        Set<String> select = select(x, FOLDER_PROPERTIES, "mailFolder");
        boolean includeHidden = "true".equalsIgnoreCase(x.option("includeHiddenFolders"));
        rejectUnsupportedOptions(x, "filter", "orderby");
        ObjectNode page = json.createObjectNode();
        synchronized (mb) {
            List<Folder> all = new ArrayList<>();
            for (Folder c : parent.children) {
                if (includeHidden || !c.hidden) {
                    all.add(c);
                }
            }
            page.put("@odata.context", context(mb, contextPath));
            fillPage(x, page, all, skip, top, f -> folderJson(mb, f, select));
        }
        sendJson(x, 200, page);
    }

    private ObjectNode folderJson(FakeMailbox mb, Folder f, Set<String> select) {
        ObjectNode n = json.createObjectNode();
        n.put("id", f.id);
        if (want(select, "displayName")) {
            n.put("displayName", f.displayName);
        }
        if (want(select, "parentFolderId")) {
            n.put("parentFolderId", f.parentId);
        }
        if (want(select, "childFolderCount")) {
            n.put("childFolderCount", f.children.size());
        }
        if (want(select, "unreadItemCount")) {
            n.put("unreadItemCount", mb.unreadItemCount(f));
        }
        if (want(select, "totalItemCount")) {
            n.put("totalItemCount", mb.totalItemCount(f));
        }
        if (want(select, "isHidden")) {
            n.put("isHidden", f.hidden);
        }
        return n;
    }

    // ================================================================== messages

    private void messages(FakeExchange x, FakeMailbox mb, Folder folder, List<String> r) throws IOException {
        if (r.isEmpty()) {
            requireMethod(x, "GET");
            listMessages(x, mb, folder);
            return;
        }
        String id = r.get(0);
        if (r.size() == 1) {
            if (x.method.equals("GET")) {
                Set<String> select = select(x, MESSAGE_PROPERTIES, "message");
                ObjectNode node = json.createObjectNode();
                synchronized (mb) {
                    Msg m = mb.apiMessage(id);
                    node.put("@odata.context", context(mb, "messages") + "/$entity");
                    node.setAll(messageJson(mb, m, select, x.immutableIds));
                }
                sendJson(x, 200, node);
            } else if (x.method.equals("PATCH")) {
                patch(x, mb, id);
            } else {
                throw methodNotAllowed(x);
            }
        } else if (r.size() == 2 && r.get(1).equals("$value")) {
            requireMethod(x, "GET");
            FakeExchange.Body body;
            synchronized (mb) {
                Msg m = mb.apiMessage(id);
                body = m.content != null ? FakeExchange.Body.of(m.content) : FakeExchange.Body.of(m.file, m.size);
            }
            x.respond(200, "text/plain", headers(x), body);
        } else if (r.size() == 2 && r.get(1).equalsIgnoreCase("move")) {
            requireMethod(x, "POST");
            move(x, mb, id);
        } else {
            throw GraphError.badRequest("Resource not found for the segment '" + r.get(r.size() - 1) + "'.");
        }
    }

    private void listMessages(FakeExchange x, FakeMailbox mb, Folder folder) throws IOException {
        int top = intOption(x, "top", 10, 1, 1000);
        int skip = intOption(x, "skip", 0, 0, Integer.MAX_VALUE);
        Set<String> select = select(x, MESSAGE_PROPERTIES, "message");
        List<String> orderProperties = new ArrayList<>();
        Comparator<Msg> order = orderBy(x.option("orderby"), orderProperties);
        Predicate<Msg> filter = filter(x.option("filter"), orderProperties);
        rejectUnsupportedOptions(x, "search", "expand");
        ObjectNode page = json.createObjectNode();
        synchronized (mb) {
            List<Msg> all = new ArrayList<>();
            for (Msg m : mb.messages(folder)) {
                if (filter.test(m)) {
                    all.add(m);
                }
            }
            all.sort(order);
            String contextPath = folder == null ? "messages" : "mailFolders('" + folder.id + "')/messages";
            page.put("@odata.context", context(mb, contextPath)
                    + (select == null ? "" : "(" + String.join(",", select) + ")"));
            fillPage(x, page, all, skip, top, m -> messageJson(mb, m, select, x.immutableIds));
        }
        sendJson(x, 200, page);
    }

    private void move(FakeExchange x, FakeMailbox mb, String id) throws IOException {
        JsonNode body = readBody(x);
        JsonNode destination = body.get("destinationId");
        if (destination == null || !destination.isTextual() || destination.asText().isEmpty()) {
            throw new GraphError(400, "ErrorInvalidRequest", "The destinationId parameter is required.");
        }
        ObjectNode node = json.createObjectNode();
        synchronized (mb) {
            Msg m = mb.apiMessage(id);
            Folder target = mb.apiFolder(destination.asText());
            mb.move(m, target);
            node.put("@odata.context", context(mb, "messages") + "/$entity");
            node.setAll(messageJson(mb, m, null, x.immutableIds));
        }
        sendJson(x, 201, node);
    }

    private void patch(FakeExchange x, FakeMailbox mb, String id) throws IOException {
        JsonNode body = readBody(x);
        List<String> categories = null;
        if (body.has("categories")) {
            JsonNode c = body.get("categories");
            if (!c.isArray()) {
                throw new GraphError(400, "RequestBodyRead", "Cannot convert the literal to the expected type "
                        + "'Collection(Edm.String)'.");
            }
            categories = new ArrayList<>();
            for (JsonNode v : c) {
                if (!v.isTextual()) {
                    throw new GraphError(400, "RequestBodyRead", "Cannot convert the literal '" + v
                            + "' to the expected type 'Edm.String'.");
                }
                categories.add(v.asText());
            }
        }
        Boolean read = null;
        if (body.has("isRead")) {
            if (!body.get("isRead").isBoolean()) {
                throw new GraphError(400, "RequestBodyRead", "Cannot convert the literal to 'Edm.Boolean'.");
            }
            read = body.get("isRead").asBoolean();
        }
        ObjectNode node = json.createObjectNode();
        synchronized (mb) {
            Msg m = mb.apiMessage(id);
            if (categories != null) {
                m.categories = List.copyOf(categories);
            }
            if (read != null) {
                m.isRead = read;
            }
            mb.touch(m);
            node.put("@odata.context", context(mb, "messages") + "/$entity");
            node.setAll(messageJson(mb, m, null, x.immutableIds));
        }
        sendJson(x, 200, node);
    }

    private ObjectNode messageJson(FakeMailbox mb, Msg m, Set<String> select, boolean immutable) {
        ObjectNode n = json.createObjectNode();
        n.put("@odata.etag", "W/\"" + m.changeKey + "\"");
        n.put("id", immutable ? m.immutableId : m.restId);
        if (want(select, "createdDateTime")) {
            n.put("createdDateTime", FakeHttp.graphDate(m.created));
        }
        if (want(select, "lastModifiedDateTime")) {
            n.put("lastModifiedDateTime", FakeHttp.graphDate(m.lastModified));
        }
        if (want(select, "changeKey")) {
            n.put("changeKey", m.changeKey);
        }
        if (want(select, "categories")) {
            ArrayNode a = n.putArray("categories");
            m.categories.forEach(a::add);
        }
        if (want(select, "receivedDateTime")) {
            n.put("receivedDateTime", FakeHttp.graphDate(m.received));
        }
        if (want(select, "sentDateTime")) {
            n.put("sentDateTime", FakeHttp.graphDate(m.summary.sentDateTime() != null ? m.summary.sentDateTime()
                    : m.received));
        }
        if (want(select, "hasAttachments")) {
            n.put("hasAttachments", m.summary.hasAttachments());
        }
        if (want(select, "internetMessageId")) {
            n.put("internetMessageId", m.summary.messageId());
        }
        if (want(select, "subject")) {
            n.put("subject", m.summary.subject());
        }
        if (want(select, "importance")) {
            n.put("importance", "normal");
        }
        if (want(select, "parentFolderId")) {
            n.put("parentFolderId", m.folder.id);
        }
        if (want(select, "isDeliveryReceiptRequested")) {
            n.put("isDeliveryReceiptRequested", false);
        }
        if (want(select, "isReadReceiptRequested")) {
            n.put("isReadReceiptRequested", false);
        }
        if (want(select, "isRead")) {
            n.put("isRead", m.isRead);
        }
        if (want(select, "isDraft")) {
            n.put("isDraft", false);
        }
        if (want(select, "inferenceClassification")) {
            n.put("inferenceClassification", "focused");
        }
        for (String p : List.of("sender", "from")) {
            if (want(select, p)) {
                if (m.summary.fromAddress() == null) {
                    n.putNull(p);
                } else {
                    ObjectNode address = n.putObject(p).putObject("emailAddress");
                    address.put("name", m.summary.fromName() != null ? m.summary.fromName()
                            : m.summary.fromAddress());
                    address.put("address", m.summary.fromAddress());
                }
            }
        }
        return n;
    }

    // ================================================================== query options

    private <T> void fillPage(FakeExchange x, ObjectNode page, List<T> all, int skip, int top,
                              Function<T, ObjectNode> render) {
        ArrayNode value = page.putArray("value");
        int end = (int) Math.min((long) skip + top, all.size());
        for (int i = skip; i < end; i++) {
            value.add(render.apply(all.get(i)));
        }
        if (end < all.size()) {
            page.put("@odata.nextLink", nextLink(x, end));
        }
    }

    /** The full URL Graph would hand out: original query re-encoded ({@code $} → {@code %24}) plus {@code $skip}. */
    private String nextLink(FakeExchange x, int nextSkip) {
        StringBuilder q = new StringBuilder();
        for (Map.Entry<String, String> e : x.query) {
            if (FakeHttp.normalizeOption(e.getKey()).equals("skip")) {
                continue;
            }
            q.append(FakeHttp.encode(e.getKey())).append('=').append(FakeHttp.encode(e.getValue())).append('&');
        }
        q.append("%24skip=").append(nextSkip);
        return fake.graphOrigin() + x.rawPath + "?" + q;
    }

    private static int intOption(FakeExchange x, String name, int dflt, int min, int max) {
        String v = x.option(name);
        if (v == null) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw GraphError.badRequest("Invalid $" + name + " value '" + v + "'.");
        }
        if (n < min || n > max) {
            throw GraphError.badRequest("The value of $" + name + " must be between " + min + " and " + max
                    + " (GraphFake limit).");
        }
        return n;
    }

    /** Canonical property names requested by $select (with id), or null for "all". */
    private static Set<String> select(FakeExchange x, List<String> known, String type) {
        String v = x.option("select");
        if (v == null || v.isBlank()) {
            return null;
        }
        Set<String> result = new LinkedHashSet<>();
        result.add("id");
        for (String raw : v.split(",")) {
            String p = raw.trim();
            if (p.isEmpty()) {
                continue;
            }
            result.add(canonical(p, known, type));
        }
        return result;
    }

    private static String canonical(String property, List<String> known, String type) {
        for (String k : known) {
            if (k.equalsIgnoreCase(property)) {
                return k;
            }
        }
        throw GraphError.unknownProperty(property, type);
    }

    private static boolean want(Set<String> select, String property) {
        return select == null || select.contains(property);
    }

    private static void rejectUnsupportedOptions(FakeExchange x, String... options) {
        for (String o : options) {
            if (x.option(o) != null) {
                throw GraphError.badRequest("GraphFake does not support $" + o + " here.");
            }
        }
    }

    private static Comparator<Msg> orderBy(String value, List<String> properties) {
        if (value == null || value.isBlank()) {
            return FakeMailbox.RECEIVED_ASC.reversed();         // Graph default: receivedDateTime desc
        }
        Comparator<Msg> result = null;
        boolean lastDescending = false;
        for (String part : value.split(",")) {
            String[] words = part.trim().split("\\s+");
            if (words.length == 0 || words[0].isEmpty() || words.length > 2) {
                throw GraphError.badRequest("Invalid $orderby '" + value + "'.");
            }
            String property = canonical(words[0], MESSAGE_PROPERTIES, "message");
            boolean descending = words.length == 2 && words[1].equalsIgnoreCase("desc");
            if (words.length == 2 && !descending && !words[1].equalsIgnoreCase("asc")) {
                throw GraphError.badRequest("Invalid $orderby direction '" + words[1] + "'.");
            }
            Comparator<Msg> c = comparator(property);
            if (descending) {
                c = c.reversed();
            }
            result = result == null ? c : result.thenComparing(c);
            properties.add(property);
            lastDescending = descending;
        }
        Comparator<Msg> tie = Comparator.comparingLong(m -> m.seq);
        return result.thenComparing(lastDescending ? tie.reversed() : tie);
    }

    private static Comparator<Msg> comparator(String property) {
        switch (property) {
            case "receivedDateTime":
                return Comparator.comparing(m -> m.received);
            case "createdDateTime":
                return Comparator.comparing(m -> m.created);
            case "lastModifiedDateTime":
                return Comparator.comparing(m -> m.lastModified);
            case "sentDateTime":
                return Comparator.comparing(m -> m.summary.sentDateTime() != null ? m.summary.sentDateTime()
                        : m.received);
            case "subject":
                return Comparator.comparing(m -> m.summary.subject() == null ? "" : m.summary.subject(),
                        String.CASE_INSENSITIVE_ORDER);
            default:
                throw GraphError.badRequest("GraphFake does not support $orderby=" + property + ".");
        }
    }

    /**
     * Supports {@code prop op literal [and ...]} for date, string and boolean properties, and Graph's rule that
     * every $orderby property must come first in $filter, in the same order (else {@code InefficientFilter}).
     */
    private static Predicate<Msg> filter(String value, List<String> orderProperties) {
        if (value == null || value.isBlank()) {
            return m -> true;
        }
        List<Predicate<Msg>> clauses = new ArrayList<>();
        List<String> filterProperties = new ArrayList<>();
        int pos = 0;
        while (true) {
            Matcher m = CLAUSE.matcher(value).region(pos, value.length());
            if (!m.lookingAt()) {
                throw GraphError.badRequest("GraphFake does not support the $filter '" + value + "'.");
            }
            String property = canonical(m.group(1), MESSAGE_PROPERTIES, "message");
            if (!filterProperties.contains(property)) {
                filterProperties.add(property);
            }
            clauses.add(clause(property, m.group(2).toLowerCase(Locale.ROOT), literal(m.group(3))));
            pos = m.end();
            if (pos >= value.length()) {
                break;
            }
            Matcher and = AND.matcher(value).region(pos, value.length());
            if (!and.lookingAt()) {
                throw GraphError.badRequest("GraphFake does not support the $filter '" + value + "'.");
            }
            pos = and.end();
        }
        for (int i = 0; i < orderProperties.size(); i++) {
            if (i >= filterProperties.size() || !filterProperties.get(i).equals(orderProperties.get(i))) {
                throw new GraphError(400, "InefficientFilter",
                        "The restriction or sort order is too complex for this operation.");
            }
        }
        return m -> clauses.stream().allMatch(c -> c.test(m));
    }

    private static Object literal(String token) {
        if (token.startsWith("'")) {
            if (token.length() < 2 || !token.endsWith("'")) {
                throw GraphError.badRequest("Unterminated string literal in $filter.");
            }
            return token.substring(1, token.length() - 1).replace("''", "'");
        }
        if (token.equalsIgnoreCase("true") || token.equalsIgnoreCase("false")) {
            return Boolean.valueOf(token);
        }
        if (token.equalsIgnoreCase("null")) {
            return null;
        }
        try {
            return OffsetDateTime.parse(token).toInstant();
        } catch (DateTimeParseException e) {
            throw GraphError.badRequest("Invalid literal '" + token + "' in $filter.");
        }
    }

    private static Predicate<Msg> clause(String property, String op, Object literal) {
        Function<Msg, Object> getter;
        switch (property) {
            case "receivedDateTime": getter = m -> m.received; break;
            case "createdDateTime": getter = m -> m.created; break;
            case "lastModifiedDateTime": getter = m -> m.lastModified; break;
            case "sentDateTime": getter = m -> m.summary.sentDateTime(); break;
            case "internetMessageId": getter = m -> m.summary.messageId(); break;
            case "subject": getter = m -> m.summary.subject(); break;
            case "isRead": getter = m -> m.isRead; break;
            case "hasAttachments": getter = m -> m.summary.hasAttachments(); break;
            default:
                throw GraphError.badRequest("GraphFake does not support $filter on " + property + ".");
        }
        return m -> {
            Object v = getter.apply(m);
            if (op.equals("eq") || op.equals("ne")) {
                boolean equal = v == null ? literal == null
                        : v instanceof String && literal instanceof String
                        ? ((String) v).equalsIgnoreCase((String) literal) : v.equals(literal);
                return op.equals("eq") == equal;
            }
            if (v == null || literal == null || v.getClass() != literal.getClass() || !(v instanceof Comparable)) {
                return false;
            }
            @SuppressWarnings({"unchecked", "rawtypes"})
            int cmp = v instanceof String ? ((String) v).compareToIgnoreCase((String) literal)
                    : ((Comparable) v).compareTo(literal);
            switch (op) {
                case "gt": return cmp > 0;
                case "ge": return cmp >= 0;
                case "lt": return cmp < 0;
                default: return cmp <= 0;
            }
        };
    }

    // ================================================================== plumbing

    private String context(FakeMailbox mb, String path) {
        return fake.graphBaseUrl() + "/$metadata#users('" + FakeHttp.encode(mb.address()) + "')/" + path;
    }

    private JsonNode readBody(FakeExchange x) {
        try {
            JsonNode node = x.body.length == 0 ? null : json.readTree(x.body);
            if (node == null || !node.isObject()) {
                throw new GraphError(400, "RequestBodyRead", "A JSON object is expected in the request body.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new GraphError(400, "RequestBodyRead", "Invalid JSON in the request body: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new GraphError(400, "RequestBodyRead", "Unreadable request body: " + e.getMessage());
        }
    }

    private static void requireMethod(FakeExchange x, String method) {
        if (!x.method.equals(method)) {
            throw methodNotAllowed(x);
        }
    }

    private static GraphError methodNotAllowed(FakeExchange x) {
        return new GraphError(405, "Request_BadRequest",
                "GraphFake: the HTTP method '" + x.method + "' is not supported on this resource.");
    }

    Map<String, String> headers(FakeExchange x) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("request-id", x.requestId);
        h.put("client-request-id", x.clientRequestId);
        if (x.immutableIds) {
            h.put("Preference-Applied", "IdType=\"ImmutableId\"");
        }
        return h;
    }

    private void sendJson(FakeExchange x, int status, ObjectNode node) throws IOException {
        x.respond(status, FakeHttp.GRAPH_JSON, headers(x), FakeExchange.Body.of(json.writeValueAsBytes(node)));
    }

    /** Graph error shape {@code {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}}. */
    void sendError(FakeExchange x, int status, String code, String message, Map<String, String> extraHeaders)
            throws IOException {
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        ObjectNode inner = error.putObject("innerError");
        inner.put("date", FakeHttp.innerErrorDate(Instant.now()));
        inner.put("request-id", x.requestId);
        inner.put("client-request-id", x.clientRequestId);
        Map<String, String> headers = headers(x);
        if (extraHeaders != null) {
            headers.putAll(extraHeaders);
        }
        x.respond(status, FakeHttp.GRAPH_JSON, headers, FakeExchange.Body.of(json.writeValueAsBytes(root)));
    }
}

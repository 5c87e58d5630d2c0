package dev.mailintake.intake;

import dev.mailintake.config.MailboxConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the metadata delivered with every message ({@code metadata.json}, or headers for endpoint targets). */
public final class MessageMetadata {
    private final Clock clock;

    public MessageMetadata(Clock clock) {
        this.clock = clock;
    }

    public Map<String, Object> of(MailboxConfig mailbox, SpooledMessage m) {
        ParsedMessage p = m.parsed();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mailbox", mailbox.name());
        out.put("address", mailbox.address());
        out.put("protocol", mailbox.protocol().name().toLowerCase());
        out.put("messageKey", m.ref().key());
        if (mailbox.protocol() == dev.mailintake.config.Protocol.GRAPH) {
            out.put("graphId", m.ref().key());
        }
        out.put("internetMessageId", p.messageId() != null ? p.messageId() : m.ref().internetMessageId());
        out.put("receivedAt", m.ref().receivedAt().toString());
        out.put("subject", p.subject());
        out.put("from", p.from());
        out.put("sender", p.sender());
        out.put("to", p.to());
        out.put("cc", p.cc());
        out.put("replyTo", p.replyTo());
        out.put("date", p.date());
        out.put("size", p.size());
        out.put("sha256", m.sha256());
        List<Map<String, Object>> attachments = new ArrayList<>();
        for (AttachmentInfo a : p.attachments()) {
            Map<String, Object> att = new LinkedHashMap<>();
            att.put("name", a.fileName());
            att.put("path", SpooledMessage.ATTACHMENTS_DIR + "/" + a.fileName());
            att.put("originalName", a.originalName());
            att.put("contentType", a.contentType());
            att.put("size", a.size());
            att.put("sha256", a.sha256());
            att.put("inline", a.inline());
            att.put("contentId", a.contentId());
            attachments.add(att);
        }
        out.put("attachments", attachments);
        out.put("importedAt", clock.instant().toString());
        return out;
    }
}

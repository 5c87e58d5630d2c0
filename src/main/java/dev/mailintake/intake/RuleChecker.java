package dev.mailintake.intake;

import dev.mailintake.config.Rules;
import java.util.Locale;

/** Evaluates a mailbox's rules on a parsed message; a violation is a {@link PermanentMessageFailure}. */
public final class RuleChecker {
    public static final String NO_ATTACHMENT = "no attachment";
    public static final String TYPE_NOT_ALLOWED = "attachment type not allowed";

    /**
     * The rules the listing already answers, before anything is downloaded: {@code rules.require-attachment} fails
     * for a message the listing says has no attachment other than inline ones. A listing that says it has some proves
     * nothing (inline parts, signatures), so such a message is checked after the download, as every other one.
     */
    public void checkListed(Rules rules, MessageRef ref) {
        if (rules.requireAttachment() && ref.attachments() == MessageRef.Attachments.NONE) {
            throw new PermanentMessageFailure(NO_ATTACHMENT, "the mailbox requires at least one attachment and this"
                    + " message has none (the listing says so: Graph hasAttachments=false; inline parts do not count);"
                    + " not downloaded");
        }
    }

    public void check(Rules rules, ParsedMessage message) {
        if (rules.requireAttachment() && message.realAttachments().isEmpty()) {
            throw new PermanentMessageFailure(NO_ATTACHMENT, "the mailbox requires at least one attachment and "
                    + "this message has none" + (message.attachments().isEmpty() ? "" : " (only inline parts)"));
        }
        if (!rules.allowedAttachmentTypes().isEmpty()) {
            for (AttachmentInfo a : message.realAttachments()) {
                if (!allowed(rules, a)) {
                    throw new PermanentMessageFailure(TYPE_NOT_ALLOWED, "attachment '" + a.fileName() + "' ("
                            + a.contentType() + ") is not one of " + rules.allowedAttachmentTypes());
                }
            }
        }
    }

    private static boolean allowed(Rules rules, AttachmentInfo a) {
        String name = a.fileName().toLowerCase(Locale.ROOT);
        String type = a.contentType() == null ? "" : a.contentType().toLowerCase(Locale.ROOT);
        for (String allowed : rules.allowedAttachmentTypes()) {
            if (allowed.contains("/")) {
                if (allowed.endsWith("/*") ? type.startsWith(allowed.substring(0, allowed.length() - 1))
                        : type.equals(allowed)) {
                    return true;
                }
            } else {
                String ext = allowed.startsWith(".") ? allowed : "." + allowed;
                if (name.endsWith(ext)) {
                    return true;
                }
            }
        }
        return false;
    }
}

package dev.mailintake.intake;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configured mailboxes by name. */
public final class Mailboxes {
    private final Map<String, Mailbox> byName;

    public Mailboxes(Collection<Mailbox> mailboxes) {
        Map<String, Mailbox> m = new LinkedHashMap<>();
        mailboxes.forEach(mb -> m.put(mb.name(), mb));
        this.byName = Map.copyOf(m);
    }

    public Mailbox get(String name) {
        Mailbox mb = byName.get(name);
        if (mb == null) {
            throw new IllegalArgumentException("no mailbox named '" + name + "'");
        }
        return mb;
    }

    public Collection<Mailbox> all() {
        return byName.values();
    }
}

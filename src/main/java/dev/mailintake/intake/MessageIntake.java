package dev.mailintake.intake;

import dev.mailintake.store.Ledger;
import dev.mailintake.store.LedgerEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol-independent import pipeline, one method per route step: claim (ledger) → fetch → rules → deliver →
 * record → move; and the outcomes the error-handling route configuration calls: reject (Error folder), postpone
 * (stays in the Inbox), delivery failed (maybe poison), mailbox failed (stop the mailbox).
 */
public final class MessageIntake {
    private static final Logger LOG = LoggerFactory.getLogger(MessageIntake.class);
    public static final String MAILBOX = "MailIntakeMailbox";
    public static final String ACTION = "MailIntakeAction";
    public static final String REF = "MailIntakeRef";
    /** The reason a message that came back from Error had been rejected for (goes into metadata.json). */
    public static final String PREVIOUS_ERROR = "MailIntakePreviousError";
    public static final String DELIVER = "deliver";
    public static final String MOVE = "move";
    public static final String POISON = "delivery keeps failing";

    private final Mailboxes mailboxes;
    private final Ledger ledger;
    private final MimeInspector inspector;
    private final RuleChecker rules;
    private final MessageMetadata metadata;
    private final CamelContext camel;
    private final Clock clock;

    public MessageIntake(Mailboxes mailboxes, Ledger ledger, MimeInspector inspector, RuleChecker rules,
                         MessageMetadata metadata, CamelContext camel, Clock clock) {
        this.mailboxes = mailboxes;
        this.ledger = ledger;
        this.inspector = inspector;
        this.rules = rules;
        this.metadata = metadata;
        this.camel = camel;
        this.clock = clock;
    }

    /** Poll step: the Inbox's messages, oldest first, as a lazy iterator for the streaming split. */
    public Iterator<MessageRef> poll(String mailbox, Exchange exchange) {
        Mailbox mb = mailboxes.get(mailbox);
        exchange.getIn().setHeader(MAILBOX, mailbox);
        if (mb.status().restart()) {
            LOG.info("mailbox '{}': started again after it had stopped", mailbox);
        }
        mb.status().pollStarted(clock.instant());
        // after the poll's last message (or its failure) the gateway releases what the poll held (IMAP: logs out)
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                mb.gateway().endPoll();
            }
        });
        mb.gateway().prepare();
        Iterator<MessageRef> refs = mb.gateway().listNew(mb.config().maxMessagesPerPoll());
        refs.hasNext(); // reads the first page now: an unauthorized connection shows here, not inside the split
        if (mb.status().polled(clock.instant())) {
            LOG.info("mailbox '{}': resumed, its connection is authorized again", mailbox);
        }
        return refs;
    }

    /** Decides from the ledger what to do with a listed message; sets header {@value #ACTION}. */
    public void claim(Exchange exchange) {
        MessageRef ref = exchange.getIn().getBody(MessageRef.class);
        exchange.setProperty(REF, ref);
        exchange.getIn().setHeader(MAILBOX, ref.mailbox());
        String action = DELIVER;
        LedgerEntry entry = ledger.find(ref.mailbox(), ref.key()).orElse(null);
        if (entry == null) {
            LedgerEntry twin = ledger.findDeliveredTwin(ref.mailbox(), ref.key(), ref.internetMessageId()).orElse(null);
            if (twin != null) {
                LOG.info("mailbox '{}': message {} {} was imported before under another id; moving it to Processed",
                        ref.mailbox(), ref.shortKey(), ref.internetMessageId());
                ledger.recordDelivered(ref.mailbox(), ref.key(), ref.internetMessageId(),
                        twin.location().orElse("duplicate of " + twin.messageKey()));
                action = MOVE;
            } else {
                ledger.findErrorTwin(ref.mailbox(), ref.key(), ref.internetMessageId())
                        .ifPresent(earlier -> cameBackFromError(exchange, ref, earlier));
            }
        } else {
            switch (entry.state()) {
                case DELIVERED, PROCESSED -> action = MOVE;
                case REJECTED -> throw new PermanentMessageFailure(entry.reason().orElse("rejected"),
                        "decided at an earlier poll; moving it to Error now");
                case ERROR -> cameBackFromError(exchange, ref, entry);
                case FAILING -> action = DELIVER;
                default -> throw new IllegalStateException(entry.state().name());
            }
        }
        exchange.getIn().setHeader(ACTION, action);
    }

    private void cameBackFromError(Exchange exchange, MessageRef ref, LedgerEntry earlier) {
        LOG.info("mailbox '{}': message {} came back from Error to the Inbox (rejected before: {}); importing it again",
                ref.mailbox(), ref.shortKey(), earlier.reason().orElse("?"));
        earlier.reason().ifPresent(reason -> exchange.setProperty(PREVIOUS_ERROR, reason));
        ledger.forget(ref.mailbox(), earlier.messageKey());
    }

    /** Streams the raw message into a spool directory and parses it; the spool is removed when the exchange ends. */
    public SpooledMessage fetch(Exchange exchange) {
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        Mailbox mb = mailboxes.get(ref.mailbox());
        Path dir;
        try {
            dir = mb.target().newSpoolDir();
        } catch (IOException e) {
            throw new TransientFailure("cannot create a spool directory: " + e.getMessage(), e);
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                deleteTree(dir);
            }
        });
        Path eml = dir.resolve(SpooledMessage.MESSAGE_FILE);
        String sha256 = mb.gateway().fetch(ref, eml, mb.config().rules().maxMessageBytes());
        try {
            ParsedMessage parsed = inspector.inspect(eml, dir.resolve(SpooledMessage.ATTACHMENTS_DIR));
            if (ref.internetMessageId() != null && parsed.messageId() != null
                    && !sameMessageId(ref.internetMessageId(), parsed.messageId())) {
                // never deliver one message's content under another's key (e.g. an IMAP server renumbering
                // messages under a FETCH); the next poll lists the Inbox afresh
                throw new TransientFailure("message " + ref.shortKey() + " was listed as " + ref.internetMessageId()
                        + " but the server sent " + parsed.messageId() + "; trying again at the next poll");
            }
            return new SpooledMessage(ref, dir, eml, sha256, parsed);
        } catch (IOException e) {
            throw new TransientFailure("cannot spool the message: " + e.getMessage(), e);
        }
    }

    public void checkRules(Exchange exchange) {
        SpooledMessage m = exchange.getIn().getBody(SpooledMessage.class);
        rules.check(mailboxes.get(m.ref().mailbox()).config().rules(), m.parsed());
    }

    /** Delivers to the target, then records the delivery in the ledger (before any move). */
    public void deliver(Exchange exchange) {
        SpooledMessage m = exchange.getIn().getBody(SpooledMessage.class);
        Mailbox mb = mailboxes.get(m.ref().mailbox());
        Map<String, Object> meta = metadata.of(mb.config(), m);
        String previousError = exchange.getProperty(PREVIOUS_ERROR, String.class);
        if (previousError != null) {
            meta.put("previousError", previousError);
        }
        String location = mb.target().deliver(m, meta);
        ledger.recordDelivered(m.ref().mailbox(), m.ref().key(), m.ref().internetMessageId(), location);
        mb.status().delivered(clock.instant());
        exchange.setProperty("MailIntakeLocation", location);
    }

    public void moveToProcessed(Exchange exchange) {
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        Mailbox mb = mailboxes.get(ref.mailbox());
        mb.gateway().moveToProcessed(ref);
        ledger.recordProcessed(ref.mailbox(), ref.key());
        mb.status().imported();
        String location = exchange.getProperty("MailIntakeLocation", String.class);
        if (location != null) {
            LOG.info("mailbox '{}': imported message {} {} to {}; moved to Processed", ref.mailbox(), ref.shortKey(),
                    nullToEmpty(ref.internetMessageId()), location);
        } else {
            LOG.info("mailbox '{}': message {} {} was delivered before; moved to Processed", ref.mailbox(),
                    ref.shortKey(), nullToEmpty(ref.internetMessageId()));
        }
    }

    /** A permanent failure: record the reason, mark and move the message to Error. */
    public void reject(Exchange exchange) {
        PermanentMessageFailure failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, PermanentMessageFailure.class);
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        reject(ref, failure.reason(), failure.getMessage());
    }

    private void reject(MessageRef ref, String reason, String detail) {
        Mailbox mb = mailboxes.get(ref.mailbox());
        ledger.recordRejected(ref.mailbox(), ref.key(), ref.internetMessageId(), reason);
        mb.gateway().moveToError(ref, reason);
        ledger.recordError(ref.mailbox(), ref.key());
        mb.status().error();
        LOG.warn("mailbox '{}': message {} {} moved to Error: {}", ref.mailbox(), ref.shortKey(),
                nullToEmpty(ref.internetMessageId()), detail);
    }

    /** A transient failure: the message stays where it is; the next poll tries again. */
    public void postpone(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        String mailbox = ref != null ? ref.mailbox() : exchange.getIn().getHeader(MAILBOX, String.class);
        if (mailbox != null) {
            mailboxes.get(mailbox).status().postponed();
        }
        LOG.warn("mailbox '{}': {} left in place for the next poll: {}", mailbox,
                ref == null ? "poll" : "message " + ref.shortKey(), failure == null ? "?" : failure.getMessage());
    }

    /**
     * Delivery failed after the route's redeliveries. Counted in the ledger; once it has failed
     * {@code max-delivery-attempts} times while other messages of the mailbox got through, it is poison → Error.
     */
    public void deliveryFailed(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        Mailbox mb = mailboxes.get(ref.mailbox());
        // first_failure_at is the start of the poll that first failed it: deliveries later in that poll count as
        // "others got through" too, while a target that is down for everyone never makes a message poison
        LedgerEntry entry = ledger.recordDeliveryFailure(ref.mailbox(), ref.key(), ref.internetMessageId(),
                failure == null ? "?" : failure.getMessage(), mb.status().pollStartedAt());
        boolean othersGotThrough = mb.status().lastDelivery()
                .flatMap(last -> entry.firstFailureAt().map(first -> last.isAfter(first)))
                .orElse(false);
        if (entry.attempts() >= mb.config().maxDeliveryAttempts() && othersGotThrough) {
            reject(ref, POISON, POISON + ": delivery failed " + entry.attempts() + " times while other messages got"
                    + " through; last: " + (failure == null ? "?" : failure.getMessage()));
            return;
        }
        mb.status().postponed();
        LOG.warn("mailbox '{}': delivery of message {} failed (attempt {}); left in the Inbox: {}", ref.mailbox(),
                ref.shortKey(), entry.attempts(), failure == null ? "?" : failure.getMessage());
    }

    /** The mailbox cannot go on (configuration, access): stop its route, once, saying why. */
    public void mailboxFailed(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String mailbox = exchange.getIn().getHeader(MAILBOX, String.class);
        Mailbox mb = mailboxes.get(mailbox);
        if (mb.status().fail(failure.getMessage())) {
            LOG.error("{} — mailbox stopped; fix this and restart (or start route '{}' again via JMX)",
                    failure.getMessage(), mb.routeId());
            CompletableFuture.runAsync(() -> {
                try {
                    camel.getRouteController().stopRoute(mb.routeId());
                } catch (Exception e) {
                    LOG.warn("mailbox '{}': cannot stop route {}: {}", mailbox, mb.routeId(), e.getMessage());
                }
            });
        }
    }

    /** The connection must be authorized again: the mailbox pauses (once logged) and resumes after the sign-in. */
    public void mailboxPaused(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String mailbox = exchange.getIn().getHeader(MAILBOX, String.class);
        if (mailboxes.get(mailbox).status().pause(failure.getMessage())) {
            LOG.error("{} — mailbox paused until the connection is authorized again", failure.getMessage());
        }
    }

    /** Message-IDs compared without angle brackets and white space (folding). */
    static boolean sameMessageId(String a, String b) {
        return bare(a).equals(bare(b));
    }

    private static String bare(String id) {
        String s = id.replaceAll("\\s+", "");
        return s.startsWith("<") && s.endsWith(">") ? s.substring(1, s.length() - 1) : s;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove spool directory {}: {}", dir, e.getMessage());
        }
    }
}

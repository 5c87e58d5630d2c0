package dev.mailintake.intake;

import dev.mailintake.store.Claims;
import dev.mailintake.store.Ledger;
import dev.mailintake.store.LedgerEntry;
import dev.mailintake.store.LedgerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The protocol-independent import pipeline, one method per route step: claim (ledger) → fetch → rules → deliver →
 * record → move; and the outcomes the error-handling route configuration calls: reject (Error folder), postpone
 * (stays in the Inbox), delivery failed (maybe poison), mailbox failed (stop the mailbox).
 */
public final class MessageIntake {
    private static final Logger LOG = LoggerFactory.getLogger(MessageIntake.class);
    public static final String MAILBOX = "MailIntakeMailbox";
    /** The logging MDC key naming the mailbox whose work a log line belongs to. */
    public static final String MDC_MAILBOX = "mailbox";
    public static final String ACTION = "MailIntakeAction";
    public static final String REF = "MailIntakeRef";
    /** The reason a message that came back from Error had been rejected for (goes into metadata.json). */
    public static final String PREVIOUS_ERROR = "MailIntakePreviousError";
    /** Ledger entries of other keys with the listed message's Message-ID, until the bytes tell (exchange property). */
    static final String TWINS = "MailIntakeTwins";
    /** The poll's {@link PollProgress} (exchange property, shared with the poll's message exchanges). */
    static final String POLL = "MailIntakePoll";
    /** Exchange property: the message may have reached the target before (a crash between handing it over and the
     * ledger); {@code possibleDuplicate} in the metadata and header {@code MailIntakePossibleDuplicate}. */
    static final String POSSIBLE_DUPLICATE = "MailIntakePossibleDuplicate";
    /** The poll's {@link PendingMoves} when its gateway moves messages in batches (exchange property, shared). */
    static final String MOVES = "MailIntakeMoves";
    /** Where the message was delivered (exchange property). */
    static final String LOCATION = "MailIntakeLocation";
    /** Whether the poll's listing found any message (exchange property; the route splits only then). */
    static final String LISTED = "MailIntakeListed";
    /** What is known of the raw message's bytes, {@link Ledger.Content} (exchange property). */
    static final String CONTENT = "MailIntakeContent";
    /** The ledger had no entry for the message's key when it was claimed (exchange property; an INSERT is likely). */
    static final String UNRECORDED = "MailIntakeUnrecorded";
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
    private final Claims claims;

    public MessageIntake(Mailboxes mailboxes, Ledger ledger, MimeInspector inspector, RuleChecker rules,
                         MessageMetadata metadata, CamelContext camel, Clock clock) {
        this(mailboxes, ledger, inspector, rules, metadata, camel, clock, Claims.NONE);
    }

    /** @param claims which instance imports a message, when several share the store ({@link Claims#NONE} if one) */
    public MessageIntake(Mailboxes mailboxes, Ledger ledger, MimeInspector inspector, RuleChecker rules,
                         MessageMetadata metadata, CamelContext camel, Clock clock, Claims claims) {
        this.claims = claims;
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
        MDC.put(MDC_MAILBOX, mailbox); // every line of the poll's work names the mailbox (JSON logs: mdc.mailbox)
        Mailbox mb = mailboxes.get(mailbox);
        exchange.getIn().setHeader(MAILBOX, mailbox);
        if (mb.status().restart()) {
            LOG.info("mailbox '{}': started again after it had stopped", mailbox);
        }
        mb.status().pollStarted(clock.instant());
        // the scheduler consumer is greedy: it polls again at once when this property is true (Camel's default when
        // it is absent). Until pollDone says more are waiting, the poll counts as empty (a listing that failed, a
        // paused mailbox): the next poll waits the interval
        exchange.setProperty(Exchange.SCHEDULER_POLLED_MESSAGES, false);
        PollProgress progress = new PollProgress(mb.config().maxMessagesPerPoll());
        exchange.setProperty(POLL, progress);
        PendingMoves moves = mb.gateway().moveBatchSize() > 1
                ? new PendingMoves(mb.gateway().moveBatchSize(), progress) : null;
        exchange.setProperty(MOVES, moves);
        // after the poll's last message (or its failure) the gateway releases what the poll held (IMAP: logs out)
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try {
                    if (moves != null) {
                        flush(mb, moves); // normally done by pollDone already
                    }
                } catch (RuntimeException e) {
                    LOG.warn("mailbox '{}': messages left in the Inbox for the next poll: {}", mailbox, e.getMessage());
                } finally {
                    mb.gateway().endPoll();
                    MDC.remove(MDC_MAILBOX);
                }
            }
        });
        mb.gateway().prepare();
        Iterator<MessageRef> refs = progress.counting(mb.gateway().listNew(mb.config().maxMessagesPerPoll()));
        // reads the first page now: an unauthorized connection shows here, not inside the split; an empty Inbox skips
        // the split (the route's filter)
        exchange.setProperty(LISTED, refs.hasNext());
        if (mb.status().polled(clock.instant())) {
            LOG.info("mailbox '{}': resumed, its connection is authorized again", mailbox);
        }
        return refs;
    }

    /**
     * Last step of a poll, after all its messages: if it took as many messages as a poll may and some of them left the
     * Inbox, more are probably waiting, and the (greedy) scheduler polls again at once instead of waiting the
     * interval ({@link Exchange#SCHEDULER_POLLED_MESSAGES}).
     */
    public void pollDone(Exchange exchange) {
        PendingMoves moves = exchange.getProperty(MOVES, PendingMoves.class);
        if (moves != null) {
            flush(mailboxes.get(exchange.getIn().getHeader(MAILBOX, String.class)), moves);
        }
        PollProgress progress = exchange.getProperty(POLL, PollProgress.class);
        boolean more = progress != null && progress.moreWaiting();
        exchange.setProperty(Exchange.SCHEDULER_POLLED_MESSAGES, more);
        if (more) {
            LOG.debug("mailbox '{}': the poll took {} messages (max-messages-per-poll), {} left the Inbox; polling again"
                    + " at once", exchange.getIn().getHeader(MAILBOX), progress.listed(), progress.movedCount());
        }
    }

    /**
     * Decides from the ledger what to do with a listed message; sets header {@value #ACTION}. Its key decides: a
     * message listed under a key the ledger has not seen is fetched, even when another key carries the same Message-ID
     * (those are only candidates for {@link #recognise}, which compares the bytes).
     */
    public void claim(Exchange exchange) {
        MessageRef ref = exchange.getIn().getBody(MessageRef.class);
        MDC.put(MDC_MAILBOX, ref.mailbox()); // a thread of the mailbox's own pool: the key stays the mailbox's
        exchange.setProperty(REF, ref);
        exchange.getIn().setHeader(MAILBOX, ref.mailbox());
        String action = DELIVER;
        LedgerEntry entry = ledger.find(ref.mailbox(), ref.key()).orElse(null);
        if (entry == null) {
            exchange.setProperty(UNRECORDED, Boolean.TRUE);
            List<LedgerEntry> twins = ledger.twins(ref.mailbox(), ref.key(), ref.internetMessageId());
            if (!twins.isEmpty()) {
                exchange.setProperty(TWINS, twins);
            }
        } else {
            switch (entry.state()) {
                case DELIVERED, PROCESSED -> action = MOVE;
                case REJECTED -> throw new PermanentMessageFailure(entry.reason().orElse("rejected"),
                        "decided at an earlier poll; moving it to Error now");
                case ERROR -> cameBackFromError(exchange, ref, entry);
                case FAILING -> action = DELIVER;
                case DELIVERING -> {
                    // the target may have taken it before the instance died: tell it so (it can drop a duplicate)
                    exchange.setProperty(POSSIBLE_DUPLICATE, true);
                    action = DELIVER;
                }
                default -> throw new IllegalStateException(entry.state().name());
            }
        }
        if (action.equals(DELIVER)) {
            claims.claim(ref.mailbox(), ref.key()).ifPresent(holder -> {
                throw new TransientFailure("message " + ref.shortKey() + " is being imported by instance " + holder
                        + "; left to it");
            });
        }
        exchange.getIn().setHeader(ACTION, action);
    }

    /**
     * Before the fetch: the rules the listing already answers ({@link RuleChecker#checkListed}), so that a message
     * that breaks them goes to Error without being downloaded. Not for a message that shares its Message-ID with
     * ledger entries under other keys: only its bytes can tell whether it is one delivered before (then it is moved to
     * Processed, whatever the rules say now), so it is fetched and checked as before.
     */
    public void checkListedRules(Exchange exchange) {
        if (exchange.getProperty(TWINS) != null) {
            return;
        }
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        rules.checkListed(mailboxes.get(ref.mailbox()).config().rules(), ref);
    }

    /**
     * After the fetch: is this the same message (the same bytes) as one the ledger knows under another key with the
     * same Message-ID? Delivered before → recorded under the new key too and only moved ({@value #ACTION} becomes
     * {@value #MOVE}); sent to Error before → imported again with that earlier reason. A different message that only
     * shares the Message-ID (a resent mail, a broken sender, a list) is imported as the message it is.
     */
    @SuppressWarnings("unchecked")
    public void recognise(Exchange exchange) {
        List<LedgerEntry> twins = exchange.getProperty(TWINS, List.class);
        if (twins == null) {
            return;
        }
        SpooledMessage m = exchange.getIn().getBody(SpooledMessage.class);
        MessageRef ref = m.ref();
        Ledger.Content content = exchange.getProperty(CONTENT, Ledger.Content.class);
        List<LedgerEntry> same = twins.stream().filter(t -> sameBytes(t, content)).toList();
        Optional<LedgerEntry> delivered = same.stream()
                .filter(t -> t.state() == LedgerState.DELIVERED || t.state() == LedgerState.PROCESSED).findFirst();
        if (delivered.isPresent()) {
            LedgerEntry twin = delivered.get();
            LOG.info("mailbox '{}': message {} {} was imported before under another id (the same bytes); moving it to"
                    + " Processed", ref.mailbox(), ref.shortKey(), nullToEmpty(ref.internetMessageId()));
            ledger.recordDelivered(ref.mailbox(), ref.key(), ref.internetMessageId(),
                    twin.location().orElse("duplicate of " + twin.messageKey()), content);
            exchange.getIn().setHeader(ACTION, MOVE);
            return;
        }
        same.stream().filter(t -> t.state() == LedgerState.ERROR || t.state() == LedgerState.REJECTED).findFirst()
                .ifPresentOrElse(earlier -> cameBackFromError(exchange, ref, earlier),
                        () -> LOG.info("mailbox '{}': message {} shares its Message-ID {} with {} other message(s) of"
                                + " different content; importing it as a message of its own", ref.mailbox(),
                                ref.shortKey(), nullToEmpty(ref.internetMessageId()), twins.size()));
    }

    /**
     * Whether a ledger entry with the same Message-ID holds these bytes: the same SHA-256; or, for a message that was
     * rejected without being read (over rules.max-size by its listed size), the same exact size.
     */
    static boolean sameBytes(LedgerEntry twin, Ledger.Content content) {
        if (twin.contentSha256().isPresent()) {
            return twin.contentSha256().get().equalsIgnoreCase(content.sha256());
        }
        return twin.contentSize().isPresent() && twin.contentSize().get().equals(content.size());
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
            exchange.setProperty(CONTENT, new Ledger.Content(sha256, Files.size(eml)));
        } catch (IOException e) {
            throw new TransientFailure("cannot spool the message: " + e.getMessage(), e);
        }
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
        if (!claims.stillHeld(m.ref().mailbox(), m.ref().key())) {
            // fencing: this instance was paused or cut off and another took the mailbox over meanwhile
            throw new TransientFailure("message " + m.ref().shortKey() + ": another instance took it over while this"
                    + " one was not in touch; not delivered here");
        }
        if (exchange.getProperty(POSSIBLE_DUPLICATE, false, Boolean.class)) {
            meta.put("possibleDuplicate", true);
        }
        // a new message's first ledger write is an INSERT (DELIVERING, or DELIVERED where the target needs no
        // DELIVERING); a later write updates that row
        boolean unrecorded = exchange.getProperty(UNRECORDED, false, Boolean.class);
        if (!mb.target().idempotentByKey()) {
            // DELIVERING: a crash from here until DELIVERED is recorded makes the next delivery a flagged possible
            // duplicate. A target that recognises a second delivery of the same key by itself needs no such flag
            ledger.recordDelivering(m.ref().mailbox(), m.ref().key(), m.ref().internetMessageId(), unrecorded);
            ledger.persist();
            unrecorded = false;
        }
        String location = mb.target().deliver(m, meta);
        ledger.recordDelivered(m.ref().mailbox(), m.ref().key(), m.ref().internetMessageId(), location,
                exchange.getProperty(CONTENT, Ledger.Content.class), unrecorded);
        mb.status().delivered(clock.instant());
        exchange.setProperty(LOCATION, location);
    }

    /**
     * Moves the message to Processed, then records that: at once, or (a gateway that moves in batches) with the other
     * messages of its batch when the batch is full or the poll's messages are all handled.
     */
    public void moveToProcessed(Exchange exchange) {
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        Mailbox mb = mailboxes.get(ref.mailbox());
        PendingMoves.Processed done = new PendingMoves.Processed(ref, exchange.getProperty(LOCATION, String.class));
        PendingMoves moves = exchange.getProperty(MOVES, PendingMoves.class);
        if (moves == null) {
            // the move hides the message from every later poll: the ledger's record of it must be in the file first
            ledger.persist();
            mb.gateway().moveToProcessed(ref);
            movedToProcessed(mb, List.of(done), exchange.getProperty(POLL, PollProgress.class));
        } else {
            moveToProcessed(mb, moves.toProcessed(done), moves.progress());
        }
    }

    /** The poll's messages that still wait for their batch's move (its last, partly filled batches). */
    private void flush(Mailbox mb, PendingMoves moves) {
        moveToProcessed(mb, moves.takeProcessed(), moves.progress());
        moveToError(mb, moves.takeRejected(), moves.progress());
    }

    /** One batch to Processed; if the move fails they stay delivered in the ledger, and the next poll only moves them. */
    private void moveToProcessed(Mailbox mb, List<PendingMoves.Processed> batch, PollProgress progress) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            ledger.persist();
            mb.gateway().moveAllToProcessed(batch.stream().map(PendingMoves.Processed::ref).toList());
        } catch (MailboxFailure | MailboxPaused e) {
            throw e;
        } catch (RuntimeException e) {
            leftInInbox(mb, batch.stream().map(PendingMoves.Processed::ref).toList(), e);
            return;
        }
        movedToProcessed(mb, batch, progress);
    }

    private void movedToProcessed(Mailbox mb, List<PendingMoves.Processed> batch, PollProgress progress) {
        String mailbox = mb.config().name();
        if (batch.size() == 1) {
            ledger.recordProcessed(mailbox, batch.get(0).ref().key());
        } else {
            ledger.recordProcessed(mailbox, batch.stream().map(p -> p.ref().key()).toList());
        }
        for (PendingMoves.Processed p : batch) {
            MessageRef ref = p.ref();
            if (progress != null) {
                progress.moved();
            }
            claims.release(mailbox, ref.key());
            mb.status().imported();
            if (p.location() != null) {
                LOG.info("mailbox '{}': imported message {} {} to {}; moved to Processed", mailbox, ref.shortKey(),
                        nullToEmpty(ref.internetMessageId()), p.location());
            } else {
                LOG.info("mailbox '{}': message {} {} was delivered before; moved to Processed", mailbox,
                        ref.shortKey(), nullToEmpty(ref.internetMessageId()));
            }
        }
    }

    private void leftInInbox(Mailbox mb, List<MessageRef> refs, RuntimeException e) {
        for (MessageRef ref : refs) {
            mb.status().postponed();
            LOG.warn("mailbox '{}': message {} left in the Inbox for the next poll (the ledger knows its outcome; the"
                    + " next poll only moves it): {}", mb.config().name(), ref.shortKey(),
                    withoutPrefix(e.getMessage(), mb.config().name()));
        }
    }

    /** A permanent failure: record the reason, mark and move the message to Error. */
    public void reject(Exchange exchange) {
        PermanentMessageFailure failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, PermanentMessageFailure.class);
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        reject(exchange, ref, failure.reason(), failure.getMessage(), content(exchange, ref));
    }

    /** The fetched bytes' hash and size; before a fetch, the listed size if the listing gave one. */
    private static Ledger.Content content(Exchange exchange, MessageRef ref) {
        Ledger.Content fetched = exchange.getProperty(CONTENT, Ledger.Content.class);
        if (fetched != null) {
            return fetched;
        }
        return ref.size() == MessageRef.UNKNOWN_SIZE ? Ledger.Content.UNKNOWN : new Ledger.Content(null, ref.size());
    }

    /** Records the rejection, then marks and moves the message to Error (at once, or with its batch). */
    private void reject(Exchange exchange, MessageRef ref, String reason, String detail, Ledger.Content content) {
        Mailbox mb = mailboxes.get(ref.mailbox());
        ledger.recordRejected(ref.mailbox(), ref.key(), ref.internetMessageId(), reason, content);
        PendingMoves.Rejected rejected = new PendingMoves.Rejected(ref, reason, detail);
        PendingMoves moves = exchange.getProperty(MOVES, PendingMoves.class);
        if (moves == null) {
            ledger.persist();
            mb.gateway().moveToError(ref, reason);
            movedToError(mb, List.of(rejected), exchange.getProperty(POLL, PollProgress.class));
        } else {
            moveToError(mb, moves.toError(rejected), moves.progress());
        }
    }

    /** One batch to Error; if the move fails they stay rejected in the ledger, and the next poll moves them. */
    private void moveToError(Mailbox mb, List<PendingMoves.Rejected> batch, PollProgress progress) {
        if (batch.isEmpty()) {
            return;
        }
        Map<MessageRef, String> reasons = new LinkedHashMap<>();
        batch.forEach(r -> reasons.put(r.ref(), r.reason()));
        try {
            ledger.persist();
            mb.gateway().moveAllToError(reasons);
        } catch (MailboxFailure | MailboxPaused e) {
            throw e;
        } catch (RuntimeException e) {
            leftInInbox(mb, List.copyOf(reasons.keySet()), e);
            return;
        }
        movedToError(mb, batch, progress);
    }

    private void movedToError(Mailbox mb, List<PendingMoves.Rejected> batch, PollProgress progress) {
        String mailbox = mb.config().name();
        if (batch.size() == 1) {
            ledger.recordError(mailbox, batch.get(0).ref().key());
        } else {
            ledger.recordError(mailbox, batch.stream().map(r -> r.ref().key()).toList());
        }
        for (PendingMoves.Rejected r : batch) {
            MessageRef ref = r.ref();
            if (progress != null) {
                progress.moved();
            }
            claims.release(mailbox, ref.key());
            mb.status().error();
            LOG.warn("mailbox '{}': message {} {} moved to Error: {}", mailbox, ref.shortKey(),
                    nullToEmpty(ref.internetMessageId()), r.detail());
        }
    }

    /** A transient failure: the message stays where it is; the next poll tries again. */
    public void postpone(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        MessageRef ref = exchange.getProperty(REF, MessageRef.class);
        String mailbox = ref != null ? ref.mailbox() : exchange.getIn().getHeader(MAILBOX, String.class);
        String why = withoutPrefix(failure == null ? "?" : failure.getMessage(), mailbox);
        if (mailbox == null) {
            LOG.warn("{}", why);
            return;
        }
        MailboxStatus status = mailboxes.get(mailbox).status();
        if (ref == null) {
            long inARow = status.pollFailed(why);
            LOG.warn("mailbox '{}': poll failed ({} in a row), next try at the next poll: {}", mailbox, inARow, why);
            return;
        }
        status.postponed();
        LOG.warn("mailbox '{}': message {} left in the Inbox for the next poll: {}", mailbox, ref.shortKey(), why);
    }

    /** A failure's text without the {@code mailbox '<name>': } it may start with (the log line names the mailbox). */
    static String withoutPrefix(String message, String mailbox) {
        String prefix = "mailbox '" + mailbox + "': ";
        return message != null && message.startsWith(prefix) ? message.substring(prefix.length()) : message;
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
            reject(exchange, ref, POISON, POISON + ": delivery failed " + entry.attempts() + " times while other"
                    + " messages got through; last: " + (failure == null ? "?" : failure.getMessage()),
                    content(exchange, ref));
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

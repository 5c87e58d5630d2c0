package dev.mailintake.config;

/**
 * A named mailbox: which connection reads it, how, which folders, rules and target.
 *
 * @param address             user or shared mailbox address ({@code /users/{address}} in Graph)
 * @param concurrency         messages imported in parallel (and the cap on concurrent Graph requests, at most 4)
 * @param maxMessagesPerPoll  messages listed per poll; the next poll continues
 * @param pageSize            Graph {@code $top} when listing (lower it if listing answers 504)
 * @param maxDeliveryAttempts failed deliveries after which a message counts as poison while others get through
 * @param imap                the IMAP server (protocol imap only)
 */
public record MailboxConfig(
        String name,
        String connection,
        Protocol protocol,
        String address,
        Folders folders,
        boolean createFolders,
        Rules rules,
        Target target,
        Poll poll,
        int concurrency,
        int maxMessagesPerPoll,
        int pageSize,
        RequestBudget requestBudget,
        int maxDeliveryAttempts,
        boolean enabled,
        java.util.Optional<ImapServer> imap) {
}

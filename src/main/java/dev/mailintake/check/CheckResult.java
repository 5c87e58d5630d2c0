package dev.mailintake.check;

/**
 * One preflight check's outcome.
 *
 * @param subject {@code connection} or {@code mailbox}
 * @param name    the connection's or mailbox's name
 * @param check   what was checked ({@code token}, {@code permissions}, {@code redirect-uri}, {@code mailbox},
 *                {@code target})
 * @param detail  what was found, and the fix when it failed; never a secret or a token
 */
public record CheckResult(String subject, String name, String check, boolean ok, String detail) {
}

package dev.mailintake.config;

import java.time.Duration;

/**
 * The {@code refresh-tokens} schedule (a transient failure is tried 4 times, waiting {@code retryDelay}, doubling): a Quartz cron (default five past every hour) and the window: a delegated
 * connection's tokens are refreshed when its access token expires within it, and at least once a day.
 */
public record RefreshConfig(String cron, Duration window, Duration retryDelay) {
}

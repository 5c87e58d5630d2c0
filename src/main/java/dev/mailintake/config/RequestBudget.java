package dev.mailintake.config;

import java.time.Duration;

/** At most {@code requests} Graph requests per {@code window} for one mailbox (Microsoft: 10,000 / 10 min). */
public record RequestBudget(int requests, Duration window) {
}

package dev.mailintake.config;

import java.time.Duration;
import java.util.Optional;

/** When a mailbox is polled: every {@code interval}, or on a Quartz cron (6/7 fields, seconds first). */
public record Poll(Duration interval, Optional<String> cron) {
}

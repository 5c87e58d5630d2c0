package dev.mailintake.config;

import java.util.Optional;

/** The JDBC store: embedded H2 by default, PostgreSQL for clusters. */
public record StoreConfig(String url, String user, Optional<Secret> password) {
}

package dev.mailintake.testsupport;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Stateless HTTP helpers shared by the Graph and token handlers. */
final class FakeHttp {

    /** Content type Graph uses for JSON payloads. */
    static final String GRAPH_JSON =
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
    /** Content type Entra ID uses for JSON payloads. */
    static final String ENTRA_JSON = "application/json; charset=utf-8";

    private static final Pattern ID_LIKE = Pattern.compile("[A-Za-z0-9_\\-+/]{40,}={0,3}");
    private static final Pattern IMMUTABLE_PREFERENCE =
            Pattern.compile("(?i)^\\s*idtype\\s*=\\s*\"?immutableid\"?\\s*$");

    private FakeHttp() {
    }

    /** Splits a raw path into percent-decoded segments. '+' is a literal plus in a path. */
    static List<String> decodePath(String rawPath) {
        List<String> segments = new ArrayList<>();
        if (rawPath == null) {
            return segments;
        }
        for (String raw : rawPath.split("/")) {
            if (!raw.isEmpty()) {
                segments.add(URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return segments;
    }

    /** Parses a raw query (form-style decoding: '+' is a space) preserving order. */
    static List<Map.Entry<String, String>> parseQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return List.of();
        }
        List<Map.Entry<String, String>> result = new ArrayList<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            result.add(new AbstractMap.SimpleImmutableEntry<>(
                    URLDecoder.decode(key, StandardCharsets.UTF_8),
                    URLDecoder.decode(value, StandardCharsets.UTF_8)));
        }
        return Collections.unmodifiableList(result);
    }

    /** {@code $Top} / {@code top} → {@code top}. */
    static String normalizeOption(String key) {
        String k = key.trim().toLowerCase(Locale.ROOT);
        return k.startsWith("$") ? k.substring(1) : k;
    }

    static Map<String, String> parseForm(byte[] body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : parseQuery(new String(body, StandardCharsets.UTF_8))) {
            form.putIfAbsent(e.getKey(), e.getValue());
        }
        return form;
    }

    /** Percent-encodes a query component the way Graph writes nextLinks ({@code $} → {@code %24}, space → {@code %20}). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static boolean prefersImmutableId(List<String> preferHeaders) {
        if (preferHeaders == null) {
            return false;
        }
        for (String header : preferHeaders) {
            for (String preference : header.split(",")) {
                if (IMMUTABLE_PREFERENCE.matcher(preference).matches()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True if the string has the shape of an Exchange id (as opposed to garbage or a misspelt well-known name). */
    static boolean looksLikeId(String s) {
        return s != null && ID_LIKE.matcher(s).matches();
    }

    /** {@code 2026-11-22T10:15:30Z}, like Graph. */
    static String graphDate(Instant instant) {
        return instant == null ? null : DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }

    /** {@code 2026-11-22T10:15:30} (no zone), as in Graph's innerError.date. */
    static String innerErrorDate(Instant instant) {
        return LocalDateTime.ofInstant(instant.truncatedTo(ChronoUnit.SECONDS), ZoneOffset.UTC)
                .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
    }

    /** {@code 2026-11-22 10:15:30Z}, as in Entra ID error bodies. */
    static String entraTimestamp(Instant instant) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC)
                .format(instant.truncatedTo(ChronoUnit.SECONDS));
    }
}

package dev.mailintake.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The few MIME facts the fake needs, found by a cheap textual scan (no full MIME parser). */
record MimeSummary(String messageId, String subject, String fromName, String fromAddress, Instant sentDateTime,
                   boolean hasAttachments) {

    private static final int MAX_HEADER_BYTES = 256 * 1024;
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?\\s]+)\\?([BbQq])\\?([^?\\s]*)\\?=");
    private static final Pattern NAME_ADDR = Pattern.compile("^(.*?)<([^>]*)>.*$", Pattern.DOTALL);

    static MimeSummary of(byte[] mime) {
        try {
            Map<String, String> headers = headers(head(mime));
            boolean attachments = scanForAttachment(
                    new StringReader(new String(mime, StandardCharsets.ISO_8859_1)));
            return from(headers, attachments);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Streams the file; never loads it into memory. */
    static MimeSummary of(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(MAX_HEADER_BYTES);
        }
        Map<String, String> headers = headers(head(head));
        boolean attachments;
        try (Reader reader = new InputStreamReader(Files.newInputStream(file), StandardCharsets.ISO_8859_1)) {
            attachments = scanForAttachment(reader);
        }
        return from(headers, attachments);
    }

    private static MimeSummary from(Map<String, String> headers, boolean attachments) {
        String messageId = trimToNull(headers.get("message-id"));
        String subject = headers.containsKey("subject") ? decodeWords(headers.get("subject").trim()) : null;
        String fromName = null;
        String fromAddress = null;
        String from = trimToNull(headers.get("from"));
        if (from != null) {
            Matcher m = NAME_ADDR.matcher(from);
            if (m.matches()) {
                fromName = trimToNull(decodeWords(m.group(1).trim().replaceAll("^\"|\"$", "")));
                fromAddress = trimToNull(m.group(2));
            } else {
                fromAddress = from;
            }
        }
        return new MimeSummary(messageId, subject, fromName, fromAddress, parseDate(headers.get("date")), attachments);
    }

    private static String head(byte[] bytes) {
        int limit = Math.min(bytes.length, MAX_HEADER_BYTES);
        for (int i = 0; i < limit; i++) {
            if (bytes[i] == '\n' && (i + 1 < limit && bytes[i + 1] == '\n'
                    || i + 2 < limit && bytes[i + 1] == '\r' && bytes[i + 2] == '\n')) {
                limit = i;
                break;
            }
        }
        return new String(bytes, 0, limit, StandardCharsets.ISO_8859_1);
    }

    /** Unfolded headers, lower-case names, first occurrence wins. Values are re-read as UTF-8 where valid. */
    private static Map<String, String> headers(String head) {
        Map<String, String> headers = new HashMap<>();
        String current = null;
        for (String line : head.split("\r?\n", -1)) {
            if (line.isEmpty()) {
                break;
            }
            if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && current != null) {
                current += line;
                continue;
            }
            put(headers, current);
            current = line;
        }
        put(headers, current);
        return headers;
    }

    private static void put(Map<String, String> headers, String line) {
        if (line == null) {
            return;
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
            return;
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = new String(line.substring(colon + 1).getBytes(StandardCharsets.ISO_8859_1),
                StandardCharsets.UTF_8);
        headers.putIfAbsent(name, value);
    }

    private static boolean scanForAttachment(Reader source) throws IOException {
        BufferedReader reader = new BufferedReader(source, 64 * 1024);
        boolean pendingDisposition = false;
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                pendingDisposition = false;
                continue;
            }
            char first = line.charAt(0);
            if (pendingDisposition && (first == ' ' || first == '\t')) {
                if (line.trim().toLowerCase(Locale.ROOT).startsWith("attachment")) {
                    return true;
                }
                pendingDisposition = false;
                continue;
            }
            pendingDisposition = false;
            if ((first == 'C' || first == 'c') && line.regionMatches(true, 0, "content-disposition:", 0, 20)) {
                String value = line.substring(20).trim().toLowerCase(Locale.ROOT);
                if (value.startsWith("attachment")) {
                    return true;
                }
                pendingDisposition = value.isEmpty();
            }
        }
        return false;
    }

    private static Instant parseDate(String value) {
        if (value == null) {
            return null;
        }
        String v = value.replaceAll("\\([^)]*\\)", " ").replaceAll("\\s+", " ").trim();
        try {
            return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Minimal RFC 2047 decoder (B and Q encodings). */
    static String decodeWords(String s) {
        Matcher m = ENCODED_WORD.matcher(s);
        StringBuilder sb = new StringBuilder();
        int last = 0;
        boolean previousWasEncoded = false;
        while (m.find()) {
            String between = s.substring(last, m.start());
            if (!(previousWasEncoded && between.isBlank())) {
                sb.append(between);
            }
            String decoded = decodeWord(m.group(1), m.group(2), m.group(3));
            sb.append(decoded == null ? m.group() : decoded);
            last = m.end();
            previousWasEncoded = decoded != null;
        }
        sb.append(s.substring(last));
        return sb.toString();
    }

    private static String decodeWord(String charsetName, String encoding, String text) {
        try {
            Charset charset = Charset.forName(charsetName.replaceAll("\\*.*$", ""));
            byte[] bytes;
            if (encoding.equalsIgnoreCase("B")) {
                bytes = Base64.getMimeDecoder().decode(text);
            } else {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                for (int i = 0; i < text.length(); i++) {
                    char c = text.charAt(i);
                    if (c == '_') {
                        out.write(' ');
                    } else if (c == '=' && i + 2 < text.length()) {
                        out.write(Integer.parseInt(text.substring(i + 1, i + 3), 16));
                        i += 2;
                    } else {
                        out.write(c);
                    }
                }
                bytes = out.toByteArray();
            }
            return new String(bytes, charset);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String trimToNull(String s) {
        if (s == null) {
            return null;
        }
        String t = s.trim();
        return t.isEmpty() ? null : t;
    }
}

package dev.mailintake.testsupport;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.message.DefaultBodyDescriptorBuilder;
import org.apache.james.mime4j.message.MaximalBodyDescriptor;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;

/** The few MIME facts the fake needs, found by a cheap textual scan (no full MIME parser). */
record MimeSummary(String messageId, String subject, String fromName, String fromAddress, Instant sentDateTime,
                   boolean hasAttachments) {

    private static final int MAX_HEADER_BYTES = 256 * 1024;
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?\\s]+)\\?([BbQq])\\?([^?\\s]*)\\?=");
    private static final Pattern NAME_ADDR = Pattern.compile("^(.*?)<([^>]*)>.*$", Pattern.DOTALL);

    static MimeSummary of(byte[] mime) {
        try {
            Map<String, String> headers = headers(head(mime));
            boolean attachments = scanForAttachment(new ByteArrayInputStream(mime));
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
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            attachments = scanForAttachment(in);
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

    /**
     * Graph's {@code hasAttachments}: "doesn't include inline attachments, so if a message contains only inline
     * attachments, this property is false" (message resource, v1.0). Exchange turns every MIME leaf that is not body
     * text into an attachment; the fake counts one as <em>inline</em> (not counted) when it is an {@code image/*} with
     * disposition {@code inline} or a Content-ID (a picture shown in the HTML body), or a nameless part with a
     * Content-ID or disposition {@code inline}. Everything else counts: disposition {@code attachment}; an attached
     * message ({@code message/rfc822}, an itemAttachment; not entered); a named part (also Apple Mail's
     * {@code inline; filename=scan.pdf}, which Outlook lists as an attachment); a bare non-text part (a scanner's
     * PDF, ATT00001.bin); S/MIME signatures (Exchange keeps a signed message as one attachment).
     */
    private static boolean scanForAttachment(InputStream in) throws IOException {
        MimeTokenStream stream = new MimeTokenStream(MimeConfig.PERMISSIVE, new DefaultBodyDescriptorBuilder());
        stream.setRecursionMode(RecursionMode.M_NO_RECURSE);
        try {
            stream.parse(in);
            for (EntityState state = stream.getState(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
                if (state == EntityState.T_BODY && countsAsAttachment((MaximalBodyDescriptor) stream.getBodyDescriptor())) {
                    return true;
                }
            }
            return false;
        } catch (MimeException e) {
            return false; // what the fake cannot parse, it reports as it would a plain text message
        }
    }

    private static boolean countsAsAttachment(MaximalBodyDescriptor d) {
        String type = d.getMimeType() == null ? "text/plain" : d.getMimeType().toLowerCase(Locale.ROOT);
        String disposition = d.getContentDispositionType() == null ? "" : d.getContentDispositionType()
                .toLowerCase(Locale.ROOT);
        String name = d.getContentDispositionFilename() != null ? d.getContentDispositionFilename()
                : d.getContentTypeParameters().get("name");
        boolean inlineMarked = disposition.equals("inline") || d.getContentId() != null;
        if (type.startsWith("multipart/")) {
            return false;
        }
        if (disposition.equals("attachment") || type.equals("message/rfc822") || type.equals("message/global")) {
            return true;
        }
        if (name != null) {
            return !(inlineMarked && type.startsWith("image/"));
        }
        if (inlineMarked) {
            return false;
        }
        return !type.startsWith("text/") || type.equals("text/calendar");
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

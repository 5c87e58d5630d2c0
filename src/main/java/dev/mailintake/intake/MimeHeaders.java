package dev.mailintake.intake;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.dom.address.Address;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Group;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.field.address.LenientAddressParser;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.ParserCursor;
import org.apache.james.mime4j.util.ByteSequence;
import org.apache.james.mime4j.util.ContentUtil;

/** Decoding of header values: unstructured text, address lists and parameters (RFC 2045, 2047, 2231). */
final class MimeHeaders {
    private static final Charset FALLBACK_8BIT = fallback8BitCharset();

    private MimeHeaders() {
    }

    /** A structured header value such as a Content-Type or Content-Disposition: {@code value; name=param; ...}. */
    record Structured(String value, List<Param> params) {
        Structured {
            params = List.copyOf(params);
        }

        /**
         * The decoded value of parameter {@code name}: RFC 2231 ({@code name*}, {@code name*0}, {@code name*0*}, ...)
         * takes precedence over the plain {@code name}, which is RFC 2047-decoded. {@code null} when absent or blank.
         */
        String decodedParam(String name) {
            String key = name.toLowerCase(Locale.ROOT);
            String extended = rfc2231(key);
            String result = extended != null ? extended : plain(key);
            return result == null || result.isBlank() ? null : result;
        }

        private String plain(String key) {
            for (Param p : params) {
                if (p.name().equals(key)) {
                    return decodeEncodedWords(p.value());
                }
            }
            return null;
        }

        private String rfc2231(String key) {
            String single = null;
            Map<Integer, Section> sections = new TreeMap<>();
            for (Param p : params) {
                String n = p.name();
                if (!n.startsWith(key + "*")) {
                    continue;
                }
                String rest = n.substring(key.length() + 1);
                if (rest.isEmpty()) {
                    if (single == null) {
                        single = p.value();
                    }
                    continue;
                }
                boolean encoded = rest.endsWith("*");
                String digits = encoded ? rest.substring(0, rest.length() - 1) : rest;
                if (digits.isEmpty() || digits.length() > 3 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    continue;
                }
                sections.putIfAbsent(Integer.parseInt(digits), new Section(encoded, p.value()));
            }
            if (single != null) {
                return decodeExtendedValue(single);
            }
            if (sections.isEmpty() || !sections.containsKey(0)) {
                return null;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Charset charset = null;
            int expected = 0;
            for (Map.Entry<Integer, Section> section : sections.entrySet()) {
                if (section.getKey() != expected) {
                    break; // a gap ends the value (RFC 2231 section 3)
                }
                expected++;
                boolean encoded = section.getValue().encoded();
                String value = section.getValue().value();
                if (section.getKey() == 0 && encoded) {
                    int first = value.indexOf('\'');
                    int second = first < 0 ? -1 : value.indexOf('\'', first + 1);
                    if (second >= 0) {
                        charset = charset(value.substring(0, first));
                        value = value.substring(second + 1);
                    }
                }
                if (encoded) {
                    percentDecode(value, bytes);
                } else {
                    byte[] literal = value.getBytes(charset != null ? charset : StandardCharsets.UTF_8);
                    bytes.write(literal, 0, literal.length);
                }
            }
            return decodeBytes(bytes.toByteArray(), charset);
        }

        /** {@code charset'language'percent-encoded}; without the two quotes the whole value is percent-decoded. */
        private static String decodeExtendedValue(String value) {
            String v = value;
            Charset charset = null;
            int first = v.indexOf('\'');
            int second = first < 0 ? -1 : v.indexOf('\'', first + 1);
            if (second >= 0) {
                charset = charset(v.substring(0, first));
                v = v.substring(second + 1);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            percentDecode(v, bytes);
            return decodeBytes(bytes.toByteArray(), charset);
        }
    }

    private record Section(boolean encoded, String value) {
    }

    /** One parameter; the name is lower-case, the value unquoted. */
    record Param(String name, String value) {
    }

    /** Parses {@code value; a=b; c="quoted; value"} leniently. The value is lower-cased and trimmed. */
    static Structured parseStructured(String body) {
        if (body == null) {
            return new Structured("", List.of());
        }
        int semicolon = body.indexOf(';');
        String value = (semicolon < 0 ? body : body.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        List<Param> params = new ArrayList<>();
        int i = semicolon < 0 ? body.length() : semicolon + 1;
        int n = body.length();
        while (i < n) {
            while (i < n && (Character.isWhitespace(body.charAt(i)) || body.charAt(i) == ';')) {
                i++;
            }
            int nameStart = i;
            while (i < n && body.charAt(i) != '=' && body.charAt(i) != ';') {
                i++;
            }
            String name = body.substring(nameStart, i).trim().toLowerCase(Locale.ROOT);
            if (i >= n || body.charAt(i) == ';') {
                continue; // parameter without value: ignore
            }
            i++; // '='
            while (i < n && Character.isWhitespace(body.charAt(i))) {
                i++;
            }
            StringBuilder v = new StringBuilder();
            if (i < n && body.charAt(i) == '"') {
                i++;
                while (i < n && body.charAt(i) != '"') {
                    char c = body.charAt(i);
                    // Only \" and \\ are unescaped: senders often leave Windows paths unescaped (C:\dir\file).
                    if (c == '\\' && i + 1 < n && (body.charAt(i + 1) == '"' || body.charAt(i + 1) == '\\')) {
                        v.append(body.charAt(i + 1));
                        i += 2;
                    } else {
                        v.append(c);
                        i++;
                    }
                }
                i++; // closing quote (or end)
                while (i < n && body.charAt(i) != ';') {
                    i++; // ignore anything between the closing quote and the next ';'
                }
            } else {
                int valueStart = i;
                while (i < n && body.charAt(i) != ';') {
                    i++;
                }
                v.append(body, valueStart, i);
                int len = v.length();
                while (len > 0 && Character.isWhitespace(v.charAt(len - 1))) {
                    len--;
                }
                v.setLength(len);
            }
            if (!name.isEmpty()) {
                params.add(new Param(name, v.toString()));
            }
        }
        return new Structured(value, params);
    }

    /** Decodes RFC 2047 encoded words; never throws (returns the input when decoding fails). */
    static String decodeEncodedWords(String text) {
        if (text == null || !text.contains("=?")) {
            return text;
        }
        try {
            return DecoderUtil.decodeEncodedWords(text, DecodeMonitor.SILENT);
        } catch (RuntimeException e) {
            return text;
        }
    }

    /**
     * The unfolded value of a header field, with raw 8-bit bytes read as UTF-8 or, when not valid UTF-8, as
     * windows-1252 (mime4j alone turns raw Latin-1 bytes into U+FFFD).
     */
    static String value(Field field) {
        String body = field.getBody();
        if (body == null) {
            return "";
        }
        if (body.indexOf('\uFFFD') >= 0) {
            ByteSequence raw = field.getRaw();
            if (raw != null) {
                String decoded = decodeBytes(raw.toByteArray(), null);
                int colon = decoded.indexOf(':');
                if (colon >= 0) {
                    body = decoded.substring(colon + 1).replace("\r\n", "").replace("\n", "").replace("\r", "");
                }
            }
        }
        return body.strip();
    }

    /**
     * Parses an address list leniently into display strings such as {@code Jörg Müller <joerg@example.com>}. Group
     * members are listed individually; an empty group yields nothing. A value that yields no address at all (and is
     * not a group) is returned as its RFC 2047-decoded self.
     */
    static List<String> addresses(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        try {
            // Parse from UTF-8 bytes with a byte-length cursor: parseAddressList(CharSequence) truncates values that
            // contain non-ASCII characters in mime4j 0.8.14.
            ByteSequence bytes = ContentUtil.encode(StandardCharsets.UTF_8, value);
            AddressList list = LenientAddressParser.DEFAULT.parseAddressList(bytes, new ParserCursor(0, bytes.length()));
            List<String> out = new ArrayList<>();
            boolean group = false;
            for (Address address : list) {
                if (address instanceof Group g) {
                    group = true;
                    g.getMailboxes().forEach(m -> addMailbox(m, out));
                } else if (address instanceof Mailbox m) {
                    addMailbox(m, out);
                }
            }
            if (out.isEmpty() && !group) {
                return List.of(decodeEncodedWords(value));
            }
            return List.copyOf(out);
        } catch (RuntimeException e) {
            return List.of(decodeEncodedWords(value));
        }
    }

    private static void addMailbox(Mailbox mailbox, List<String> out) {
        String address = mailbox.getAddress();
        if (address == null || address.isBlank()) {
            return;
        }
        if (mailbox.getDomain() == null) {
            // not an address (e.g. "undisclosed recipients"): keep the text as sent, decoded
            String name = mailbox.getName();
            out.add(decodeEncodedWords(name == null || name.isBlank() ? address : name + " <" + address + '>'));
            return;
        }
        String name = mailbox.getName();
        if (name == null || name.isBlank()) {
            out.add(address);
        } else if (needsQuoting(name)) {
            out.add('"' + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\" <" + address + '>');
        } else {
            out.add(name + " <" + address + '>');
        }
    }

    private static boolean needsQuoting(String name) {
        for (int i = 0; i < name.length(); i++) {
            if ("()<>[]:;@\\,\"".indexOf(name.charAt(i)) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static void percentDecode(String value, ByteArrayOutputStream out) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 2 < value.length() && hex(value.charAt(i + 1)) >= 0 && hex(value.charAt(i + 2)) >= 0) {
                out.write(hex(value.charAt(i + 1)) * 16 + hex(value.charAt(i + 2)));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    private static Charset charset(String name) {
        try {
            return name.isBlank() ? null : Charset.forName(name.trim());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Decodes with {@code charset}; without one, as UTF-8 when valid, else as windows-1252. */
    static String decodeBytes(byte[] bytes, Charset charset) {
        if (charset != null) {
            return new String(bytes, charset);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, FALLBACK_8BIT);
        }
    }

    private static Charset fallback8BitCharset() {
        try {
            return Charset.forName("windows-1252");
        } catch (RuntimeException e) {
            return StandardCharsets.ISO_8859_1;
        }
    }
}

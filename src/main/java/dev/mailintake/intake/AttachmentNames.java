package dev.mailintake.intake;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Allocates safe, unique file names for the attachments of <em>one</em> message. Create a new instance per message:
 * the instance remembers the names it handed out so that collisions (compared case-insensitively) are numbered
 * {@code name (2).ext}, {@code name (3).ext}, ...
 *
 * <p>A name returned by {@link #allocate} is never empty, {@code .} or {@code ..}; contains no path separator, no
 * control or bidi/format character and none of {@code < > : " | ? *}; does not start or end with a space or dot; is not
 * a Windows device name; is in Unicode NFC; and its UTF-8 encoding is at most {@code maxBytes} long.
 *
 * <p>Not thread-safe; one instance serves one message on one thread.
 */
public final class AttachmentNames {
    /** Default bound on the UTF-8 byte length of an allocated name. */
    public static final int DEFAULT_MAX_BYTES = 120;
    /** Smallest accepted bound: room for {@code attachment.bin}-like names and a collision suffix. */
    static final int MIN_MAX_BYTES = 16;
    /** Longest extension (without the dot, in chars) that is kept when a name is shortened. */
    static final int MAX_EXTENSION_CHARS = 16;

    private static final String FALLBACK_STEM = "attachment";
    private static final Pattern DEVICE_NAME =
            Pattern.compile("(?i)(CON|PRN|AUX|NUL|CLOCK\\$|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])");
    private static final Map<String, String> EXTENSIONS = Map.ofEntries(
            Map.entry("application/pdf", "pdf"),
            Map.entry("application/x-pdf", "pdf"),
            Map.entry("image/tiff", "tif"),
            Map.entry("image/tif", "tif"),
            Map.entry("image/x-tiff", "tif"),
            Map.entry("image/jpeg", "jpg"),
            Map.entry("image/jpg", "jpg"),
            Map.entry("image/pjpeg", "jpg"),
            Map.entry("image/png", "png"),
            Map.entry("image/gif", "gif"),
            Map.entry("text/plain", "txt"),
            Map.entry("text/html", "html"),
            Map.entry("text/xml", "xml"),
            Map.entry("application/xml", "xml"),
            Map.entry("application/zip", "zip"),
            Map.entry("application/x-zip-compressed", "zip"),
            Map.entry("message/rfc822", "eml"));

    private final int maxBytes;
    private final Set<String> used = new HashSet<>();

    public AttachmentNames() {
        this(DEFAULT_MAX_BYTES);
    }

    /** @param maxBytes bound on the UTF-8 byte length of every allocated name, at least {@value #MIN_MAX_BYTES} */
    public AttachmentNames(int maxBytes) {
        if (maxBytes < MIN_MAX_BYTES) {
            throw new IllegalArgumentException("maxBytes must be at least " + MIN_MAX_BYTES + ": " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /**
     * Returns a safe file name for an attachment, unique (case-insensitively) among the names this instance returned.
     *
     * @param originalName the decoded name from the message, may be {@code null} or hostile
     * @param contentType  the attachment's MIME type, used to guess an extension when there is no usable name; may be
     *                     {@code null}
     */
    public String allocate(String originalName, String contentType) {
        String name = sanitize(originalName);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            name = FALLBACK_STEM + "." + extensionFor(contentType);
        }
        if (isDeviceName(name)) {
            name = "_" + name;
        }
        Split split = split(name);
        String bounded = bound(split.stem(), split.ext(), "");
        if (isDeviceName(bounded)) { // only possible when shortening cut the stem down to a device name
            bounded = bound("_" + split.stem(), split.ext(), "");
        }
        if (used.add(key(bounded))) {
            return bounded;
        }
        for (int n = 2; ; n++) {
            String candidate = bound(split.stem(), split.ext(), " (" + n + ")");
            if (used.add(key(candidate))) {
                return candidate;
            }
        }
    }

    /**
     * Resolves {@code safeName} against {@code dir} and checks that the normalized result lies strictly inside
     * {@code dir} (defence in depth: names from {@link #allocate} always do).
     *
     * @throws IllegalArgumentException if the name is empty, not a valid path, or resolves outside or onto {@code dir}
     */
    public static Path resolveInside(Path dir, String safeName) {
        if (safeName == null || safeName.isEmpty()) {
            throw new IllegalArgumentException("empty attachment file name");
        }
        Path base = dir.toAbsolutePath().normalize();
        Path resolved = base.resolve(safeName).normalize(); // InvalidPathException is an IllegalArgumentException
        if (!resolved.startsWith(base) || resolved.equals(base)) {
            throw new IllegalArgumentException("attachment file name escapes the attachments directory");
        }
        return resolved;
    }

    /** Guesses a file extension (without dot) for a MIME type; {@code bin} when unknown. */
    static String extensionFor(String contentType) {
        if (contentType == null) {
            return "bin";
        }
        String type = contentType;
        int semicolon = type.indexOf(';');
        if (semicolon >= 0) {
            type = type.substring(0, semicolon);
        }
        return EXTENSIONS.getOrDefault(type.trim().toLowerCase(Locale.ROOT), "bin");
    }

    /** Applies the character rules; the result may be empty. */
    static String sanitize(String originalName) {
        if (originalName == null) {
            return "";
        }
        String s = Normalizer.normalize(originalName, Normalizer.Form.NFC);
        int cut = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
        if (cut >= 0) {
            s = s.substring(cut + 1);
        }
        StringBuilder out = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isDropped(cp)) {
                continue;
            }
            if (isSpace(cp)) {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace) {
                out.append(' ');
                pendingSpace = false;
            }
            out.appendCodePoint(isReplaced(cp) ? '_' : cp);
        }
        return stripSpacesAndDots(out.toString());
    }

    private static boolean isDropped(int cp) {
        return cp < 0x20                                  // C0 controls
                || (cp >= 0x7F && cp <= 0x9F)             // DEL and C1 controls
                || cp == 0x061C                           // Arabic letter mark
                || cp == 0x200E || cp == 0x200F           // LRM, RLM
                || (cp >= 0x202A && cp <= 0x202E)         // LRE, RLE, PDF, LRO, RLO
                || (cp >= 0x2066 && cp <= 0x2069)         // LRI, RLI, FSI, PDI
                || cp == 0xFEFF                           // BOM / zero width no-break space
                || cp == 0xFFFE || cp == 0xFFFF           // non-characters
                || Character.getType(cp) == Character.SURROGATE; // unpaired surrogate (unencodable)
    }

    private static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp);
    }

    private static boolean isReplaced(int cp) {
        return cp == '<' || cp == '>' || cp == ':' || cp == '"' || cp == '|' || cp == '?' || cp == '*';
    }

    private static String stripSpacesAndDots(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '.')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '.')) {
            end--;
        }
        return s.substring(start, end);
    }

    /** Windows reserves device names with any extension: {@code CON}, {@code con.txt}, {@code Con.tar.gz}. */
    static boolean isDeviceName(String name) {
        int dot = name.indexOf('.');
        String base = (dot >= 0 ? name.substring(0, dot) : name).stripTrailing();
        return DEVICE_NAME.matcher(base).matches();
    }

    private record Split(String stem, String ext) {
    }

    /** Splits off an extension (including its dot) of 1..16 chars without spaces; the stem is never empty. */
    private static Split split(String name) {
        int dot = name.lastIndexOf('.');
        if (dot <= 0) {
            return new Split(name, "");
        }
        String ext = name.substring(dot + 1);
        if (ext.isEmpty() || ext.codePointCount(0, ext.length()) > MAX_EXTENSION_CHARS || ext.indexOf(' ') >= 0) {
            return new Split(name, "");
        }
        return new Split(name.substring(0, dot), name.substring(dot));
    }

    /** Builds {@code stem + suffix + ext} within {@code maxBytes}, shortening the stem (or dropping the extension). */
    private String bound(String stem, String ext, String suffix) {
        int fixed = utf8Length(ext) + utf8Length(suffix);
        if (maxBytes - fixed < 1) {
            // The extension leaves no room for the stem: keep the whole name, shortened, and append the suffix.
            fixed = utf8Length(suffix);
            stem = stem + ext;
            ext = "";
        }
        String shortened = truncateUtf8(stem, maxBytes - fixed);
        if (shortened.length() < stem.length()) {
            shortened = stripSpacesAndDots(shortened);
            if (shortened.isEmpty()) {
                shortened = "_";
            }
        } else if (!suffix.isEmpty()) {
            shortened = shortened.stripTrailing();
        }
        return shortened + suffix + ext;
    }

    /** The longest prefix of {@code s} whose UTF-8 encoding fits {@code budget} bytes, never splitting a code point. */
    static String truncateUtf8(String s, int budget) {
        int bytes = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            int len = utf8Length(cp);
            if (bytes + len > budget) {
                break;
            }
            bytes += len;
            i += Character.charCount(cp);
        }
        return s.substring(0, i);
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static int utf8Length(int cp) {
        if (cp < 0x80) {
            return 1;
        } else if (cp < 0x800) {
            return 2;
        } else if (cp < 0x10000) {
            return 3;
        }
        return 4;
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }
}

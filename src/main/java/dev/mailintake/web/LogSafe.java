package dev.mailintake.web;

/**
 * A value that came with a request, made safe for one log line: control characters (CR, LF, tab, the other C0 and
 * C1 codes, DEL), the Unicode line and paragraph separators and the bidirectional overrides become visible escapes
 * ({@code \r}, {@code \n}, {@code \u2028}), and the text is cut at {@link #MAX} characters. Every request value that
 * reaches a log line goes through {@link #of}.
 */
public final class LogSafe {
    /** Longest text kept from one value. */
    public static final int MAX = 200;

    private LogSafe() {
    }

    public static String of(Object value) {
        if (value == null) {
            return "(none)";
        }
        String s = value.toString();
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX) + 16);
        int i = 0;
        for (; i < s.length() && i < MAX; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                            || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (i < s.length()) {
            out.append("…(").append(s.length() - i).append(" more characters)");
        }
        return out.toString();
    }
}

package dev.mailintake.web;

/** Small, escaped HTML pages for the admin routes. */
public final class Html {
    private Html() {
    }

    public static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** A page; {@code title} and {@code message} are escaped here. */
    public static String page(String title, String message) {
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + " – Mail Intake</title><meta name=\"viewport\" content=\"width=device-width\"></head>"
                + "<body><main><h1>" + escape(title) + "</h1><p>" + escape(message) + "</p></main></body></html>";
    }
}

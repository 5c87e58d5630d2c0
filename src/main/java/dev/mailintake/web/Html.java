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
        return document(title, "<p>" + escape(message) + "</p>");
    }

    /** A page around {@code bodyHtml}, which the caller has escaped; {@code title} is escaped here. */
    public static String document(String title, String bodyHtml) {
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + " – Mail Intake</title><meta name=\"viewport\" content=\"width=device-width\"><style>"
                + ".bad{color:#a00;font-weight:600}.ok{color:#060}</style></head>"
                + "<body><main><h1>" + escape(title) + "</h1>" + bodyHtml + "</main></body></html>";
    }

    /** An HTML answer with the admin pages' headers (no caching, a strict CSP, no framing, no referrer). */
    public static void respond(org.apache.camel.Message out, int status, String html) {
        out.removeHeaders("*");
        out.setHeader(org.apache.camel.Exchange.HTTP_RESPONSE_CODE, status);
        out.setHeader(org.apache.camel.Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        out.setHeader("Cache-Control", "no-store");
        out.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
        out.setHeader("X-Content-Type-Options", "nosniff");
        out.setHeader("X-Frame-Options", "DENY");
        out.setHeader("Referrer-Policy", "no-referrer");
        out.setBody(html);
    }
}

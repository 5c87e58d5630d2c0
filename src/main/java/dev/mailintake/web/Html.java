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
        respond(out, status, html, AdminOrigins.csp());
    }

    /** The same with another CSP (a page whose form sends the browser on to a provider). */
    public static void respond(org.apache.camel.Message out, int status, String html, String csp) {
        out.removeHeaders("*");
        out.setHeader(org.apache.camel.Exchange.HTTP_RESPONSE_CODE, status);
        out.setHeader(org.apache.camel.Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        securityHeaders(out, csp);
        out.setBody(html);
    }

    /** A redirect (302, 303) with the admin pages' headers; {@code location} may be relative. */
    public static void redirect(org.apache.camel.Message out, int status, String location) {
        out.removeHeaders("*");
        out.setHeader(org.apache.camel.Exchange.HTTP_RESPONSE_CODE, status);
        out.setHeader("Location", location);
        out.setHeader(org.apache.camel.Exchange.CONTENT_TYPE, "text/plain; charset=utf-8");
        securityHeaders(out, AdminOrigins.csp());
        out.setBody("");
    }

    /**
     * Headers every admin answer carries. The referrer goes to our own origin only: browsers then send the real
     * {@code Origin} with our forms (with {@code no-referrer} they send {@code Origin: null}), which the server checks.
     */
    private static void securityHeaders(org.apache.camel.Message out, String csp) {
        out.setHeader("Cache-Control", "no-store"); // dropped by Camel's header filter; AdminHttpBinding sets it
        out.setHeader("Content-Security-Policy", csp);
        out.setHeader("X-Content-Type-Options", "nosniff");
        out.setHeader("X-Frame-Options", "DENY");
        out.setHeader("Referrer-Policy", "same-origin");
    }
}

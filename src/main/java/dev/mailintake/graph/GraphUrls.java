package dev.mailintake.graph;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Builds Graph URLs. */
final class GraphUrls {
    private GraphUrls() {
    }

    /** Percent-encodes one path segment (ids may contain '=', '+', '/'). */
    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String user(String graphBase, String address) {
        String base = graphBase.endsWith("/") ? graphBase.substring(0, graphBase.length() - 1) : graphBase;
        return base + "/users/" + segment(address);
    }
}

package dev.mailintake.web;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.Cookie;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.undertow.DefaultUndertowHttpBinding;

/**
 * Camel's Undertow binding plus the {@link AdminRequest} read from the request itself (not from Camel's headers, which
 * query and form parameters can add to), and the admin pages' protective headers on every answer, whichever code
 * built it ({@code Cache-Control} must be set here: Camel's header filter drops it from message headers). Used by
 * every admin route ({@code undertowHttpBinding=#adminHttpBinding}).
 */
public final class AdminHttpBinding extends DefaultUndertowHttpBinding {
    @Override
    public Message toCamelMessage(HttpServerExchange http, Exchange exchange) throws Exception {
        Message message = super.toCamelMessage(http, exchange);
        Map<String, String> cookies = new HashMap<>();
        for (Cookie c : http.requestCookies()) {
            cookies.putIfAbsent(c.getName(), c.getValue());
        }
        exchange.setProperty(AdminRequest.PROPERTY, new AdminRequest(http.getRequestMethod().toString(), http.getRequestPath(),
                single(http, Headers.HOST).filter(h -> !h.equals("(repeated)")).orElse(null), single(http, Headers.ORIGIN), single(http, Headers.REFERER),
                cookies));
        return message;
    }

    @Override
    public Object toHttpResponse(HttpServerExchange http, Message message) throws java.io.IOException {
        Object body = super.toHttpResponse(http, message);
        HeaderMap headers = http.getResponseHeaders();
        headers.put(Headers.CACHE_CONTROL, "no-store");
        putIfAbsent(headers, "Content-Security-Policy", AdminOrigins.csp());
        putIfAbsent(headers, "X-Frame-Options", "DENY");
        putIfAbsent(headers, "X-Content-Type-Options", "nosniff");
        putIfAbsent(headers, "Referrer-Policy", "same-origin");
        return body;
    }

    private static void putIfAbsent(HeaderMap headers, String name, String value) {
        HttpString n = new HttpString(name);
        if (!headers.contains(n)) {
            headers.put(n, value);
        }
    }

    private static Optional<String> single(HttpServerExchange http, HttpString name) {
        HeaderValues values = http.getRequestHeaders().get(name);
        if (values == null || values.isEmpty()) {
            return Optional.empty();
        }
        // a repeated header is no one value: it matches nothing that is allowed
        return Optional.of(values.size() == 1 ? values.getFirst() : "(repeated)");
    }
}

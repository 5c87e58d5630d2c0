package dev.mailintake.web;

import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;

/**
 * What the admin server's checks need from a request, read from Undertow's request itself by
 * {@link AdminHttpBinding} and kept as an exchange property: query and form parameters become Camel headers of any
 * name ({@code ?Host=localhost} or a form field {@code Cookie}), so these values are never read from the headers.
 *
 * @param path    the request's path (without the query)
 * @param host    the one {@code Host} header (null if missing or repeated)
 * @param origin  the {@code Origin} header, if any
 * @param referer the {@code Referer} header, if any
 * @param cookies the request's cookies by name
 */
public record AdminRequest(String method, String path, String host, Optional<String> origin, Optional<String> referer,
                           Map<String, String> cookies) {
    public static final String PROPERTY = "MailIntakeAdminRequest";

    public AdminRequest {
        cookies = Map.copyOf(cookies);
    }

    public static Optional<AdminRequest> of(Exchange exchange) {
        return Optional.ofNullable(exchange.getProperty(PROPERTY, AdminRequest.class));
    }

    /** Not GET or HEAD: changes something, so it must come from our own pages. */
    public boolean changesState() {
        return !"GET".equalsIgnoreCase(method) && !"HEAD".equalsIgnoreCase(method);
    }
}

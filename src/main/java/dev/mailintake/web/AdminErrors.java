package dev.mailintake.web;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin routes' answer to an unexpected exception (routeConfiguration {@code admin-errors}): a short 500 page
 * without any detail, and the detail logged once, escaped (the exception, its causes and where it was thrown).
 */
public final class AdminErrors {
    private static final Logger LOG = LoggerFactory.getLogger(AdminErrors.class);

    public void failed(Exchange exchange) {
        Throwable e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        Optional<AdminRequest> request = AdminRequest.of(exchange);
        LOG.error("admin request {} {} failed: {}", LogSafe.of(request.map(AdminRequest::method).orElse(null)),
                LogSafe.of(request.map(AdminRequest::path).orElse(null)), detail(e));
        Html.respond(exchange.getMessage(), 500, Html.page("Something went wrong",
                "Mail Intake could not answer this request. The log says why; try again later."));
    }

    private static String detail(Throwable e) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = e; t != null && parts.size() < 5; t = t.getCause() == t ? null : t.getCause()) {
            StackTraceElement at = t.getStackTrace().length == 0 ? null : t.getStackTrace()[0];
            parts.add(LogSafe.of(t.getClass().getName() + ": " + t.getMessage())
                    + (at == null ? "" : " (at " + at + ")"));
        }
        return parts.isEmpty() ? "(no exception)" : String.join("; caused by ", parts);
    }
}

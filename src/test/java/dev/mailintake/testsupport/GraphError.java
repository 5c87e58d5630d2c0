package dev.mailintake.testsupport;

import java.util.LinkedHashMap;
import java.util.Map;

/** A Graph error response, thrown inside the fake's handlers and rendered as {@code {"error":{...}}}. */
final class GraphError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;
    final String code;
    final transient Map<String, String> headers = new LinkedHashMap<>();

    GraphError(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    GraphError header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    static GraphError itemNotFound() {
        return new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
    }

    static GraphError malformedId() {
        return new GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.");
    }

    static GraphError invalidUser(String address) {
        return new GraphError(404, "ErrorInvalidUser", "The requested user '" + address + "' is invalid.");
    }

    static GraphError badRequest(String message) {
        return new GraphError(400, "BadRequest", message);
    }

    static GraphError unknownProperty(String property, String type) {
        return new GraphError(400, "RequestBroker--ParseUri",
                "Could not find a property named '" + property + "' on type 'microsoft.graph." + type + "'.");
    }
}

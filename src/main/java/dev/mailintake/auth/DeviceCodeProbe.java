package dev.mailintake.auth;

import dev.mailintake.config.ConnectionConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * Names the cause when the device code flow fails before a code could be shown: msal4j reports an authority without
 * a device code endpoint as an unreadable answer (or a NullPointerException), so the endpoint is asked once more,
 * plainly, for its HTTP status. Nothing is retried.
 */
final class DeviceCodeProbe {
    private DeviceCodeProbe() {
    }

    /** The failure explained if the endpoint is missing (HTTP 404 or 405), else {@code failure} as it was. */
    static TokenException explain(ConnectionConfig connection, String scope, TokenException failure) {
        URI endpoint = URI.create(connection.authority() + "oauth2/v2.0/devicecode");
        String form = TokenRequests.form(Map.of("client_id", connection.clientId(), "scope", scope));
        int status;
        try {
            status = TokenRequests.client(connection).send(HttpRequest.newBuilder(endpoint)
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return failure;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failure;
        }
        if (status != 404 && status != 405) {
            return failure;
        }
        String key = "mailintake.connections." + connection.name() + ".";
        return new TokenException(connection.name(), TokenException.Kind.ADMIN_MUST_FIX, "the authority has no device"
                + " code endpoint (HTTP " + status + " from " + endpoint + "); check " + key + "authority-host and "
                + key + "tenant-id, or use flow=delegated", failure);
    }
}

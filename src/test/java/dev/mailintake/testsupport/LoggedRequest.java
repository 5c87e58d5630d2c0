package dev.mailintake.testsupport;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One request received by a {@link GraphFake} (Graph or token server). Never contains the Authorization header
 * or a client secret.
 *
 * @param sequence     arrival number, unique per fake
 * @param at           arrival time (handler entry)
 * @param completedAt  time the response was completed, or {@code null} while the request is still in flight
 * @param method       HTTP method
 * @param path         percent-decoded path, e.g. {@code /v1.0/users/a@b.example/messages/AAMk.../$value}
 * @param query        raw (still encoded) query string or {@code null}; on the token server, values of credential
 *                     parameters ({@code client_secret}, {@code code}, {@code refresh_token}, ...) are masked
 * @param prefer       the {@code Prefer} header value(s), comma-joined, or {@code null}
 * @param status       response status; 0 while in flight (or if no response could be written)
 * @param mailbox      lower-case mailbox address from {@code /users/{address}}, {@code null} for token requests
 * @param tokenRequest true for requests to the token (Entra) server
 * @param grantType    token requests: the {@code grant_type} parameter
 * @param clientId     token and authorize requests: the {@code client_id} parameter
 * @param fault        description of the injected fault that acted on this request, or {@code null}
 */
public record LoggedRequest(long sequence, Instant at, Instant completedAt, String method, String path, String query,
                            String prefer, int status, String mailbox, boolean tokenRequest, String grantType,
                            String clientId, String fault) {

    public boolean completed() {
        return completedAt != null;
    }

    public boolean faulted() {
        return fault != null;
    }

    /** True if the request carried {@code Prefer: IdType="ImmutableId"}. */
    public boolean prefersImmutableId() {
        return prefer != null && FakeHttp.prefersImmutableId(List.of(prefer));
    }

    /** Arrival to completion, or {@code null} while in flight. */
    public Duration duration() {
        return completedAt == null ? null : Duration.between(at, completedAt);
    }

    /** True for Graph requests whose path ends with {@code /$value}. */
    public boolean isMimeDownload() {
        return !tokenRequest && path != null && path.endsWith("/$value");
    }

    @Override
    public String toString() {
        return "#" + sequence + " " + method + " " + path + (query == null ? "" : "?" + query) + " -> " + status
                + (fault == null ? "" : " [fault: " + fault + "]");
    }
}

package dev.mailintake.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mailintake.auth.AccessToken;
import dev.mailintake.intake.MailboxFailure;
import dev.mailintake.intake.MailboxTokens;
import dev.mailintake.intake.TransientFailure;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.apache.camel.Message;
import org.apache.camel.Producer;
import org.apache.camel.support.UnitOfWorkHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls Microsoft Graph for one mailbox through a camel-http producer and Jackson. One place for everything Graph
 * asks of a client: {@code Prefer: IdType="ImmutableId"} on every request, the mailbox's {@link RequestGate}, retries
 * with backoff honouring {@code Retry-After} for 429/503/504 and network failures, and exactly one fresh token and
 * one retry after a 401.
 */
public final class GraphClient {
    private static final Logger LOG = LoggerFactory.getLogger(GraphClient.class);
    static final String PREFER_IMMUTABLE_IDS = "IdType=\"ImmutableId\"";

    /** Consumes a response body; an {@link IOException} while reading makes the whole request retry. */
    @FunctionalInterface
    public interface BodyReader<T> {
        T read(InputStream body) throws IOException;
    }

    /** Retry settings. */
    public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
        public static RetryPolicy defaults() {
            return new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(60));
        }
    }

    private final String mailbox;
    private final Endpoint http;
    private final Producer producer;
    private final MailboxTokens tokens;
    private final RequestGate gate;
    private final RetryPolicy retry;
    private final ObjectMapper json;
    private final Clock clock;
    private final RequestGate.Sleeper sleeper;

    public GraphClient(String mailbox, Endpoint http, MailboxTokens tokens, RequestGate gate,
                       RetryPolicy retry, ObjectMapper json, Clock clock, RequestGate.Sleeper sleeper) {
        this.mailbox = mailbox;
        this.http = http;
        this.tokens = tokens;
        this.gate = gate;
        this.retry = retry;
        this.json = json;
        this.clock = clock;
        this.sleeper = sleeper;
        try {
            this.producer = http.createProducer();
            this.producer.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the HTTP producer for Graph", e);
        }
    }

    /** The mailbox's gate (its slots and their use). */
    public RequestGate gate() {
        return gate;
    }

    public JsonNode get(String url) {
        return execute("GET", url, null, body -> json.readTree(body));
    }

    /** POST or PATCH with a JSON body; returns the JSON answer (or an empty node). */
    public JsonNode send(String method, String url, Object body) {
        return execute(method, url, payload(body), in -> {
            byte[] bytes = in == null ? new byte[0] : in.readAllBytes();
            return bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
        });
    }

    private String payload(Object body) {
        try {
            return json.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * POST or PATCH with a JSON body whose answer is not needed (a move, a PATCH of categories): the body is read to
     * its end, so the connection is reused, but not parsed.
     */
    public void sendIgnoringAnswer(String method, String url, Object body) {
        execute(method, url, payload(body), in -> {
            if (in != null) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return Boolean.TRUE;
        });
    }

    /** GET whose body is streamed to {@code reader}; a failure mid-body retries the whole download. */
    public <T> T download(String url, BodyReader<T> reader) {
        return execute("GET", url, null, reader);
    }

    private <T> T execute(String method, String url, String payload, BodyReader<T> reader) {
        boolean renewedToken = false;
        AccessToken token = tokens.token();
        for (int attempt = 1; ; attempt++) {
            Attempt<T> outcome = attempt(attempt, method, url, payload, reader, token, renewedToken);
            if (outcome instanceof Attempt.Success<T> success) {
                return success.value();
            }
            if (outcome instanceof Attempt.Unauthorized<T> unauthorized) {
                LOG.info("mailbox '{}': Graph answered 401 ({}); getting a fresh token and retrying once",
                        mailbox, unauthorized.code());
                token = tokens.renew(token);
                renewedToken = true;
                attempt--;
                continue;
            }
            // the attempt has given back its gate slot and its response: only now wait
            backOff(attempt, method, url, (Attempt.Retry<T>) outcome);
        }
    }

    /**
     * One request. It holds a slot of the mailbox's gate and the HTTP response only while it runs: both are released
     * before this returns, whatever the outcome, so a backoff never holds them.
     */
    private <T> Attempt<T> attempt(int attempt, String method, String url, String payload, BodyReader<T> reader,
                                   AccessToken token, boolean renewedToken) {
        // the request is built before a slot is taken: the slot is held only while Graph works on it
        Exchange exchange = http.createExchange();
        prepare(exchange, method, url, payload, token);
        try {
            gate.enter();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted while waiting to call Graph", e);
        }
        try {
            Response response = send(exchange);
            if (response.status() >= 200 && response.status() < 300) {
                try {
                    return new Attempt.Success<>(reader.read(response.body()));
                } catch (IOException e) {
                    return retry(attempt, "body interrupted: " + e.getMessage(), null, e);
                }
            }
            JsonNode error = errorBody(response.body());
            if (response.status() == 401) {
                if (renewedToken) {
                    throw new MailboxFailure("mailbox '" + mailbox + "': Graph refused a freshly issued token (401 "
                            + errorCode(error) + "); check that the app registration has the Mail.ReadWrite"
                            + " permission with admin consent for connection '" + tokens.connection() + "'");
                }
                return new Attempt.Unauthorized<>(errorCode(error));
            }
            if (response.status() == 429 || response.status() == 503 || response.status() == 504
                    || response.status() == 500 || response.status() == 502) {
                return retry(attempt, response.status() + " " + errorCode(error), response.retryAfter(), null);
            }
            if (response.status() == 403) {
                throw new MailboxFailure("mailbox '" + mailbox + "': access denied by Graph (403 " + errorCode(error)
                        + "); app-only: grant the app Mail.ReadWrite (application) with admin consent and check"
                        + " ApplicationAccessPolicy / RBAC for Applications; delegated: the signed-in user needs"
                        + " Full Access to this mailbox and Mail.ReadWrite.Shared must be consented");
            }
            if (response.status() == 404 && ("ErrorInvalidUser".equals(errorCode(error))
                    || "MailboxNotEnabledForRESTAPI".equals(errorCode(error))
                    || "ResourceNotFound".equals(errorCode(error)) && url.matches(".*/users/[^/]+$"))) {
                throw new MailboxFailure("mailbox '" + mailbox + "': Graph does not know this mailbox ("
                        + errorCode(error) + "); check the address and that it is an Exchange Online mailbox");
            }
            throw new GraphException(response.status(), errorCode(error), errorMessage(error));
        } catch (IOException e) {
            return retry(attempt, e.getClass().getSimpleName() + ": " + e.getMessage(), null, e);
        } finally {
            gate.leave();
            done(exchange);
        }
    }

    /**
     * A failed attempt to be retried after {@code retryAfter} or the backoff. The mailbox's gate is paused before
     * the slot is given back, so no other request of the mailbox slips in during a throttling pause.
     */
    private <T> Attempt<T> retry(int attempt, String what, Duration retryAfter, Throwable cause) {
        Duration wait = retryAfter != null ? retryAfter : backoff(attempt);
        if (attempt < retry.maxAttempts()) {
            gate.pauseUntil(clock.instant().plus(wait));
        }
        return new Attempt.Retry<>(what, wait, cause);
    }

    /** Gives up after the last attempt; else waits (holding nothing) before the next one. */
    private void backOff(int attempt, String method, String url, Attempt.Retry<?> failed) {
        if (attempt >= retry.maxAttempts()) {
            throw new TransientFailure("mailbox '" + mailbox + "': Graph " + method + " " + path(url) + " failed "
                    + attempt + " times, last: " + failed.what() + "; the next poll tries again",
                    failed.cause());
        }
        LOG.warn("mailbox '{}': Graph {} {} failed ({}), attempt {}/{}; retrying in {} ms", mailbox, method, path(url),
                failed.what(), attempt, retry.maxAttempts(), failed.delay().toMillis());
        try {
            sleeper.sleep(failed.delay());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted during backoff", e);
        }
    }

    private Duration backoff(int attempt) {
        long base = retry.initialBackoff().toMillis() << Math.min(attempt - 1, 16);
        long capped = Math.min(base, retry.maxBackoff().toMillis());
        long jitter = ThreadLocalRandom.current().nextLong(Math.max(1, capped / 4));
        return Duration.ofMillis(capped + jitter);
    }

    private static void prepare(Exchange exchange, String method, String url, String payload, AccessToken token) {
        Message in = exchange.getIn();
        in.setHeader(Exchange.HTTP_URI, url);
        // the enum camel-http reads (HttpMethodHelper): a String would go through the type converter's enum lookup,
        // a scan of the converter registry on every request
        in.setHeader(Exchange.HTTP_METHOD, HttpMethods.valueOf(method));
        in.setHeader("Authorization", "Bearer " + token.value());
        in.setHeader("Prefer", PREFER_IMMUTABLE_IDS);
        in.setHeader("Accept", "application/json");
        if (payload != null) {
            in.setHeader(Exchange.CONTENT_TYPE, "application/json");
            in.setBody(payload.getBytes(StandardCharsets.UTF_8));
        }
    }

    private Response send(Exchange exchange) throws IOException {
        try {
            producer.process(exchange);
        } catch (Exception e) {
            exchange.setException(e);
        }
        Exception failure = exchange.getException();
        if (failure != null) {
            if (failure instanceof IOException io) {
                throw io;
            }
            throw new IOException(failure.getMessage(), failure);
        }
        Message out = exchange.getMessage();
        Integer status = out.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        return new Response(status == null ? 0 : status, out.getBody(InputStream.class),
                retryAfter(out.getHeader("Retry-After", String.class)));
    }

    private Duration retryAfter(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
        } catch (NumberFormatException e) {
            try {
                Instant at = ZonedDateTime.parse(header.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(clock.instant(), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    private JsonNode errorBody(InputStream body) {
        if (body == null) {
            return json.createObjectNode();
        }
        try (InputStream in = body) {
            byte[] bytes = in.readNBytes(64 * 1024);
            return bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
        } catch (IOException | RuntimeException e) {
            return json.createObjectNode();
        }
    }

    private static String errorCode(JsonNode error) {
        return error.path("error").path("code").asText("");
    }

    private static String errorMessage(JsonNode error) {
        return error.path("error").path("message").asText("");
    }

    private void done(Exchange exchange) {
        // camel-http closes a non-cached response body when the exchange is done
        UnitOfWorkHelper.doneSynchronizations(exchange, exchange.getExchangeExtension().handoverCompletions());
    }

    /** The URL without query, for log lines. */
    static String path(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    private record Response(int status, InputStream body, Duration retryAfter) {
    }

    /** How one request ended, when it did not throw. */
    private sealed interface Attempt<T> {
        record Success<T>(T value) implements Attempt<T> {
        }

        /** A 401: get a fresh token and try once more. */
        record Unauthorized<T>(String code) implements Attempt<T> {
        }

        /** A transient failure: wait {@code delay}, then try again (or give up after the last attempt). */
        record Retry<T>(String what, Duration delay, Throwable cause) implements Attempt<T> {
        }
    }
}

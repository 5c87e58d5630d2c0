package dev.mailintake.testsupport;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** One request being handled by the fake: parsed request data plus response writing (latency, truncation). */
final class FakeExchange {

    /** A response body that can be written in full or cut off after {@code limit} bytes. */
    interface Body {
        long length();

        void writeTo(OutputStream out, long limit) throws IOException;

        static Body of(byte[] bytes) {
            return new Body() {
                @Override
                public long length() {
                    return bytes.length;
                }

                @Override
                public void writeTo(OutputStream out, long limit) throws IOException {
                    out.write(bytes, 0, (int) Math.min(limit, bytes.length));
                }
            };
        }

        /** Streams the file; never loads it into memory. */
        static Body of(Path file, long size) {
            return new Body() {
                @Override
                public long length() {
                    return size;
                }

                @Override
                public void writeTo(OutputStream out, long limit) throws IOException {
                    byte[] buffer = new byte[64 * 1024];
                    long left = Math.min(limit, size);
                    try (InputStream in = Files.newInputStream(file)) {
                        while (left > 0) {
                            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                            if (n < 0) {
                                throw new IOException("file " + file + " is shorter than " + size + " bytes");
                            }
                            out.write(buffer, 0, n);
                            left -= n;
                        }
                    }
                }
            };
        }
    }

    final HttpExchange http;
    final GraphFake.RequestEntry entry;
    final String method;
    final String rawPath;
    final List<String> segments;
    final String rawQuery;
    final List<Map.Entry<String, String>> query;
    final String requestId = UUID.randomUUID().toString();
    final String clientRequestId;
    final boolean immutableIds;
    final boolean malformedQuery;
    byte[] body = new byte[0];

    private Duration delay = Duration.ZERO;
    private boolean truncate;
    private boolean responded;

    FakeExchange(HttpExchange http, GraphFake.RequestEntry entry, List<String> segments) {
        this.http = http;
        this.entry = entry;
        this.method = http.getRequestMethod().toUpperCase(Locale.ROOT);
        this.rawPath = http.getRequestURI().getRawPath();
        this.segments = segments;
        this.rawQuery = http.getRequestURI().getRawQuery();
        List<Map.Entry<String, String>> parsed;
        boolean malformed = false;
        try {
            parsed = FakeHttp.parseQuery(rawQuery);
        } catch (IllegalArgumentException e) {
            parsed = List.of();
            malformed = true;
        }
        this.query = parsed;
        this.malformedQuery = malformed;
        String crid = http.getRequestHeaders().getFirst("client-request-id");
        this.clientRequestId = crid == null || crid.isBlank() ? requestId : crid;
        this.immutableIds = FakeHttp.prefersImmutableId(http.getRequestHeaders().get("Prefer"));
    }

    /** First value of a query option; {@code $top}, {@code top} and {@code %24top} are the same option. */
    String option(String name) {
        String wanted = FakeHttp.normalizeOption(name);
        for (Map.Entry<String, String> e : query) {
            if (FakeHttp.normalizeOption(e.getKey()).equals(wanted)) {
                return e.getValue();
            }
        }
        return null;
    }

    String header(String name) {
        return http.getRequestHeaders().getFirst(name);
    }

    void addDelay(Duration d) {
        if (d != null && !d.isNegative()) {
            delay = delay.plus(d);
        }
    }

    void truncateBody() {
        truncate = true;
    }

    private Runnable beforeLastByte;
    private boolean hasHook;

    boolean responded() {
        return responded;
    }

    /**
     * Sleeps for the accumulated latency, then sends status, headers and body. With truncation, announces the full
     * Content-Length, writes half, flushes and closes the exchange, which (with a short fixed-length body) makes
     * the JDK server close the TCP connection, so the client sees a premature end of body.
     */
    void respond(int status, String contentType, Map<String, String> headers, Body body) throws IOException {
        if (responded) {
            throw new IllegalStateException("response already sent");
        }
        responded = true;
        entry.status = status;
        sleep(delay);
        Headers h = http.getResponseHeaders();
        if (contentType != null) {
            h.set("Content-Type", contentType);
        }
        if (headers != null) {
            headers.forEach(h::set);
        }
        long length = body == null ? 0 : body.length();
        if (length == 0) {
            complete();
            http.sendResponseHeaders(status, -1);
            return;
        }
        http.sendResponseHeaders(status, length);
        OutputStream out = truncate ? http.getResponseBody() : new CompleteBeforeLastByte(http.getResponseBody(), length);
        if (truncate) {
            body.writeTo(out, length / 2);
            out.flush();
            // Do NOT call out.close(): with missing bytes the JDK server throws but keeps the connection open and
            // the client would hang. HttpExchange.close() closes the underlying connection instead.
            http.close();
            return;
        }
        body.writeTo(out, length);
        out.flush();
    }

    /** Always called at the end; closing twice is harmless. */
    void finish() {
        complete();
        http.close();
    }

    /**
     * Runs {@code beforeLastByte} once: just before the last byte of the response is written (or at {@link #finish}),
     * so the fake's in-flight counters and completion time are settled before the client can possibly have the whole
     * response and send its next request.
     */
    void onComplete(Runnable beforeLastByte) {
        this.beforeLastByte = beforeLastByte;
        this.hasHook = true;
    }

    boolean hasCompletionHook() {
        return hasHook;
    }

    private void complete() {
        Runnable r = beforeLastByte;
        beforeLastByte = null;
        if (r != null) {
            r.run();
        }
    }

    /** Calls {@link #complete()} just before byte number {@code length - 1} goes out. */
    private final class CompleteBeforeLastByte extends java.io.FilterOutputStream {
        private final long length;
        private long written;

        CompleteBeforeLastByte(OutputStream out, long length) {
            super(out);
            this.length = length;
        }

        @Override
        public void write(int b) throws IOException {
            if (written == length - 1) {
                complete();
            }
            out.write(b);
            written++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            long lastIndex = length - 1;
            if (written <= lastIndex && written + len > lastIndex) {
                int head = (int) (lastIndex - written);
                out.write(b, off, head);
                written += head;
                write(b[off + head]);
                if (len - head - 1 > 0) {
                    out.write(b, off + head + 1, len - head - 1);
                    written += len - head - 1;
                }
                return;
            }
            out.write(b, off, len);
            written += len;
        }
    }

    private static void sleep(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

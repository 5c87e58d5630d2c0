package dev.mailintake.testsupport;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * An HTTP delivery target ({@code http://127.0.0.1:<port>/deliver}, for {@code mailboxes.<name>.target}) that records
 * every hand-over, from whichever process: unlike the folder target, which writes a message's folder once and ignores
 * a second delivery of it, this one shows every delivery, so a message delivered twice is seen. A hand-over counts once
 * its whole body has been read (a sender killed mid-body delivered nothing).
 */
public final class RecordingTarget implements AutoCloseable {
    /** One hand-over: the message's Internet Message-ID and whether the sender flagged it as a possible duplicate. */
    public record Delivery(String internetMessageId, String mailbox, boolean possibleDuplicate, int bytes) {
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(16);
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    private RecordingTarget(HttpServer server) {
        this.server = server;
    }

    public static RecordingTarget start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            RecordingTarget target = new RecordingTarget(server);
            server.createContext("/deliver", x -> {
                try (x) {
                    byte[] body = x.getRequestBody().readAllBytes();
                    target.deliveries.add(new Delivery(x.getRequestHeaders().getFirst("MailIntakeInternetMessageId"),
                            x.getRequestHeaders().getFirst("MailIntakeMailbox"),
                            Boolean.parseBoolean(x.getRequestHeaders().getFirst("MailIntakePossibleDuplicate")),
                            body.length));
                    x.sendResponseHeaders(204, -1);
                }
            });
            server.setExecutor(target.threads);
            server.start();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The target URI for a mailbox's {@code target} setting. */
    public String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/deliver";
    }

    public List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** How many times each Message-ID was handed over. */
    public Map<String, Long> countsById() {
        return deliveries.stream().collect(Collectors.groupingBy(Delivery::internetMessageId, Collectors.counting()));
    }

    /** The Message-IDs handed over more than once, each with its hand-overs. */
    public Map<String, List<Delivery>> duplicates() {
        return deliveries.stream().collect(Collectors.groupingBy(Delivery::internetMessageId)).entrySet().stream()
                .filter(e -> e.getValue().size() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /** Duplicates none of whose later hand-overs was flagged {@code possibleDuplicate}: a real exactly-once breach. */
    public Map<String, List<Delivery>> unflaggedDuplicates() {
        return duplicates().entrySet().stream()
                .filter(e -> e.getValue().stream().filter(Delivery::possibleDuplicate).count() < e.getValue().size() - 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}

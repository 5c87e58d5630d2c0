package dev.mailintake.intake;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.converter.stream.FileInputStreamCache;
import org.apache.camel.support.DefaultMessage;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Bean {@code attachments}: the message's attachments as Camel messages for a {@code split}, one per attachment, body
 * a file-backed stream of the decoded bytes, headers the message's own plus {@value #NAME}, {@value #CONTENT_TYPE},
 * {@value #SIZE}, ... During a delivery it reuses what Mail Intake already parsed and wrote to the spool (no second
 * parse); elsewhere (e.g. a route reading .eml files) it parses the body once into a temporary directory, removed when
 * the exchange is done.
 * <pre>
 * - split:
 *     method: { ref: attachments, method: split }
 *     steps:
 *       - to: ...
 * </pre>
 */
public final class AttachmentSplitter {
    public static final String NAME = "MailIntakeAttachmentName";
    public static final String ORIGINAL_NAME = "MailIntakeAttachmentOriginalName";
    public static final String CONTENT_TYPE = "MailIntakeAttachmentContentType";
    public static final String SIZE = "MailIntakeAttachmentSize";
    public static final String SHA256 = "MailIntakeAttachmentSha256";
    public static final String INLINE = "MailIntakeAttachmentInline";
    /** The decoded attachment's file; it exists while the delivery runs. */
    public static final String FILE = "MailIntakeAttachmentFile";

    private final MimeInspector inspector;
    private final Path tempRoot;

    public AttachmentSplitter(MimeInspector inspector, Path tempRoot) {
        this.inspector = inspector;
        this.tempRoot = tempRoot;
    }

    /** Removes what interrupted runs left in the temporary directory (start-up, before any route runs). */
    public SweptLeftovers sweepLeftovers() throws IOException {
        return Leftovers.sweep(tempRoot);
    }

    /** The real attachments (what {@code rules.require-attachment} counts): no inline images, signatures, reports. */
    public List<Message> split(Exchange exchange) throws IOException {
        return parts(exchange, false);
    }

    /** Every attachment, inline ones included. */
    public List<Message> splitAll(Exchange exchange) throws IOException {
        return parts(exchange, true);
    }

    private List<Message> parts(Exchange exchange, boolean withInline) throws IOException {
        SpooledMessage m = exchange.getProperty(DeliveryHeaders.SPOOLED_MESSAGE, SpooledMessage.class);
        Path dir;
        ParsedMessage parsed;
        if (m != null) {
            dir = m.dir().resolve(SpooledMessage.ATTACHMENTS_DIR);
            parsed = m.parsed();
        } else {
            Path tmp = parseIntoTemp(exchange);
            dir = tmp.resolve(SpooledMessage.ATTACHMENTS_DIR);
            parsed = inspector.inspect(tmp.resolve(SpooledMessage.MESSAGE_FILE), dir);
        }
        List<Message> out = new ArrayList<>();
        for (AttachmentInfo a : parsed.attachments()) {
            if (a.inline() && !withInline) {
                continue;
            }
            Path file = AttachmentNames.resolveInside(dir, a.fileName());
            DefaultMessage part = new DefaultMessage(exchange.getContext());
            part.setHeaders(new java.util.HashMap<>(exchange.getMessage().getHeaders()));
            part.setHeader(NAME, a.fileName());
            part.setHeader(ORIGINAL_NAME, a.originalName());
            part.setHeader(CONTENT_TYPE, a.contentType());
            part.setHeader(SIZE, a.size());
            part.setHeader(SHA256, a.sha256());
            part.setHeader(INLINE, a.inline());
            part.setHeader(FILE, file.toString());
            part.setHeader(Exchange.FILE_NAME, a.fileName());
            part.setHeader(Exchange.CONTENT_TYPE, a.contentType());
            part.setBody(new FileInputStreamCache(file.toFile()));
            out.add(part);
        }
        return out;
    }

    /** The body (a stream, a file) written to {@code <temp>/<uuid>/message.eml}; removed when the exchange is done. */
    private Path parseIntoTemp(Exchange exchange) throws IOException {
        Path tmp = Files.createDirectories(tempRoot.resolve(UUID.randomUUID().toString()));
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try (var walk = Files.walk(tmp)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    // best effort; the next start sweeps the temporary directory
                }
            }
        });
        try (InputStream in = exchange.getMessage().getMandatoryBody(InputStream.class)) {
            Files.copy(in, tmp.resolve(SpooledMessage.MESSAGE_FILE));
        } catch (org.apache.camel.InvalidPayloadException e) {
            throw new IllegalArgumentException("attachments.split needs a raw MIME message as the body", e);
        }
        return tmp;
    }
}

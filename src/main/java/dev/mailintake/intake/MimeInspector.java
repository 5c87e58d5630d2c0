package dev.mailintake.intake;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.MimeIOException;
import org.apache.james.mime4j.io.MaxHeaderLengthLimitException;
import org.apache.james.mime4j.io.MaxHeaderLimitException;
import org.apache.james.mime4j.io.MaxLineLimitException;
import org.apache.james.mime4j.stream.BodyDescriptor;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streaming parse of a raw RFC 5322 message stored in a file. Attachments are decoded (base64, quoted-printable) and
 * written to disk while their size and SHA-256 are computed; neither the message nor an attachment is ever held in
 * memory as a whole.
 *
 * <p>Classification of the parts: {@code multipart/*} containers are walked recursively and are never parts
 * themselves; a {@code message/rfc822} or {@code message/global} part is not entered but is one attachment (named
 * {@value #ATTACHED_MESSAGE_NAME} when it has no name of its own). A leaf part is
 * <ul>
 *   <li>the <em>body</em> when it is {@code text/plain} or {@code text/html} without a file name and without an
 *       {@code attachment} disposition; other {@code text/*} parts (except {@code text/calendar}) with no file name,
 *       no disposition and no Content-ID are body too;</li>
 *   <li>an <em>inline attachment</em> ({@link AttachmentInfo#inline()} {@code true}) when it has disposition
 *       {@code inline} or a Content-ID, no {@code attachment} disposition, and is not caught by the next rule; e.g.
 *       an {@code image/*} part referenced from the HTML body;</li>
 *   <li>a <em>real attachment</em> otherwise, in particular when its disposition is {@code attachment}; when it has
 *       a file name and no disposition; when it has disposition {@code inline} and a file name but is not an
 *       {@code image/*} (Apple Mail sends PDFs as {@code inline; filename=scan.pdf}); and when it is a bare part
 *       with no file name, no disposition and no Content-ID that is not {@code text/*} (a scanner's
 *       {@code application/pdf}) or is {@code text/calendar} (an invitation).</li>
 * </ul>
 * Only real attachments count as {@link ParsedMessage#realAttachments()}. An attachment without a file name is stored
 * under a name derived from its content type ({@code attachment.pdf}, see {@link AttachmentNames}); a nameless
 * {@code text/calendar} part is stored as {@value #CALENDAR_NAME}.
 *
 * <p>Malformed input raises {@link MalformedMessageException}; file system errors propagate as {@link IOException}.
 * On any failure the files this call wrote (and the attachments directory, if this call created it) are removed.
 *
 * <p>Stateless and thread-safe: one instance may inspect many messages concurrently.
 */
public final class MimeInspector {
    private static final Logger log = LoggerFactory.getLogger(MimeInspector.class);

    static final int MAX_HEADER_COUNT = 1000;
    static final int MAX_HEADER_LEN = 100_000;
    static final int MAX_LINE_LEN = 100_000;
    /** File name of an attached message without a name of its own. */
    static final String ATTACHED_MESSAGE_NAME = "attached-message.eml";
    /**
     * Parts that belong to the message's structure rather than its content (S/MIME and PGP signatures, delivery and
     * read reports): stored, but marked inline so that they never satisfy {@code rules.require-attachment}.
     */
    static final java.util.Set<String> STRUCTURAL_TYPES = java.util.Set.of("application/pkcs7-signature",
            "application/x-pkcs7-signature", "application/pgp-signature", "application/pgp-encrypted",
            "message/delivery-status", "message/disposition-notification", "text/rfc822-headers");

    /** File name of a {@code text/calendar} part without a name of its own. */
    static final String CALENDAR_NAME = "invite.ics";
    private static final int BUFFER_SIZE = 64 * 1024;

    private final MimeConfig config;

    public MimeInspector() {
        this.config = new MimeConfig.Builder()
                .setMaxHeaderCount(MAX_HEADER_COUNT)
                .setMaxHeaderLen(MAX_HEADER_LEN)
                .setMaxLineLen(MAX_LINE_LEN)
                .setStrictParsing(false)
                .build();
    }

    /**
     * Parses {@code eml} and writes each attachment's decoded bytes to {@code attachmentsDir/<safe name>}. The
     * directory is created only when the message has at least one attachment.
     *
     * @throws MalformedMessageException if the message is empty, has no header fields, or mime4j rejects it
     * @throws IOException               if reading the message or writing an attachment fails
     */
    public ParsedMessage inspect(Path eml, Path attachmentsDir) throws IOException {
        long size = Files.size(eml);
        if (size == 0) {
            throw new MalformedMessageException("empty file");
        }
        Inspection inspection = new Inspection(attachmentsDir);
        boolean success = false;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(eml), BUFFER_SIZE)) {
            ParsedMessage parsed = inspection.run(in, size);
            success = true;
            log.debug("Inspected a message of {} bytes: {} attachment(s), {} of them real",
                    size, parsed.attachments().size(), parsed.realAttachments().size());
            return parsed;
        } catch (MimeException e) {
            throw new MalformedMessageException(detail(e), e);
        } catch (IOException e) {
            if (isParserFailure(e)) {
                throw new MalformedMessageException(detail(e), e);
            }
            throw e;
        } finally {
            if (!success) {
                inspection.cleanUp();
            }
        }
    }

    /** IOExceptions that mime4j raises for bad input rather than for a failing file system. */
    private static boolean isParserFailure(IOException e) {
        return e instanceof MimeIOException || e instanceof MaxLineLimitException;
    }

    private static String detail(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MaxLineLimitException) {
                return "a header line is longer than " + MAX_LINE_LEN + " bytes";
            }
            if (t instanceof MaxHeaderLimitException) {
                return "more than " + MAX_HEADER_COUNT + " header fields";
            }
            if (t instanceof MaxHeaderLengthLimitException) {
                return "a header field is longer than " + MAX_HEADER_LEN + " bytes";
            }
        }
        Throwable root = e instanceof MimeIOException && e.getCause() != null ? e.getCause() : e;
        return "unparseable MIME structure (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    /** The state of one {@link #inspect} call. */
    private final class Inspection {
        private final Path dir;
        private final AttachmentNames names = new AttachmentNames(AttachmentNames.DEFAULT_MAX_BYTES);
        private final List<AttachmentInfo> attachments = new ArrayList<>();
        private final List<Path> written = new ArrayList<>();
        private boolean dirReady;
        private boolean dirCreated;

        private String messageId;
        private String subject;
        private List<String> from;
        private List<String> sender;
        private final List<String> to = new ArrayList<>();
        private final List<String> cc = new ArrayList<>();
        private final List<String> replyTo = new ArrayList<>();
        private String date;

        Inspection(Path dir) {
            this.dir = dir;
        }

        ParsedMessage run(InputStream in, long size) throws IOException, MimeException {
            MimeTokenStream stream = new MimeTokenStream(config);
            stream.setRecursionMode(RecursionMode.M_NO_RECURSE); // multiparts are entered, message/rfc822 is not
            stream.parse(in);
            boolean topHeader = true;
            int topFieldCount = 0;
            PartHeaders part = new PartHeaders();
            for (EntityState state = stream.getState(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
                switch (state) {
                    case T_START_HEADER -> part = new PartHeaders();
                    case T_FIELD -> {
                        Field field = stream.getField();
                        part.accept(field);
                        if (topHeader) {
                            topFieldCount++;
                            acceptTopLevel(field);
                        }
                    }
                    case T_END_HEADER -> {
                        if (topHeader && topFieldCount == 0) {
                            throw new MalformedMessageException("no header fields before the body");
                        }
                        topHeader = false;
                    }
                    case T_BODY -> body(stream, part);
                    default -> {
                        // multipart structure, preamble and epilogue need no action
                    }
                }
            }
            return new ParsedMessage(messageId, subject, join(from), join(sender), to, cc, replyTo, date, size,
                    attachments);
        }

        private void acceptTopLevel(Field field) {
            String name = field.getName().toLowerCase(Locale.ROOT);
            switch (name) {
                case "message-id" -> messageId = firstNonBlank(messageId, MimeHeaders.value(field));
                case "subject" -> {
                    if (subject == null) {
                        subject = MimeHeaders.decodeEncodedWords(MimeHeaders.value(field));
                    }
                }
                case "from" -> from = from != null ? from : MimeHeaders.addresses(MimeHeaders.value(field));
                case "sender" -> sender = sender != null ? sender : MimeHeaders.addresses(MimeHeaders.value(field));
                case "to" -> to.addAll(MimeHeaders.addresses(MimeHeaders.value(field)));
                case "cc" -> cc.addAll(MimeHeaders.addresses(MimeHeaders.value(field)));
                case "reply-to" -> replyTo.addAll(MimeHeaders.addresses(MimeHeaders.value(field)));
                case "date" -> date = firstNonBlank(date, MimeHeaders.value(field));
                default -> {
                    // other header fields are not summarised
                }
            }
        }

        private void body(MimeTokenStream stream, PartHeaders part) throws IOException {
            BodyDescriptor descriptor = stream.getBodyDescriptor();
            String mimeType = descriptor.getMimeType() == null
                    ? "application/octet-stream"
                    : descriptor.getMimeType().toLowerCase(Locale.ROOT);
            MimeHeaders.Structured disposition = part.contentDisposition == null
                    ? null
                    : MimeHeaders.parseStructured(part.contentDisposition);
            String dispositionType = disposition == null ? "" : disposition.value();
            String name = disposition == null ? null : disposition.decodedParam("filename");
            if (name == null && part.contentType != null) {
                name = MimeHeaders.parseStructured(part.contentType).decodedParam("name");
            }
            boolean attachmentDisposition = dispositionType.equals("attachment");
            boolean inlineDisposition = dispositionType.equals("inline");
            boolean message = mimeType.equals("message/rfc822") || mimeType.equals("message/global");
            boolean calendar = mimeType.equals("text/calendar");
            boolean image = mimeType.startsWith("image/");
            boolean bare = name == null && dispositionType.isEmpty() && part.contentId == null;
            if (mimeType.startsWith("multipart/")) {
                return; // a multipart mime4j could not split (e.g. no boundary): opaque, not a part
            }
            boolean textBody = (mimeType.equals("text/plain") || mimeType.equals("text/html"))
                    && name == null && !attachmentDisposition;
            boolean otherTextBody = mimeType.startsWith("text/") && !calendar && bare;
            if (!message && (textBody || otherTextBody)) {
                return; // body; mime4j skips the unread content on the next token
            }
            // Every other part is an attachment: named, with a disposition or Content-ID, or bare (a scanner's PDF).
            boolean inline = STRUCTURAL_TYPES.contains(mimeType) // signatures, reports: kept, never "real" attachments
                    || !attachmentDisposition && (inlineDisposition || part.contentId != null)
                    && !(inlineDisposition && name != null && !image); // Apple Mail's "inline; filename=scan.pdf"
            String fallbackName = message ? ATTACHED_MESSAGE_NAME : calendar ? CALENDAR_NAME : null;
            String fileName = names.allocate(name == null ? fallbackName : name, mimeType);
            attachments.add(write(stream.getDecodedInputStream(), name, fileName, mimeType, inline, part.contentId));
        }

        private AttachmentInfo write(InputStream content, String originalName, String fileName, String mimeType,
                                     boolean inline, String contentId) throws IOException {
            ensureDir();
            Path target = AttachmentNames.resolveInside(dir, fileName);
            MessageDigest sha256 = sha256();
            long size = 0;
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                written.add(target);
                byte[] buffer = new byte[BUFFER_SIZE];
                int n;
                while ((n = content.read(buffer)) != -1) {
                    sha256.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                    size += n;
                }
            }
            return new AttachmentInfo(originalName, fileName, mimeType, size,
                    HexFormat.of().formatHex(sha256.digest()), inline, contentId);
        }

        private void ensureDir() throws IOException {
            if (dirReady) {
                return;
            }
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                dirCreated = true;
            }
            dirReady = true;
        }

        /** Best effort: removes what this inspection wrote. */
        void cleanUp() {
            int failed = 0;
            for (Path path : written) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    failed++;
                }
            }
            if (dirCreated) {
                try {
                    Files.deleteIfExists(dir);
                } catch (DirectoryNotEmptyException e) {
                    // something else lives there now: keep it
                } catch (IOException e) {
                    failed++;
                }
            }
            if (failed > 0) {
                log.warn("Could not remove {} partially written attachment file(s) of a failed inspection", failed);
            }
        }
    }

    /** The MIME header fields of one entity that decide whether and how it is an attachment. */
    private static final class PartHeaders {
        private String contentType;
        private String contentDisposition;
        private String contentId;

        void accept(Field field) {
            String name = field.getName().toLowerCase(Locale.ROOT);
            switch (name) {
                case "content-type" -> contentType = contentType != null ? contentType : MimeHeaders.value(field);
                case "content-disposition" -> contentDisposition =
                        contentDisposition != null ? contentDisposition : MimeHeaders.value(field);
                case "content-id" -> contentId = firstNonBlank(contentId, MimeHeaders.value(field));
                default -> {
                    // not relevant for attachment detection
                }
            }
        }
    }

    private static String firstNonBlank(String current, String candidate) {
        if (current != null) {
            return current;
        }
        return candidate == null || candidate.isBlank() ? null : candidate.strip();
    }

    private static String join(List<String> addresses) {
        return addresses == null || addresses.isEmpty() ? null : String.join(", ", addresses);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}

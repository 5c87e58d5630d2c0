package dev.mailintake.imap;

import jakarta.mail.MessagingException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.ByteArray;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.protocol.BASE64MailboxEncoder;
import org.eclipse.angus.mail.imap.protocol.BODY;
import org.eclipse.angus.mail.imap.protocol.ENVELOPE;
import org.eclipse.angus.mail.imap.protocol.FetchResponse;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.eclipse.angus.mail.imap.protocol.INTERNALDATE;
import org.eclipse.angus.mail.imap.protocol.RFC822SIZE;
import org.eclipse.angus.mail.imap.protocol.UID;

/**
 * The IMAP commands of an import, all addressed by UID ({@code UID FETCH}, {@code UID MOVE}, {@code UID STORE},
 * {@code UID EXPUNGE}) on an open folder: message sequence numbers shift when another connection moves messages,
 * UIDs never do, so several connections can work on one Inbox at once. Untagged responses still reach the folder.
 */
final class UidCommands {
    private UidCommands() {
    }

    /** A message's envelope as listed: its UID, Message-ID, INTERNALDATE and size (RFC822.SIZE, -1 if not sent). */
    record Envelope(long uid, String messageId, Instant received, long size) {
    }

    /** {@code UID FETCH <uids> (UID ENVELOPE INTERNALDATE RFC822.SIZE)}; messages no longer there are missing. */
    static List<Envelope> envelopes(IMAPFolder folder, long[] uids) throws MessagingException {
        String set = LongStream.of(uids).mapToObj(Long::toString).collect(Collectors.joining(","));
        return run(folder, "UID FETCH", new Argument().writeAtom(set)
                .writeAtom("(UID ENVELOPE INTERNALDATE RFC822.SIZE)"), r -> {
            List<Envelope> out = new ArrayList<>();
            for (Response x : r) {
                if (x instanceof FetchResponse f && f.getItem(UID.class) != null) {
                    ENVELOPE e = f.getItem(ENVELOPE.class);
                    INTERNALDATE d = f.getItem(INTERNALDATE.class);
                    RFC822SIZE size = f.getItem(RFC822SIZE.class);
                    out.add(new Envelope(f.getItem(UID.class).uid, e == null ? null : e.messageId,
                            d == null || d.getDate() == null ? Instant.EPOCH : d.getDate().toInstant(),
                            size == null ? -1 : size.size));
                }
            }
            return out;
        });
    }

    /** {@code UID SEARCH UNDELETED}: the UIDs of the messages nobody flagged {@code \\Deleted}, ascending. */
    static long[] searchUndeleted(IMAPFolder folder) throws MessagingException {
        return run(folder, "UID SEARCH", new Argument().writeAtom("UNDELETED"), r -> {
            LongStream.Builder uids = LongStream.builder();
            for (Response x : r) {
                if (x instanceof IMAPResponse ir && ir.keyEquals("SEARCH")) {
                    long uid;
                    while ((uid = ir.readLong()) != -1) {
                        uids.add(uid);
                    }
                }
            }
            return uids.build().sorted().toArray();
        });
    }

    /**
     * The message as a stream read with {@code UID FETCH <uid> (BODY.PEEK[]<offset.chunk>)} (never {@code \\Seen}),
     * one chunk in memory at a time; null if there is no such message in the folder.
     */
    static InputStream openMessage(IMAPFolder folder, long uid, int chunk) throws MessagingException {
        ByteArray first = fetchChunk(folder, uid, 0, chunk);
        return first == null ? null : new MessageStream(folder, uid, chunk, first);
    }

    private static ByteArray fetchChunk(IMAPFolder folder, long uid, long offset, int chunk) throws MessagingException {
        String part = "(BODY.PEEK[]<" + offset + "." + chunk + ">)";
        return run(folder, "UID FETCH", new Argument().writeNumber(uid).writeAtom(part), r -> {
            for (Response x : r) {
                if (x instanceof FetchResponse f && f.getItem(UID.class) != null && f.getItem(UID.class).uid == uid
                        && f.getItem(BODY.class) != null) {
                    ByteArray b = f.getItem(BODY.class).getByteArray();
                    return b == null ? new ByteArray(0) : b;
                }
            }
            return null;
        });
    }

    /** Reads a message chunk by chunk; a chunk shorter than asked for is the last. */
    private static final class MessageStream extends InputStream {
        private final IMAPFolder folder;
        private final long uid;
        private final int chunk;
        private ByteArray current;
        private int pos;
        private long offset;

        MessageStream(IMAPFolder folder, long uid, int chunk, ByteArray first) {
            this.folder = folder;
            this.uid = uid;
            this.chunk = chunk;
            this.current = first;
            this.offset = first.getCount();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos == current.getCount()) {
                if (current.getCount() < chunk) {
                    return -1;
                }
                try {
                    current = fetchChunk(folder, uid, offset, chunk);
                } catch (MessagingException e) {
                    throw new IOException(e.getMessage(), e);
                }
                if (current == null) {
                    throw new IOException("message UID " + uid + " disappeared while it was being read");
                }
                pos = 0;
                offset += current.getCount();
                if (current.getCount() == 0) {
                    return -1;
                }
            }
            int n = Math.min(len, current.getCount() - pos);
            System.arraycopy(current.getBytes(), current.getStart() + pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /**
     * The first {@code chunk} bytes of several messages in one {@code UID FETCH <uid,uid,…> (BODY.PEEK[]<0.chunk>)}
     * (never {@code \\Seen}): a message shorter than {@code chunk} arrives whole. The answer is read into memory, so
     * the caller bounds the batch by the messages' listed sizes. Messages no longer in the folder are missing from the
     * map.
     */
    static Map<Long, ByteArray> fetchFirstChunks(IMAPFolder folder, long[] uids, int chunk) throws MessagingException {
        return run(folder, "UID FETCH", new Argument().writeAtom(uidSet(uids))
                .writeAtom("(BODY.PEEK[]<0." + chunk + ">)"), r -> {
            Map<Long, ByteArray> out = new HashMap<>();
            for (Response x : r) {
                if (x instanceof FetchResponse f && f.getItem(UID.class) != null && f.getItem(BODY.class) != null) {
                    ByteArray b = f.getItem(BODY.class).getByteArray();
                    out.put(f.getItem(UID.class).uid, b == null ? new ByteArray(0) : b);
                }
            }
            return out;
        });
    }

    /** The rest of a message whose first chunk was fetched already ({@code first}, as long as a chunk if more follows). */
    static InputStream continueMessage(IMAPFolder folder, long uid, int chunk, ByteArray first) {
        return new MessageStream(folder, uid, chunk, first);
    }

    /** {@code UID STORE <uids> +FLAGS.SILENT (<flags>)}. */
    static void addFlags(IMAPFolder folder, long[] uids, String flags) throws MessagingException {
        run(folder, "UID STORE", new Argument().writeAtom(uidSet(uids)).writeAtom("+FLAGS.SILENT")
                .writeAtom("(" + flags + ")"), r -> null);
    }

    /** {@code UID MOVE <uids> <folder>} (RFC 6851). */
    static void move(IMAPFolder folder, long[] uids, String destination) throws MessagingException {
        runWithMailbox(folder, "UID MOVE", uids, destination);
    }

    /** {@code UID COPY <uids> <folder>}. */
    static void copy(IMAPFolder folder, long[] uids, String destination) throws MessagingException {
        runWithMailbox(folder, "UID COPY", uids, destination);
    }

    /** {@code <command> <uids> <folder>}, the folder name as Angus writes it: UTF-8 once the server accepted
     * UTF8=ACCEPT, else modified UTF-7. */
    private static void runWithMailbox(IMAPFolder folder, String command, long[] uids, String mailbox)
            throws MessagingException {
        String set = uidSet(uids);
        run(folder, command, p -> p.supportsUtf8()
                ? new Argument().writeAtom(set).writeString(mailbox, StandardCharsets.UTF_8)
                : new Argument().writeAtom(set).writeString(BASE64MailboxEncoder.encode(mailbox)), r -> null);
    }

    /**
     * {@code UID EXPUNGE <uids>} (RFC 4315): only these messages, never the folder's other {@code \Deleted} ones.
     */
    static void expunge(IMAPFolder folder, long[] uids) throws MessagingException {
        run(folder, "UID EXPUNGE", new Argument().writeAtom(uidSet(uids)), r -> null);
    }

    /** A UID set as IMAP writes it, runs of consecutive UIDs as ranges: {@code 3,5:9,12}. */
    static String uidSet(long[] uids) {
        long[] sorted = LongStream.of(uids).sorted().distinct().toArray();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < sorted.length; i++) {
            int j = i;
            while (j + 1 < sorted.length && sorted[j + 1] == sorted[j] + 1) {
                j++;
            }
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(sorted[i]);
            if (j > i) {
                b.append(':').append(sorted[j]);
            }
            i = j;
        }
        return b.toString();
    }

    private interface Reader<T> {
        T read(Response[] responses);
    }

    private static <T> T run(IMAPFolder folder, String command, Argument args, Reader<T> reader)
            throws MessagingException {
        return run(folder, command, p -> args, reader);
    }

    @SuppressWarnings("unchecked")
    private static <T> T run(IMAPFolder folder, String command,
                             java.util.function.Function<IMAPProtocol, Argument> args, Reader<T> reader)
            throws MessagingException {
        return (T) folder.doCommand(p -> {
            Response[] r = p.command(command, args.apply(p));
            T value = reader.read(r);
            p.notifyResponseHandlers(r);
            p.handleResult(r[r.length - 1]);
            return value;
        });
    }
}

package dev.mailintake.imap;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IMAP protocol trace (Angus Mail's {@code mail.debug} output) as DEBUG lines of logger
 * {@value #LOGGER}, one per protocol line. Angus suppresses the AUTHENTICATE exchange unless {@code mail.debug.auth}
 * is set, which Mail Intake never does, so no token reaches the log. Only protocol lines are logged (tagged commands
 * and responses, untagged {@code *} and continuation {@code +} lines, Angus's {@code DEBUG} notes), each cut to 300
 * characters; literals (message contents) are logged as their length, and any other line is dropped.
 */
final class ImapProtocolTrace extends OutputStream {
    static final String LOGGER = "dev.mailintake.imap.protocol";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
    private static final int MAX_LINE = 300;
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d{1,12})}$");
    /** Protocol lines: Angus's own notes, untagged and continuation responses, tagged commands and responses. */
    private static final Pattern PROTOCOL_LINE = Pattern.compile("^(DEBUG [A-Z]+: |[*+] |[A-Za-z]\\d+ [A-Z])");

    private final String mailbox;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private long literalLeft;

    private ImapProtocolTrace(String mailbox) {
        this.mailbox = mailbox;
    }

    static boolean enabled() {
        return LOG.isDebugEnabled();
    }

    static PrintStream forMailbox(String mailbox) {
        return new PrintStream(new ImapProtocolTrace(mailbox), true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        if (literalLeft > 0) {
            literalLeft--;
            return;
        }
        if (b == '\n') {
            flushLine();
        } else if (b != '\r') {
            line.write(b);
        }
    }

    private void flushLine() {
        if (line.size() > 0) {
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (!PROTOCOL_LINE.matcher(text).find()) {
                return; // message content (the connections of a session share this stream, so a literal's bytes
                        // can arrive between other lines and escape the count below): never logged
            }
            Matcher literal = LITERAL.matcher(text);
            if (literal.find()) {
                literalLeft = Long.parseLong(literal.group(1));
                text = text + " <" + literalLeft + " bytes not traced>";
            }
            LOG.debug("mailbox '{}': {}", mailbox, text.length() > MAX_LINE ? text.substring(0, MAX_LINE) + "…" : text);
        }
    }
}

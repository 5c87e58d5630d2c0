package dev.mailintake.imap;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.mailintake.testsupport.LogCapture;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ImapProtocolTraceTest {
    @Test
    void logsProtocolLinesButOnlyTheLengthOfLiterals() {
        try (LogCapture log = LogCapture.of(ImapProtocolTrace.LOGGER, Level.DEBUG)) {
            PrintStream trace = ImapProtocolTrace.forMailbox("m");
            trace.print("A3 UID FETCH 7 (BODY.PEEK[]<0.16>)\r\n");
            trace.print("* 1 FETCH (UID 7 BODY[]<0> {16}\r\nSubject: secret\n)\r\nA3 OK FETCH completed.\r\n");
            trace.flush();
            assertThat(log.lines()).containsExactly(
                    "mailbox 'm': A3 UID FETCH 7 (BODY.PEEK[]<0.16>)",
                    "mailbox 'm': * 1 FETCH (UID 7 BODY[]<0> {16} <16 bytes not traced>",
                    "mailbox 'm': A3 OK FETCH completed.");
            assertThat(String.join("\n", log.lines())).doesNotContain("secret");
            // two connections share the stream: a literal's bytes can arrive after another line; content is dropped
            trace.print("* 2 FETCH (UID 8 BODY[]<0> {3000}\r\nA4 OK FETCH completed.\r\n");
            trace.print("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n".repeat(60));
            trace.print("A5 UID MOVE 8 INBOX.Processed\r\n");
            trace.flush();
            assertThat(String.join("\n", log.lines())).doesNotContain("JVBERi0");
            assertThat(log.lines()).last().asString().contains("A5 UID MOVE 8");
            log.clear();
            byte[] longLine = ("* " + "x".repeat(1000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            trace.write(longLine, 0, longLine.length);
            assertThat(log.lines().get(0)).hasSize("mailbox 'm': ".length() + 301).endsWith("…");
        }
    }
}

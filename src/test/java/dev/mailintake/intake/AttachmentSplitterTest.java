package dev.mailintake.intake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.testsupport.Mimes;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttachmentSplitterTest {
    @TempDir
    Path tmp;

    @Test
    void splitsADeliveredMessageFromItsSpoolWithoutParsingAgain() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("spool"));
        Path eml = Files.write(dir.resolve("message.eml"), Mimes.pdfMessage("<a@example.com>", "a", 1_000));
        ParsedMessage parsed = new MimeInspector().inspect(eml, dir.resolve("attachments"));
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(camel);
            exchange.setProperty(DeliveryHeaders.SPOOLED_MESSAGE, new SpooledMessage(new MessageRef("invoices", "k1",
                    "<a@example.com>", Instant.EPOCH, List.of(), 1, MessageRef.Attachments.UNKNOWN), dir, eml, "x", parsed));
            exchange.getMessage().setHeader("MailIntakeSubject", "a");
            // a splitter that parsed again would find no body to parse
            List<Message> parts = new AttachmentSplitter(new MimeInspector(), tmp.resolve("t")).split(exchange);
            assertThat(parts).hasSize(1);
            Message part = parts.get(0);
            assertThat(part.getHeader(AttachmentSplitter.NAME)).isEqualTo("invoice.pdf");
            assertThat(part.getHeader(AttachmentSplitter.CONTENT_TYPE)).isEqualTo("application/pdf");
            assertThat(part.getHeader(AttachmentSplitter.SIZE)).isEqualTo(1_000L);
            assertThat(part.getHeader("MailIntakeSubject")).isEqualTo("a");
            assertThat(((InputStream) part.getBody()).readAllBytes())
                    .isEqualTo(Files.readAllBytes(dir.resolve("attachments/invoice.pdf")));
        }
    }

    @Test
    void parsesABodyThatDidNotComeFromADeliveryAndCleansUp() throws Exception {
        byte[] mime = Mimes.withAttachment("<b@example.com>", "b", "filename=\"scan.png\"", "image/png",
                new byte[] {1, 2, 3});
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(camel);
            exchange.getMessage().setBody(new ByteArrayInputStream(mime));
            List<Message> parts = new AttachmentSplitter(new MimeInspector(), tmp.resolve("t")).split(exchange);
            assertThat(parts).singleElement().satisfies(p -> {
                assertThat(p.getHeader(AttachmentSplitter.NAME)).isEqualTo("scan.png");
                assertThat(p.getHeader(AttachmentSplitter.SIZE)).isEqualTo(3L);
            });
            assertThat(((InputStream) parts.get(0).getBody()).readAllBytes()).containsExactly(1, 2, 3);
            exchange.getExchangeExtension().handoverCompletions().forEach(s -> s.onComplete(exchange));
            try (var left = Files.list(tmp.resolve("t"))) {
                assertThat(left).isEmpty();
            }
        }
    }
}

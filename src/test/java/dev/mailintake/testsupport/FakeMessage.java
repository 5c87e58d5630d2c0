package dev.mailintake.testsupport;

import java.time.Instant;
import java.util.List;

/**
 * Snapshot of a message in a {@link FakeMailbox}.
 *
 * @param immutableId       never changes
 * @param restId            the current (default-format) id; changes on every move
 * @param folderId          id of the folder the message is in
 * @param folderPath        display path of that folder, e.g. {@code Inbox/Scans}
 * @param internetMessageId the MIME {@code Message-ID} (with angle brackets), or {@code null}
 * @param subject           decoded Subject, or {@code null}
 * @param receivedDateTime  receivedDateTime (whole seconds)
 * @param categories        Outlook categories
 * @param isRead            read flag
 * @param hasAttachments    Graph's hasAttachments: an attachment that is not inline (see {@code MimeSummary})
 * @param size              MIME size in bytes
 * @param fileBacked        true if the MIME is held in a file (use {@link FakeMailbox#mimeFile(String)})
 */
public record FakeMessage(String immutableId, String restId, String folderId, String folderPath,
                          String internetMessageId, String subject, Instant receivedDateTime, List<String> categories,
                          boolean isRead, boolean hasAttachments, long size, boolean fileBacked) {
}

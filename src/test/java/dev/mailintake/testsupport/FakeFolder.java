package dev.mailintake.testsupport;

/**
 * Snapshot of a folder in a {@link FakeMailbox}.
 *
 * @param id              stable opaque id
 * @param displayName     display name
 * @param path            display path from the top of the mailbox, e.g. {@code Inbox/Scans}; empty for the root
 * @param parentFolderId  parent id
 * @param wellKnownName   e.g. {@code inbox}, or {@code null}
 * @param hidden          isHidden
 * @param childFolderCount number of direct children
 * @param totalItemCount  number of messages directly in the folder
 */
public record FakeFolder(String id, String displayName, String path, String parentFolderId, String wellKnownName,
                         boolean hidden, int childFolderCount, int totalItemCount) {
}

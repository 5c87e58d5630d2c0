package dev.mailintake.intake;

/** The headers and exchange property a delivery route receives with the raw message (docs/routes.md). */
public final class DeliveryHeaders {
    public static final String MAILBOX = "MailIntakeMailbox";
    public static final String MESSAGE_KEY = "MailIntakeMessageKey";
    public static final String INTERNET_MESSAGE_ID = "MailIntakeInternetMessageId";
    public static final String SUBJECT = "MailIntakeSubject";
    public static final String FROM = "MailIntakeFrom";
    public static final String TO = "MailIntakeTo";
    public static final String RECEIVED_AT = "MailIntakeReceivedAt";
    public static final String SHA256 = "MailIntakeSha256";
    public static final String SIZE = "MailIntakeSize";
    public static final String ATTACHMENT_COUNT = "MailIntakeAttachmentCount";
    public static final String METADATA = "MailIntakeMetadata";
    /**
     * {@code true} when the message may have reached the target already: the instance died after handing it over
     * and before recording that (kill -9, power loss). A target that must not see a message twice drops it by
     * {@link #MESSAGE_KEY} then.
     */
    public static final String POSSIBLE_DUPLICATE = "MailIntakePossibleDuplicate";
    /** Exchange property: the {@link SpooledMessage} (raw file, parsed summary, attachment files). */
    public static final String SPOOLED_MESSAGE = "MailIntakeSpooledMessage";

    private DeliveryHeaders() {
    }
}

package dev.mailintake.store;

/** The store cannot be reached or refused a statement; the import stops short of moving the message. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message + ": " + cause.getMessage(), cause);
    }
}

package dev.warden.core.ledger;

/** The ledger could not record an entry. Whatever asked for it is denied (fail closed). */
public class LedgerException extends Exception {
    public LedgerException(String message, Throwable cause) {
        super(message, cause);
    }

    public LedgerException(String message) {
        super(message);
    }
}

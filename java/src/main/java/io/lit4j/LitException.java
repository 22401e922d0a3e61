package io.lit4j;

/**
 * Base of every error lit4j throws on purpose. Messages name the file, key, shape or op involved
 * and, where one exists, a hint. The library throws; only the CLI turns these into exit codes.
 */
public class LitException extends RuntimeException {
    public LitException(String message) {
        super(message);
    }

    public LitException(String message, Throwable cause) {
        super(message, cause);
    }
}

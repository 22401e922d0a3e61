package io.lit4j;

import java.util.regex.Pattern;

/**
 * Base of every error lit4j throws on purpose. Messages name the file, key, shape or op involved
 * and, where one exists, a hint. The library throws; only the CLI turns these into exit codes.
 * A message is always one line: line breaks and other control characters (from a library's
 * message, or a malformed header echoed in it) become single spaces.
 */
public class LitException extends RuntimeException {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}]+");
    /** The link Gson appends to every syntax error, on a line of its own. */
    private static final Pattern GSON_LINK = Pattern.compile("\\s*See https://github\\.com/google/gson/\\S*");

    public LitException(String message) {
        super(oneLine(message));
    }

    public LitException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    private static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        return CONTROL.matcher(GSON_LINK.matcher(message).replaceAll("")).replaceAll(" ").strip();
    }
}

package io.lit4j.io;

import io.lit4j.LitException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A checkpoint or array file that cannot be read or written: malformed, truncated, unsupported,
 * or an I/O failure. The message starts with the file and, when one is involved, the quoted key:
 * {@code model.npz: key 'img/cls': truncated .npy data (expected 3072 bytes, got 100)}.
 */
public final class CheckpointException extends LitException {
    private final transient Path file;
    private final String key;

    public CheckpointException(Path file, String message) {
        this(file, null, message, null);
    }

    public CheckpointException(Path file, String key, String message) {
        this(file, key, message, null);
    }

    public CheckpointException(Path file, String key, String message, Throwable cause) {
        super(format(file, key, message), cause);
        this.file = file;
        this.key = key;
    }

    /** The file involved, or null when the data did not come from a file. */
    public Path file() {
        return file;
    }

    /** The key of the array involved, or null when the problem is with the whole file. */
    public String key() {
        return key;
    }

    private static String format(Path file, String key, String message) {
        StringBuilder sb = new StringBuilder();
        if (file != null) {
            sb.append(file).append(": ");
        }
        if (key != null) {
            sb.append("key '").append(key).append("': ");
        }
        return sb.append(message).toString();
    }

    /** Wraps an I/O failure, saying what was being done ({@code "read"}, {@code "write"}) in plain words. */
    static CheckpointException io(Path file, String key, String action, IOException e) {
        String why;
        if (e instanceof NoSuchFileException) {
            why = "no such file or folder" + (sameFile(file, ((FileSystemException) e).getFile()) ? ""
                    : " (" + ((FileSystemException) e).getFile() + ")");
        } else if (e instanceof AccessDeniedException) {
            why = "permission denied";
        } else if (e instanceof EOFException) {
            why = "truncated (unexpected end of data" + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
        } else {
            why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new CheckpointException(file, key, "cannot " + action + ": " + why, e);
    }

    private static boolean sameFile(Path file, String name) {
        return file == null || name == null || file.toString().equals(name);
    }
}

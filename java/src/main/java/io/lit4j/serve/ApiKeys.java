package io.lit4j.serve;

import io.lit4j.LitException;
import io.lit4j.io.Digests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The bearer keys a server accepts (several at once, so a key can be rotated without downtime).
 * Only SHA-256 digests are kept; a presented key is hashed and compared to every digest with
 * {@link MessageDigest#isEqual}, so neither the key's length nor where it differs shows in the
 * time taken. Keys are never logged: a key is named by {@link #id} (the first 8 hex digits of its
 * digest) in the access log and the rate limiter.
 */
public final class ApiKeys {
    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        this.digests = digests;
    }

    /** Keys as given; blank ones are dropped, a key with spaces or control characters inside is an error. */
    public static ApiKeys of(List<String> keys) {
        List<byte[]> d = new ArrayList<>();
        for (String k : keys) {
            String key = k.strip();
            if (key.isEmpty() || key.startsWith("#")) {
                continue;
            }
            if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                throw new LitException("an API key has a space or a non-ASCII character in it; keys are one printable word per line");
            }
            d.add(sha256(key));
        }
        return new ApiKeys(List.copyOf(d));
    }

    /** Keys one per line ({@code #} starts a comment) from a file, e.g. {@code --api-keys-file}. */
    public static List<String> readFile(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LitException(file + ": cannot read the API keys file: " + e.getMessage(), e);
        }
    }

    /** Keys one per line from an environment variable's value (null: none). */
    public static List<String> fromEnv(String value) {
        return value == null ? List.of() : List.of(value.split("\\R"));
    }

    public boolean isEmpty() {
        return digests.isEmpty();
    }

    public int size() {
        return digests.size();
    }

    /** The id of the key in an {@code Authorization: Bearer KEY} header, or null when there is none or it is not held. */
    public String check(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        byte[] given = sha256(authorization.substring(7).strip());
        boolean found = false;
        for (byte[] d : digests) {
            found |= MessageDigest.isEqual(d, given); // no early exit: every key is compared
        }
        return found ? id(given) : null;
    }

    private static String id(byte[] digest) {
        return HexFormat.of().formatHex(digest, 0, 4);
    }

    private static byte[] sha256(String key) {
        return Digests.sha256().digest(key.getBytes(StandardCharsets.UTF_8));
    }
}

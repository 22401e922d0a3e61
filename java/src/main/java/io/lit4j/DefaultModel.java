package io.lit4j;

import io.lit4j.io.AtomicFolder;
import io.lit4j.io.Digests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where the shipped default model is: {@code -Dlit4j.model} / {@code $LIT4J_MODEL} if set;
 * otherwise the copy inside the jar ({@code io/lit4j/models/default/}, listed in
 * {@code files.txt}), unpacked once into the cache folder keyed by the version and the digest of
 * {@code files.txt}. {@code models/default/make.sh} writes that list as {@code sha256sum} lines, so
 * a rebuilt model (same file names, new weights) unpacks into a new folder instead of reusing a
 * stale one, and each file is checked against its digest as it is unpacked.
 */
public final class DefaultModel {
    private static final String RESOURCE = "io/lit4j/models/default/";

    private DefaultModel() {
    }

    public static synchronized Path path() {
        String forced = System.getProperty("lit4j.model", System.getenv("LIT4J_MODEL"));
        if (forced != null && !forced.isBlank()) {
            return Path.of(forced);
        }
        byte[] list = fileList();
        List<Entry> files = parse(list);
        Path dir = CacheDir.root().resolve("models").resolve("default-" + Version.lit4j() + "-" + cacheKey(list));
        if (Files.isRegularFile(dir.resolve("files.txt"))) {
            return dir;
        }
        try (AtomicFolder unpacked = AtomicFolder.begin(dir, false, false)) {
            for (Entry f : files) {
                MessageDigest sha = Digests.sha256();
                try (InputStream in = new DigestInputStream(open(f.name()), sha)) {
                    Files.copy(in, unpacked.resolve(f.name()), StandardCopyOption.REPLACE_EXISTING);
                }
                String got = HexFormat.of().formatHex(sha.digest());
                if (f.sha256() != null && !f.sha256().equals(got)) {
                    throw new LitException("the default model's " + f.name() + " has SHA-256 " + got + ", files.txt says "
                            + f.sha256() + ": the jar is damaged or was built from a half-written model folder");
                }
            }
            try (InputStream in = open("files.txt")) {
                Files.copy(in, unpacked.resolve("files.txt"));
            }
            unpacked.commit();
            return dir;
        } catch (IOException | LitException e) {
            if (Files.isRegularFile(dir.resolve("files.txt"))) {
                return dir; // another JVM unpacked it first
            }
            throw new LitException("cannot unpack the default model into " + dir + ": " + e.getMessage()
                    + " (set LIT4J_CACHE to a writable folder, or pass --model PATH)", e);
        }
    }

    /** The sample images shipped with the default model and their labels (samples/samples.json). */
    public static Path samples() {
        return path().resolve("samples");
    }

    /** One line of files.txt: a path under the model folder and, when listed, its SHA-256. */
    record Entry(String sha256, String name) {
    }

    private static final Pattern SHA256SUM_LINE = Pattern.compile("([0-9a-f]{64}) [ *](\\S.*)");

    /** files.txt as {@code sha256sum} writes it ({@code HEX  NAME}), or bare names (digests unchecked). */
    static List<Entry> parse(byte[] filesTxt) {
        return new String(filesTxt, StandardCharsets.UTF_8).lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> {
            var m = SHA256SUM_LINE.matcher(l);
            String name = m.matches() ? m.group(2) : l;
            if (name.startsWith("/") || name.contains("..") || name.contains("\\")) {
                throw new LitException("the default model's files.txt lists '" + name + "', which is not a path inside the model folder");
            }
            return new Entry(m.matches() ? m.group(1) : null, name);
        }).toList();
    }

    /** The cache folder's key: the first 12 hex digits of files.txt's SHA-256 (new weights, new key). */
    static String cacheKey(byte[] filesTxt) {
        return Digests.sha256Hex(filesTxt).substring(0, 12);
    }

    private static byte[] fileList() {
        try (InputStream in = open("files.txt")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new LitException("cannot read the default model's file list: " + e.getMessage(), e);
        }
    }

    private static InputStream open(String name) {
        InputStream in = DefaultModel.class.getClassLoader().getResourceAsStream(RESOURCE + name);
        if (in == null) {
            throw new LitException("this lit4j build has no default model (" + RESOURCE + name + " is not on the class path); "
                    + "build it with models/default/make.sh or pass --model PATH");
        }
        return in;
    }
}

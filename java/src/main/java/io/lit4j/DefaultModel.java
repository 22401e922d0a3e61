package io.lit4j;

import io.lit4j.checkpoint.Checkpoints;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Where the shipped default model is: {@code -Dlit4j.model} / {@code $LIT4J_MODEL} if set;
 * otherwise the copy inside the jar ({@code io/lit4j/models/default/}, listed in
 * {@code files.txt}), unpacked once into the cache folder keyed by its size and version.
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
        List<String> files = files();
        Path dir = CacheDir.root().resolve("models").resolve("default-" + Version.lit4j() + "-" + Integer.toHexString(String.join(",", files).hashCode()));
        if (Files.isRegularFile(dir.resolve("files.txt"))) {
            return dir;
        }
        Path tmp = dir.resolveSibling(dir.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            for (String f : files) {
                Path target = tmp.resolve(f);
                Files.createDirectories(target.getParent());
                try (InputStream in = open(f)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (InputStream in = open("files.txt")) {
                Files.copy(in, tmp.resolve("files.txt"));
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("files.txt"))) { // another JVM won: fine; otherwise a real error
                    throw raced;
                }
            }
            return dir;
        } catch (IOException e) {
            throw new LitException("cannot unpack the default model into " + dir + ": " + e.getMessage()
                    + " (set LIT4J_CACHE to a writable folder, or pass --model PATH)", e);
        } finally {
            Checkpoints.deleteQuietly(tmp);
        }
    }

    /** The sample images shipped with the default model and their labels (samples/samples.json). */
    public static Path samples() {
        return path().resolve("samples");
    }

    private static List<String> files() {
        try (InputStream in = open("files.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
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

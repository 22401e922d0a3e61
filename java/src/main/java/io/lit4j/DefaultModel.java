package io.lit4j;

import io.lit4j.io.AtomicFolder;

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
 * {@code files.txt}), unpacked once into the cache folder keyed by its file list and version.
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
        try (AtomicFolder unpacked = AtomicFolder.begin(dir, false, false)) {
            for (String f : files) {
                try (InputStream in = open(f)) {
                    Files.copy(in, unpacked.resolve(f), StandardCopyOption.REPLACE_EXISTING);
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

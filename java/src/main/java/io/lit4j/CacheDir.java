package io.lit4j;

import java.nio.file.Path;

/** Where lit4j keeps what it unpacks or computes once: native libraries, embeddings, datasets, the default model. */
public final class CacheDir {
    private CacheDir() {
    }

    /** {@code -Dlit4j.cache}, then {@code $LIT4J_CACHE}, then {@code $XDG_CACHE_HOME/lit4j}, then ~/.cache/lit4j. */
    public static Path root() {
        String p = System.getProperty("lit4j.cache");
        if (p == null || p.isBlank()) {
            p = System.getenv("LIT4J_CACHE");
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "lit4j");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "lit4j");
    }
}

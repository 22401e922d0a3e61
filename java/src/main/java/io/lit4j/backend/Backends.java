package io.lit4j.backend;

import io.lit4j.LitException;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;

import java.util.Locale;

/**
 * Picks the backend once and says why (Lucene's provider pattern): {@code -Dlit4j.backend} or
 * an explicit name forces a choice; otherwise oneDNN is probed and, if it cannot load, lit4j
 * falls back to the scalar backend and records the reason for {@code lit4j info}.
 */
public final class Backends {
    private Backends() {
    }

    /** The backend and the reason it was picked. */
    public record Choice(Backend backend, String reason) implements AutoCloseable {
        @Override
        public void close() {
            backend.close();
        }
    }

    /** Default thread count: the processors this JVM may use. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Opens a backend. {@code name} is "auto" (or null), "onednn", "scalar" or "cuda";
     * {@code threads} < 1 means {@link #defaultThreads()}.
     */
    public static Choice open(String name, int threads) {
        int n = threads < 1 ? defaultThreads() : threads;
        String forced = name;
        String why;
        if (forced == null || forced.isBlank() || forced.equalsIgnoreCase("auto")) {
            forced = System.getProperty("lit4j.backend");
            why = forced == null ? null : "forced by -Dlit4j.backend=" + forced;
        } else {
            why = "requested (--backend " + forced + ")";
        }
        if (forced != null && !forced.isBlank() && !forced.equalsIgnoreCase("auto")) {
            return new Choice(create(forced.toLowerCase(Locale.ROOT), n), why);
        }
        try {
            return new Choice(new OneDnnBackend(n), "auto: oneDNN loaded (the fastest CPU backend)");
        } catch (LitException | UnsatisfiedLinkError e) {
            return new Choice(new ScalarBackend(), "auto: oneDNN unavailable (" + e.getMessage() + "), fell back to the scalar backend");
        }
    }

    private static Backend create(String name, int threads) {
        return switch (name) {
            case "onednn", "dnnl", "cpu" -> new OneDnnBackend(threads);
            case "scalar", "java" -> new ScalarBackend();
            case "cuda", "gpu" -> throw new LitException("the cuda backend is not built yet (cuDNN/cuBLASLt bindings are in bindings/; the backend is a later step)");
            default -> throw new LitException("unknown backend '" + name + "' (auto, onednn, scalar)");
        };
    }
}

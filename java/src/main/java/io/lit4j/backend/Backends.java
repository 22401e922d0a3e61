package io.lit4j.backend;

import io.lit4j.LitException;
import io.lit4j.backend.cuda.CudaBackend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;

import java.util.Locale;

/**
 * Picks the backend once and says why (Lucene's provider pattern): {@code -Dlit4j.backend} or
 * an explicit name forces a choice; otherwise a usable GPU is taken (the cuda backend; see
 * {@link #AUTO_PICKS_CUDA}), then oneDNN, and if that cannot load either, the scalar backend; the
 * reason (why not the GPU, why not oneDNN) is recorded for {@code lit4j info}.
 */
public final class Backends {
    private Backends() {
    }

    /**
     * Whether {@code auto} takes a usable GPU. Off while the cuda backend is written and compiled but
     * has not yet run on a GPU (bench/gpu's device check); {@code --backend cuda} still asks for it.
     */
    static final boolean AUTO_PICKS_CUDA = false;

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
        String noGpu = CudaBackend.unavailableReason();
        if (noGpu == null && !AUTO_PICKS_CUDA) {
            noGpu = "a GPU is usable, but auto does not pick the cuda backend until it has passed the device check (bench/gpu); use --backend cuda";
        }
        if (noGpu == null) {
            try {
                return new Choice(new CudaBackend(0, n), "auto: a GPU is usable (the cuda backend)");
            } catch (LitException | UnsatisfiedLinkError e) {
                noGpu = e.getMessage();
            }
        }
        String notGpu = "; not the GPU: " + noGpu;
        try {
            return new Choice(new OneDnnBackend(n), "auto: oneDNN loaded (the fastest CPU backend)" + notGpu);
        } catch (LitException | UnsatisfiedLinkError e) {
            return new Choice(new ScalarBackend(), "auto: oneDNN unavailable (" + e.getMessage() + "), fell back to the scalar backend" + notGpu);
        }
    }

    private static Backend create(String name, int threads) {
        return switch (name) {
            case "onednn", "dnnl", "cpu" -> new OneDnnBackend(threads);
            case "scalar", "java" -> new ScalarBackend();
            case "cuda", "gpu" -> {
                String why = CudaBackend.unavailableReason();
                if (why != null) {
                    throw new LitException("the cuda backend cannot run here: " + why);
                }
                yield new CudaBackend(0, threads);
            }
            default -> throw new LitException("unknown backend '" + name + "' (auto, cuda, onednn, scalar)");
        };
    }
}

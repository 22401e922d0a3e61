package io.lit4j.backend.onednn;

import io.lit4j.bindings.omp.omp_h;

/**
 * oneDNN's OpenMP runtime (the libgomp bundled beside libdnnl). OpenMP keeps the thread count
 * per calling thread, so every Java thread that runs primitives sets it once before its first.
 */
final class Omp {
    private final int threads;
    private final ThreadLocal<Boolean> configured = ThreadLocal.withInitial(() -> Boolean.FALSE);

    Omp(int threads) {
        this.threads = threads;
    }

    /** Makes the calling thread's OpenMP teams {@code threads} wide. */
    void configureCurrentThread() {
        if (!configured.get()) {
            omp_h.omp_set_num_threads(threads);
            configured.set(Boolean.TRUE);
        }
    }

    /** What OpenMP reports for the calling thread (after {@link #configureCurrentThread}). */
    int maxThreads() {
        configureCurrentThread();
        return omp_h.omp_get_max_threads();
    }
}

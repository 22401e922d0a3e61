package io.lit4j.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of host memory held by tensor arenas of the CPU backends, now and at the most: weights,
 * packed weights, activations, gradients, optimizer moments and per-thread scratch. Benchmarks
 * set the process's resident set beside it to see what the JVM and the libraries add.
 */
public final class HostMemory {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private HostMemory() {
    }

    static void allocated(long bytes) {
        long now = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
    }

    static void freed(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    /** Bytes held now. */
    public static long live() {
        return LIVE.get();
    }

    /** The most bytes held at once since the JVM started. */
    public static long peak() {
        return PEAK.get();
    }
}

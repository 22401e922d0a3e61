package io.lit4j.backend;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time per op kind, for finding where a forward or training step spends its time. Off unless
 * enabled ({@code -Dlit4j.profile=true} or {@link #enable}); when off, recording costs one branch.
 */
public final class OpProfile {
    private static volatile boolean enabled = Boolean.getBoolean("lit4j.profile");
    private static final Map<String, LongAdder[]> TIMES = new ConcurrentHashMap<>();

    private OpProfile() {
    }

    public static boolean enabled() {
        return enabled;
    }

    public static void enable(boolean on) {
        enabled = on;
    }

    /** Runs {@code op}, adding its wall time to op {@code name} when profiling is on. */
    public static void time(String name, Runnable op) {
        if (!enabled) {
            op.run();
            return;
        }
        long t0 = System.nanoTime();
        op.run();
        record(name, System.nanoTime() - t0);
    }

    /** Adds {@code nanos} to op {@code name}. */
    public static void record(String name, long nanos) {
        LongAdder[] a = TIMES.computeIfAbsent(name, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
        a[0].add(nanos);
        a[1].increment();
    }

    public static void reset() {
        TIMES.clear();
    }

    /** Op name to {total nanoseconds, calls}, sorted by name. */
    public static Map<String, long[]> snapshot() {
        Map<String, long[]> out = new TreeMap<>();
        TIMES.forEach((k, v) -> out.put(k, new long[] {v[0].sum(), v[1].sum()}));
        return out;
    }

    /** A table of the ops by share of the total time. */
    public static String report() {
        Map<String, long[]> s = snapshot();
        long total = s.values().stream().mapToLong(v -> v[0]).sum();
        StringBuilder b = new StringBuilder(String.format("%-28s %10s %8s %7s%n", "op", "ms", "calls", "share"));
        s.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).forEach(e ->
                b.append(String.format("%-28s %10.1f %8d %6.1f%%%n", e.getKey(), e.getValue()[0] / 1e6, e.getValue()[1],
                        100.0 * e.getValue()[0] / Math.max(1, total))));
        return b.toString();
    }
}

package io.lit4j.train;

/**
 * Learning rate per step: linear warmup from {@code base/warmup} to {@code base} over the first
 * {@code warmup} steps, then cosine decay to {@code minLr} at step {@code total}.
 */
public record Schedule(double base, int warmup, int total, double minLr) {
    /** The rate of 0-based step {@code s}. */
    public double lr(long s) {
        if (s < warmup) {
            return base * (s + 1) / warmup;
        }
        if (total <= warmup) {
            return base;
        }
        double progress = Math.min(1.0, (double) (s - warmup) / (total - warmup));
        return minLr + (base - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}

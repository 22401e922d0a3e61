package io.lit4j.serve;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets, one per client (an API key's id, else the remote address): {@code burst} requests
 * at once, refilled at {@code perSecond}. The table is bounded: when it passes {@link #MAX_CLIENTS}
 * the buckets that are full again (idle clients) are dropped.
 */
final class RateLimiter {
    static final int MAX_CLIENTS = 10_000;

    private final double perSecond;
    private final double burst;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }
    }

    RateLimiter(double perSecond, int burst) {
        this.perSecond = perSecond;
        this.burst = Math.max(1, burst);
    }

    boolean enabled() {
        return perSecond > 0;
    }

    /** 0 when {@code client} may go now, else the whole seconds until it may. */
    long acquire(String client) {
        if (!enabled()) {
            return 0;
        }
        long now = System.nanoTime();
        if (buckets.size() > MAX_CLIENTS) {
            buckets.values().removeIf(b -> refill(b, now) >= burst);
        }
        Bucket b = buckets.computeIfAbsent(client, k -> new Bucket(burst, now));
        synchronized (b) {
            refill(b, now);
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return (long) Math.ceil((1 - b.tokens) / perSecond);
        }
    }

    private double refill(Bucket b, long now) {
        synchronized (b) {
            b.tokens = Math.min(burst, b.tokens + (now - b.last) / 1e9 * perSecond);
            b.last = now;
            return b.tokens;
        }
    }
}

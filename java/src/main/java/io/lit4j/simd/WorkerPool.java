package io.lit4j.simd;

import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's own threads for the loops that run in Java (softmax rows, LayerNorm rows, ...).
 * A sized pool that the engine owns and closes: never the common ForkJoinPool, never parallel
 * streams. The calling thread takes a share of the work, so a pool of {@code threads} uses
 * {@code threads - 1} workers. Calls from inside a worker run inline (no nested fan-out).
 */
public final class WorkerPool implements AutoCloseable {
    /** Loop body over the index range [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService executor;
    private final ThreadLocal<Boolean> inWorker = ThreadLocal.withInitial(() -> Boolean.FALSE);

    public WorkerPool(int threads, String name) {
        if (threads < 1) {
            throw new LitException("thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        AtomicInteger seq = new AtomicInteger();
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(() -> {
                inWorker.set(Boolean.TRUE);
                r.run();
            }, name + "-" + seq.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@code threads} contiguous chunks. Work
     * smaller than {@code grain} items per chunk is not split.
     */
    public void parallelFor(int n, int grain, Range body) {
        int chunks = executor == null || inWorker.get() ? 1 : Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        int per = (n + chunks - 1) / chunks;
        for (int c = 1; c < chunks; c++) {
            int from = c * per, to = Math.min(n, from + per);
            if (from < to) {
                futures.add(executor.submit(() -> body.run(from, to)));
            }
        }
        body.run(0, Math.min(n, per));
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LitException("interrupted while waiting for worker threads", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new LitException("worker thread failed: " + cause, cause);
            }
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}

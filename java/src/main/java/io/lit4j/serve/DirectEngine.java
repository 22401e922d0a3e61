package io.lit4j.serve;

import io.lit4j.LitModel;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The unbatched engine: one request is one {@link LitModel} call. At most {@code concurrency}
 * calls run at once (oneDNN already uses every core, so more would only fight); up to
 * {@code maxQueued} more wait in arrival order, each until its deadline; past that a request is
 * turned away at once with a 429.
 *
 * <p>The calls run on {@code concurrency} platform threads of this engine's own, not on the
 * requests' virtual threads: a virtual thread in a native call pins its carrier, and every
 * carrier that ran the model would keep an OpenMP team of its own, which slows every call (see
 * {@link LitModel#releaseThread}). The hand-off costs one wake-up each way.
 */
public final class DirectEngine implements Engine {
    private final LitModel model;
    private final Semaphore running;
    private final int concurrency;
    private final int maxQueued;
    private final AtomicInteger inSystem = new AtomicInteger(); // running plus waiting
    private final ExecutorService modelThreads; // as many as may run at once, so a submitted call never waits there
    private volatile BatchListener listener = (tower, size, tokens) -> { };

    public DirectEngine(LitModel model, int concurrency, int maxQueued) {
        this.model = model;
        this.concurrency = Math.max(1, concurrency);
        this.running = new Semaphore(this.concurrency, true);
        this.maxQueued = Math.max(0, maxQueued);
        this.modelThreads = Executors.newFixedThreadPool(this.concurrency, Thread.ofPlatform().name("lit4j-direct-", 1).daemon().factory());
    }

    @Override
    public Embedded texts(List<String> texts, Instant deadline) {
        return run("text", texts.size(), deadline, () -> model.embedTextRows(texts));
    }

    @Override
    public Embedded images(List<BufferedImage> images, Instant deadline) {
        return run("image", images.size(), deadline, () -> model.embedImageRows(images));
    }

    @Override
    public void listen(BatchListener l) {
        listener = l;
    }

    private Embedded run(String tower, int n, Instant deadline, Supplier<float[][]> call) {
        long queued = System.nanoTime();
        if (!Instant.now().isBefore(deadline)) {
            throw ApiError.unavailable("the request's deadline passed before it reached the model");
        }
        if (inSystem.incrementAndGet() > concurrency + maxQueued) {
            inSystem.decrementAndGet();
            throw ApiError.tooMany("the queue is full (" + maxQueued + " requests waiting); retry shortly", 1);
        }
        boolean got;
        try {
            long wait = Math.max(0, Duration.between(Instant.now(), deadline).toNanos());
            got = running.tryAcquire(wait, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            inSystem.decrementAndGet();
            Thread.currentThread().interrupt();
            throw ApiError.unavailable("the server is shutting down");
        }
        if (!got) {
            inSystem.decrementAndGet();
            throw ApiError.unavailable("the request's deadline passed while it waited in the queue");
        }
        try {
            long[] start = new long[1];
            float[][] v = onModelThread(() -> {
                start[0] = System.nanoTime();
                return call.get();
            });
            long end = System.nanoTime();
            listener.batch(tower, n, 0);
            return new Embedded(v, start[0] - queued, end - start[0], n);
        } finally {
            running.release();
            inSystem.decrementAndGet();
        }
    }

    /** Runs {@code call} on one of this engine's model threads and waits for it (it finishes even if this thread is interrupted). */
    private float[][] onModelThread(Supplier<float[][]> call) {
        Future<float[][]> f = modelThreads.submit(call::get);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the call is running and holds its permit: wait for it, then say so
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public int queueDepth() {
        return Math.max(0, inSystem.get() - (concurrency - running.availablePermits()));
    }

    @Override
    public void warm(int rounds) {
        Instant far = Instant.now().plus(Duration.ofMinutes(10));
        for (int r = 0; r < rounds; r++) {
            if (model.config().hasText()) {
                texts(List.of("a photo of a cat."), far);
                texts(List.of("a photo of a dog.", "a small red car parked by the road", "hello"), far);
            }
            if (model.config().hasImage()) {
                int s = model.preprocess().size();
                List<BufferedImage> batch = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    batch.add(new BufferedImage(s + i, s, BufferedImage.TYPE_INT_RGB));
                }
                images(batch.subList(0, 1), far);
                images(batch, far);
            }
        }
    }

    @Override
    public void close() {
        modelThreads.shutdown(); // the calls in flight finish; the model belongs to whoever opened it
    }
}

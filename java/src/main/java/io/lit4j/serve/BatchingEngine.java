package io.lit4j.serve;

import io.lit4j.embed.Batcher;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The batching engine: every text and image of every request goes to the library's
 * {@link Batcher}, which joins concurrent ones into shared forward passes on one model thread
 * (each input gets the vector it would get alone). A full queue answers 429, a deadline passed
 * 503. The request's queue and inference times are its slowest input's.
 */
public final class BatchingEngine implements Engine {
    /** The most a warm-up may take before the server says ready anyway. */
    static final Duration WARM_LIMIT = Duration.ofSeconds(60);

    private final Batcher batcher;

    /** Takes over {@code batcher}: closing this engine closes it. */
    public BatchingEngine(Batcher batcher) {
        this.batcher = batcher;
    }

    @Override
    public void listen(BatchListener l) {
        batcher.setListener((tower, size, tokens, queueNanosMax, inferenceNanos) -> l.batch(tower, size, tokens));
    }

    @Override
    public Embedded texts(List<String> texts, Instant deadline) {
        return join(texts, t -> batcher.text(t, deadline));
    }

    @Override
    public Embedded images(List<BufferedImage> images, Instant deadline) {
        return join(images, i -> batcher.image(i, deadline));
    }

    private <T> Embedded join(List<T> inputs, Function<T, CompletableFuture<Batcher.Embedded>> submit) {
        List<CompletableFuture<Batcher.Embedded>> futures = new ArrayList<>(inputs.size());
        try {
            for (T in : inputs) {
                futures.add(submit.apply(in));
            }
            float[][] v = new float[inputs.size()][];
            long queue = 0, inference = 0;
            int batch = 0;
            for (int i = 0; i < v.length; i++) {
                Batcher.Embedded e = futures.get(i).join();
                v[i] = e.vector();
                queue = Math.max(queue, e.queueNanos());
                inference = Math.max(inference, e.inferenceNanos());
                batch = Math.max(batch, e.batchSize());
            }
            return new Embedded(v, queue, inference, batch);
        } catch (RuntimeException e) {
            futures.forEach(f -> f.cancel(false)); // the rest of this request is not wanted any more
            Throwable c = (e instanceof CompletionException || e instanceof CancellationException) && e.getCause() != null ? e.getCause() : e;
            if (c instanceof Batcher.QueueFull) {
                throw ApiError.tooMany("the queue is full; retry shortly", 1);
            }
            if (c instanceof Batcher.DeadlineExceeded) {
                throw ApiError.unavailable("the request's deadline passed while it waited in the queue");
            }
            if (c instanceof Batcher.Closed) {
                throw ApiError.unavailable("the server is shutting down");
            }
            throw c instanceof RuntimeException r ? r : new CompletionException(c);
        }
    }

    @Override
    public int queueDepth() {
        return batcher.queuedTexts() + batcher.queuedImages();
    }

    @Override
    public void warm(int rounds) {
        if (rounds > 0) {
            batcher.warm(WARM_LIMIT);
        }
    }

    @Override
    public void close() {
        batcher.close();
    }
}

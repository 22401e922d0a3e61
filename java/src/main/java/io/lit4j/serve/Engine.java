package io.lit4j.serve;

import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.List;

/**
 * What the server asks of a model: embeddings of texts and of decoded images, each with how long
 * the request waited and how long the towers ran. {@link DirectEngine} calls {@code LitModel}
 * once per request; {@link BatchingEngine} joins concurrent requests in the library's
 * {@code Batcher}, which gives every input the vector the library gives it alone. Implementations are thread-safe; a call that cannot start before
 * {@code deadline} throws {@link ApiError#unavailable}, one that finds the queue full
 * {@link ApiError#tooMany}.
 */
public interface Engine extends AutoCloseable {
    /** The vectors (one per input, L2-normalised) and where the time went. */
    record Embedded(float[][] vectors, long queueNanos, long inferenceNanos, int batchSize) {
    }

    /** Hears every tower call the engine makes: its tower ("text" or "image"), its size and its real tokens (0 when unknown). */
    @FunctionalInterface
    interface BatchListener {
        void batch(String tower, int size, int tokens);
    }

    /** From now on, tell {@code l} of every tower call (for the batch-size metrics). */
    void listen(BatchListener l);

    Embedded texts(List<String> texts, Instant deadline);

    Embedded images(List<BufferedImage> images, Instant deadline);

    /** Requests waiting to run now (the queue-depth gauge). */
    int queueDepth();

    /** Runs each tower at the shapes requests will use, {@code rounds} times, so the first request is not the slow one. */
    void warm(int rounds);

    @Override
    void close();
}

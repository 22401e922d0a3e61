package io.lit4j.serve;

import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.List;

/**
 * What the server asks of a model: embeddings of texts and of decoded images, each with how long
 * the request waited and how long the towers ran. {@link DirectEngine} calls {@code LitModel}
 * once per request; a batching engine may join requests, as long as every vector is the one the
 * library gives for that input. Implementations are thread-safe; a call that cannot start before
 * {@code deadline} throws {@link ApiError#unavailable}, one that finds the queue full
 * {@link ApiError#tooMany}.
 */
public interface Engine extends AutoCloseable {
    /** The vectors (one per input, L2-normalised) and where the time went. */
    record Embedded(float[][] vectors, long queueNanos, long inferenceNanos, int batchSize) {
    }

    Embedded texts(List<String> texts, Instant deadline);

    Embedded images(List<BufferedImage> images, Instant deadline);

    /** Requests waiting to run now (the queue-depth gauge). */
    int queueDepth();

    /** Runs each tower at the shapes requests will use, {@code rounds} times, so the first request is not the slow one. */
    void warm(int rounds);

    @Override
    void close();
}

package io.lit4j.serve;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One request's bookkeeping, made by the {@link Guards} filter and filled in by the handler: its
 * id, when it arrived, which endpoint it reached and where its time went. Read once more when the
 * response is sent, for the timing headers, the metrics and the access log line.
 */
final class Exchange {
    private static final AtomicLong NEXT = new AtomicLong();

    final String id = Long.toString(NEXT.incrementAndGet(), 36);
    final long startNanos = System.nanoTime();
    /** The client a rate limit counts against: the API key's id, else the remote address. */
    String client;
    String endpoint = "other";
    String errorType;
    long queueNanos;
    long preprocessNanos;
    long inferenceNanos;

    void engine(Engine.Embedded e) {
        queueNanos += e.queueNanos();
        inferenceNanos += e.inferenceNanos();
    }

    long totalNanos() {
        return System.nanoTime() - startNanos;
    }
}

package io.lit4j.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one JVM do not mix):
 * requests by endpoint and status, failures by endpoint and error type, latency split into
 * queue / preprocessing / inference / total, the batch sizes (and text tokens) the engine ran, and the queue depth.
 * Labels come from fixed sets (the endpoint names, the error types), never from a request's path.
 */
final class ServeMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter failures;
    private final Histogram latency;
    private final Histogram batchSize;
    private final Histogram batchTokens;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    ServeMetrics(IntSupplier queueDepth) {
        requests = Counter.builder().name("lit4j_requests_total").help("HTTP requests by endpoint and status")
                .labelNames("endpoint", "status").register(registry);
        failures = Counter.builder().name("lit4j_failures_total").help("failed requests by endpoint and error type")
                .labelNames("endpoint", "type").register(registry);
        latency = Histogram.builder().name("lit4j_request_seconds").help("request latency by phase: queue, preprocess, inference, total")
                .labelNames("endpoint", "phase").classicOnly().classicExponentialUpperBounds(0.00025, 2, 15).register(registry);
        batchSize = Histogram.builder().name("lit4j_batch_size").help("inputs per tower call")
                .labelNames("tower").classicOnly().classicExponentialUpperBounds(1, 2, 10).register(registry);
        batchTokens = Histogram.builder().name("lit4j_batch_tokens").help("real tokens per text tower call (batching engine)")
                .classicOnly().classicExponentialUpperBounds(16, 2, 12).register(registry);
        GaugeWithCallback.builder().name("lit4j_queue_depth").help("requests waiting for the model")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
    }

    void request(String endpoint, int status, String errorType) {
        requests.labelValues(endpoint, Integer.toString(status)).inc();
        if (errorType != null) {
            failures.labelValues(endpoint, errorType).inc();
        }
    }

    void phase(String endpoint, String phase, long nanos) {
        latency.labelValues(endpoint, phase).observe(nanos / 1e9);
    }

    void batch(String tower, int size, int tokens) {
        batchSize.labelValues(tower).observe(size);
        if (tokens > 0) {
            batchTokens.observe(tokens);
        }
    }

    /** The text exposition format (version 0.0.4). */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    String contentType() {
        return writer.getContentType();
    }
}

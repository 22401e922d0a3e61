package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.embed.Batcher;
import io.lit4j.serve.ApiKeys;
import io.lit4j.serve.BatchingEngine;
import io.lit4j.serve.DirectEngine;
import io.lit4j.serve.Engine;
import io.lit4j.serve.LitServer;
import io.lit4j.serve.ServeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code lit4j serve}: the model over HTTP (see {@link LitServer}). Bound to 127.0.0.1 unless
 * {@code --host} says otherwise; keys from {@code --api-keys-file} and/or {@code LIT4J_API_KEYS};
 * TLS from PEM files or a PKCS#12 keystore. On SIGTERM or Ctrl-C it stops accepting, finishes
 * the requests in flight and exits 0.
 */
@Command(name = "serve", description = {"Serve the model over HTTP: embeddings (OpenAI-compatible /v1/embeddings too), zero-shot classification, similarity.",
        "Secure by default: 127.0.0.1 only unless --host; with keys every endpoint but /health needs 'Authorization: Bearer KEY'."})
final class ServeCommand implements Callable<Integer> {
    /** The environment variable that holds API keys, one per line. */
    static final String KEYS_ENV = "LIT4J_API_KEYS";

    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", paramLabel = "ADDR", description = "address to bind (0.0.0.0: every interface; then give API keys)", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", paramLabel = "P", description = "port (0: any free port, printed at start)", defaultValue = "8080")
    int port;

    @Option(names = "--api-keys-file", paramLabel = "FILE", description = "bearer API keys, one per line (# comments); also read from $" + KEYS_ENV)
    Path keysFile;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "TLS certificate chain (PEM); with --tls-key")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "TLS private key (PKCS#8 PEM)")
    Path tlsKey;

    @Option(names = "--tls-keystore", paramLabel = "P12", description = "TLS key and certificate in a PKCS#12 keystore (password from $LIT4J_TLS_PASSWORD)")
    Path tlsKeystore;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN", description = "an origin allowed to call from a browser, https://app.example (repeatable; none by default)")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--max-body", paramLabel = "BYTES", description = "largest request body", defaultValue = "16777216")
    long maxBody;

    @Option(names = "--max-pixels", paramLabel = "N", description = "largest image (width × height), checked before decoding", defaultValue = "40000000")
    long maxPixels;

    @Option(names = "--max-texts", paramLabel = "N", description = "most texts per request", defaultValue = "256")
    int maxTexts;

    @Option(names = "--max-connections", paramLabel = "N", description = "most open connections", defaultValue = "1024")
    int maxConnections;

    @Option(names = "--queue", paramLabel = "N", description = "requests that may wait for the model; more get 429", defaultValue = "256")
    int queue;

    @Option(names = "--read-timeout", paramLabel = "SECONDS", description = "most time a request's headers and body may take to arrive", defaultValue = "10")
    int readTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", description = "a connection with nothing to say, or still sending its request line, is closed after it",
            defaultValue = "60")
    int idleTimeout;

    @Option(names = "--request-timeout", paramLabel = "SECONDS", description = "a request not started by then gets 503", defaultValue = "30")
    int requestTimeout;

    @Option(names = "--rate", paramLabel = "PER_SECOND", description = "requests per second per key (else per address); 0: no limit", defaultValue = "100")
    double rate;

    @Option(names = "--batching", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "join concurrent requests into shared forward passes (same vectors as alone); --no-batching: one request, one model call")
    boolean batching;

    @Option(names = "--max-delay", paramLabel = "MS", description = "with batching: how long a batch waits for more requests once it has one", defaultValue = "0")
    int maxDelayMs;

    @Option(names = "--small-batch-rows", paramLabel = "ROWS", description = "with batching: a batch of at most this many rows (texts x context"
            + " length, images x tokens) runs on one thread, where that gives the same bits; 0: always the whole team", defaultValue = ""
            + Batcher.Options.SMALL_BATCH_ROWS)
    int smallBatchRows;

    @Option(names = "--idle-spin", paramLabel = "MICROSECONDS", description = "with batching: how long the idle model thread polls for the next"
            + " request before it parks (CPU for fewer wake-ups)", defaultValue = "0")
    int idleSpinMicros;

    @Option(names = "--warm", paramLabel = "ROUNDS", description = "warm-up rounds of each tower before /ready says ready", defaultValue = "3")
    int warm;

    @Override
    public Integer call() throws InterruptedException {
        List<String> keys = new ArrayList<>(ApiKeys.fromEnv(System.getenv(KEYS_ENV)));
        if (keysFile != null) {
            List<String> fromFile = ApiKeys.readFile(keysFile);
            if (ApiKeys.of(fromFile).isEmpty()) {
                throw new LitException(keysFile + ": no API keys in it (one key per line)");
            }
            keys.addAll(fromFile);
        }
        ServeOptions.Tls tls = tls();
        for (long v : new long[] {maxBody, maxPixels, maxTexts, maxConnections, readTimeout, idleTimeout, requestTimeout}) {
            if (v < 1) {
                throw new LitException("--max-body, --max-pixels, --max-texts, --max-connections and the timeouts take 1 or more (got " + v + ")");
            }
        }
        ServeOptions.Limits limits = ServeOptions.Limits.defaults().withMaxBodyBytes(maxBody).withMaxImagePixels(maxPixels)
                .withMaxTexts(maxTexts).withMaxConnections(maxConnections).withQueue(1, Math.max(0, queue))
                .withTimeouts(Duration.ofSeconds(readTimeout), Duration.ofSeconds(idleTimeout), Duration.ofSeconds(requestTimeout))
                .withRate(rate, (int) Math.max(1, Math.ceil(rate * 2)));
        ServeOptions options = ServeOptions.builder().host(host).port(port).apiKeys(keys).tls(tls).limits(limits).corsOrigins(corsOrigins)
                .warmRounds(Math.max(0, warm)).logs(common.quiet ? null : common.log(), common.log()).build();
        if (maxDelayMs < 0 || smallBatchRows < 0 || idleSpinMicros < 0) {
            throw new LitException("--max-delay, --small-batch-rows and --idle-spin take 0 or more (got " + maxDelayMs + ", " + smallBatchRows
                    + ", " + idleSpinMicros + ")");
        }
        LitModel model = modelOptions.open(common);
        LitServer server;
        try {
            Engine engine = batching
                    ? new BatchingEngine(model.batcher(Batcher.Options.defaults().withMaxDelay(Duration.ofMillis(maxDelayMs))
                            .withQueueCapacity(Math.max(1, queue)).withSmallBatchRows(smallBatchRows)
                            .withIdleSpin(Duration.ofNanos(idleSpinMicros * 1000L))))
                    : new DirectEngine(model, 1, queue);
            server = LitServer.start(model, modelOptions.model, engine, options);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        if (!ApiKeys.of(keys).isEmpty()) {
            common.note(ApiKeys.of(keys).size() + " API key(s) loaded");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            common.note("stopping: finishing the requests in flight");
            server.close();
            model.close();
            common.log().flush();
            stopped.countDown();
            Runtime.getRuntime().halt(0); // SIGTERM asked for a clean stop, and it was one
        }, "lit4j-serve-shutdown"));
        stopped.await();
        return 0;
    }

    private ServeOptions.Tls tls() {
        if (tlsKeystore != null) {
            if (tlsCert != null || tlsKey != null) {
                throw new LitException("give --tls-keystore or --tls-cert with --tls-key, not both");
            }
            return ServeOptions.Tls.pkcs12(tlsKeystore, System.getenv("LIT4J_TLS_PASSWORD"));
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new LitException("--tls-cert and --tls-key go together: give both PEM files");
        }
        return tlsCert == null ? null : ServeOptions.Tls.pem(tlsCert, tlsKey);
    }
}

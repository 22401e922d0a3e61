package io.lit4j.serve;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What every request passes before its handler: an id, the API key check (constant time, see
 * {@link ApiKeys}; {@code /health} stays open), the rate limit (per key, else per address), CORS
 * headers only for the origins named, and when the response is sent its metrics and one access
 * log line (id, method, path, status, bytes, timings, client; never a body or a key).
 * {@link SlowClients} cuts connections whose request takes too long to arrive.
 */
final class Guards implements Filter {
    /** The endpoints metrics are kept for; any other path counts as "other". */
    static final Set<String> ENDPOINTS = Set.of("/v1/embeddings", "/embed/texts", "/embed/images", "/classify", "/similarity",
            "/health", "/ready", "/info", "/metrics");

    private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

    private final ApiKeys keys;
    private final RateLimiter rate;
    private final List<String> corsOrigins;
    private final ServeMetrics metrics;
    private final PrintStream accessLog;

    Guards(ApiKeys keys, RateLimiter rate, List<String> corsOrigins, ServeMetrics metrics, PrintStream accessLog) {
        this.keys = keys;
        this.rate = rate;
        this.corsOrigins = corsOrigins;
        this.metrics = metrics;
        this.accessLog = accessLog;
    }

    static Exchange exchange(ServerRequest req) {
        return req.context().get(Exchange.class).orElseGet(Exchange::new);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Exchange x = new Exchange();
        req.context().register(x);
        String path = req.path().path();
        x.endpoint = ENDPOINTS.contains(path) ? path : "other";
        res.header("x-request-id", x.id);
        res.whenSent(() -> sent(req, res, x));
        String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
        if (origin != null && corsOrigins.contains(origin)) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            res.header(HeaderNames.VARY, "Origin");
            if (req.prologue().method().equals(Method.OPTIONS)) {
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST");
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type");
                res.status(Status.NO_CONTENT_204).send();
                return;
            }
        }
        String keyId = null;
        if (!keys.isEmpty() && !path.equals("/health")) {
            keyId = keys.check(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null));
            if (keyId == null) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"lit4j\"");
                Endpoints.fail(res, x, ApiError.unauthorized("a valid API key is needed: send 'Authorization: Bearer KEY'"));
                return;
            }
        }
        x.client = keyId != null ? "key:" + keyId : "addr:" + req.remotePeer().host();
        if (!path.equals("/health")) {
            long wait = rate.acquire(x.client);
            if (wait > 0) {
                Endpoints.fail(res, x, ApiError.tooMany("over the rate limit for this client; retry in " + wait + " s", wait));
                return;
            }
        }
        chain.proceed();
    }

    private void sent(ServerRequest req, RoutingResponse res, Exchange x) {
        int status = res.status().code();
        long total = x.totalNanos();
        metrics.request(x.endpoint, status, x.errorType);
        metrics.phase(x.endpoint, "total", total);
        if (x.inferenceNanos > 0) {
            metrics.phase(x.endpoint, "queue", x.queueNanos);
            metrics.phase(x.endpoint, "preprocess", x.preprocessNanos);
            metrics.phase(x.endpoint, "inference", x.inferenceNanos);
        }
        String path = CONTROL.matcher(req.path().path()).replaceAll("?"); // a decoded %0d%0a must not start a log line
        accessLog.println(String.format(Locale.ROOT, "lit4j serve: %s %s %s %d %dB queue=%.2fms pre=%.2fms inf=%.2fms total=%.2fms %s",
                x.id, req.prologue().method().text(), path.length() > 100 ? path.substring(0, 100) + "..." : path, status,
                res.bytesWritten(), x.queueNanos / 1e6, x.preprocessNanos / 1e6, x.inferenceNanos / 1e6, total / 1e6,
                x.client == null ? "-" : x.client));
    }

    /**
     * Cuts a connection whose request (headers and body) is still arriving {@code limitNanos}
     * after its request line: a socket read timeout never fires for a client that sends a byte a
     * second. Helidon reads a request and runs its handler on one thread per connection, so the
     * clock is kept per thread: started when Helidon has read a request line, stopped when the
     * handler has read the body ({@link #bodyRead}) or a response starts; a watchdog closes the
     * sockets of requests over the limit. (The request line itself is cut by Helidon's
     * idle-connection check: Helidon 4.5 tells no listener when a request's first bytes arrive,
     * since its {@code DataReader} keeps the receive listener it is given but never calls it, so no
     * separate request-line clock can start earlier than the request line's end.)
     */
    static final class SlowClients implements AutoCloseable {
        private record Reading(ConnectionContext ctx, long since) {
        }

        private final long limitNanos;
        private final Map<Thread, Reading> reading = new ConcurrentHashMap<>();
        private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lit4j-serve-slow-clients");
            t.setDaemon(true);
            return t;
        });

        SlowClients(long limitNanos) {
            this.limitNanos = limitNanos;
            long period = Math.clamp(limitNanos / 4, 50_000_000L, 1_000_000_000L);
            watchdog.scheduleAtFixedRate(this::cut, period, period, TimeUnit.NANOSECONDS);
        }

        /** Starts the clock when a request line has been read. */
        Http1ConnectionListener receiving() {
            return new Http1ConnectionListener() {
                @Override
                public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                    reading.put(Thread.currentThread(), new Reading(ctx, System.nanoTime()));
                }
            };
        }

        /** Stops it when a response starts (a request without a body, or one refused early). */
        Http1ConnectionListener sending() {
            return new Http1ConnectionListener() {
                @Override
                public void status(ConnectionContext ctx, Status status) {
                    reading.remove(Thread.currentThread());
                }
            };
        }

        /** Stops it when the handler on this thread has the whole body. */
        void bodyRead() {
            reading.remove(Thread.currentThread());
        }

        private void cut() {
            long now = System.nanoTime();
            reading.forEach((thread, r) -> {
                if (now - r.since() > limitNanos && reading.remove(thread, r)) {
                    r.ctx().serverSocket().close();
                }
            });
        }

        @Override
        public void close() {
            watchdog.shutdownNow();
        }
    }
}

package io.lit4j.serve;

import io.lit4j.LitException;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How a {@link LitServer} listens and what it allows. Secure by default: bound to 127.0.0.1, no
 * CORS headers, every limit on. {@code apiKeys} empty means open (fine on loopback; the server
 * warns when it is bound elsewhere without keys). Build with {@link #builder()}.
 */
public record ServeOptions(String host, int port, List<String> apiKeys, Tls tls, Limits limits, List<String> corsOrigins,
                           int warmRounds, PrintStream accessLog, PrintStream log) {
    public ServeOptions {
        apiKeys = List.copyOf(apiKeys);
        corsOrigins = List.copyOf(corsOrigins);
        if (port < 0 || port > 65535) {
            throw new LitException("port " + port + ": give 0 (any free port) to 65535");
        }
    }

    /**
     * Where the server's certificate comes from: PEM files (a certificate chain and its private
     * key, PKCS#8) or a PKCS#12 keystore with its password. TLS 1.2 and 1.3 only.
     */
    public record Tls(Path certPem, Path keyPem, Path keystore, String keystorePassword) {
        public static Tls pem(Path cert, Path key) {
            return new Tls(cert, key, null, null);
        }

        public static Tls pkcs12(Path keystore, String password) {
            return new Tls(null, null, keystore, password);
        }
    }

    /**
     * What one request, one client and the whole server may take. Sizes in bytes, pixels or
     * counts; {@code readTimeout}: the most a request's headers and body may take to arrive (a
     * client sending a byte a second is cut there); {@code idleTimeout}: a kept-alive connection
     * with nothing to say, or one still sending its request line, is closed after it; {@code requestTimeout}: the deadline from arrival to
     * the start of inference (503 past it); {@code ratePerSecond} ≤ 0: no rate limit.
     */
    public record Limits(long maxBodyBytes, int maxHeaderBytes, long maxImagePixels, int maxTexts, int maxChars, int maxImages,
                         int maxLabels, int maxConnections, int concurrency, int maxQueued, Duration readTimeout,
                         Duration idleTimeout, Duration requestTimeout, double ratePerSecond, int rateBurst) {
        public static Limits defaults() {
            return new Limits(16L << 20, 16 << 10, 40_000_000L, 256, 8192, 64, 1000, 1024, 1, 256, Duration.ofSeconds(10),
                    Duration.ofSeconds(60), Duration.ofSeconds(30), 100, 200);
        }

        public Limits withMaxBodyBytes(long v) {
            return new Limits(v, maxHeaderBytes, maxImagePixels, maxTexts, maxChars, maxImages, maxLabels, maxConnections, concurrency,
                    maxQueued, readTimeout, idleTimeout, requestTimeout, ratePerSecond, rateBurst);
        }

        public Limits withMaxTexts(int v) {
            return new Limits(maxBodyBytes, maxHeaderBytes, maxImagePixels, v, maxChars, maxImages, maxLabels, maxConnections, concurrency,
                    maxQueued, readTimeout, idleTimeout, requestTimeout, ratePerSecond, rateBurst);
        }

        public Limits withMaxImagePixels(long v) {
            return new Limits(maxBodyBytes, maxHeaderBytes, v, maxTexts, maxChars, maxImages, maxLabels, maxConnections, concurrency,
                    maxQueued, readTimeout, idleTimeout, requestTimeout, ratePerSecond, rateBurst);
        }

        public Limits withQueue(int concurrency, int maxQueued) {
            return new Limits(maxBodyBytes, maxHeaderBytes, maxImagePixels, maxTexts, maxChars, maxImages, maxLabels, maxConnections,
                    concurrency, maxQueued, readTimeout, idleTimeout, requestTimeout, ratePerSecond, rateBurst);
        }

        public Limits withTimeouts(Duration read, Duration idle, Duration request) {
            return new Limits(maxBodyBytes, maxHeaderBytes, maxImagePixels, maxTexts, maxChars, maxImages, maxLabels, maxConnections,
                    concurrency, maxQueued, read, idle, request, ratePerSecond, rateBurst);
        }

        public Limits withRate(double perSecond, int burst) {
            return new Limits(maxBodyBytes, maxHeaderBytes, maxImagePixels, maxTexts, maxChars, maxImages, maxLabels, maxConnections,
                    concurrency, maxQueued, readTimeout, idleTimeout, requestTimeout, perSecond, burst);
        }

        public Limits withMaxConnections(int v) {
            return new Limits(maxBodyBytes, maxHeaderBytes, maxImagePixels, maxTexts, maxChars, maxImages, maxLabels, v, concurrency,
                    maxQueued, readTimeout, idleTimeout, requestTimeout, ratePerSecond, rateBurst);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Loopback, port 8080, no keys, no TLS, default limits, 3 warm-up rounds, logs to stderr. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private List<String> apiKeys = List.of();
        private Tls tls;
        private Limits limits = Limits.defaults();
        private List<String> corsOrigins = List.of();
        private int warmRounds = 3;
        private PrintStream accessLog = System.err;
        private PrintStream log = System.err;

        public Builder host(String h) {
            host = h;
            return this;
        }

        public Builder port(int p) {
            port = p;
            return this;
        }

        public Builder apiKeys(List<String> keys) {
            apiKeys = keys;
            return this;
        }

        public Builder tls(Tls t) {
            tls = t;
            return this;
        }

        public Builder limits(Limits l) {
            limits = l;
            return this;
        }

        public Builder corsOrigins(List<String> origins) {
            corsOrigins = origins;
            return this;
        }

        public Builder warmRounds(int r) {
            warmRounds = r;
            return this;
        }

        /** Where the access log (one line per request) and the server's notes go; {@code null}: nowhere. */
        public Builder logs(PrintStream access, PrintStream notes) {
            accessLog = access != null ? access : new PrintStream(OutputStream.nullOutputStream());
            log = notes != null ? notes : new PrintStream(OutputStream.nullOutputStream());
            return this;
        }

        public ServeOptions build() {
            return new ServeOptions(host, port, apiKeys, tls, limits, corsOrigins, warmRounds, accessLog, log);
        }
    }
}

package io.lit4j.serve;

import com.google.gson.JsonObject;
import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import io.helidon.common.pki.PemKeys;
import io.helidon.common.tls.Tls;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import io.lit4j.LitException;
import io.lit4j.LitModel;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code lit4j serve} as a library class: an HTTP (or HTTPS) server on Helidon SE in front of a
 * {@link LitModel}, started inside the caller's JVM. {@link #start} binds, warms the towers, then
 * reports ready; {@link #close} stops accepting, lets the requests in flight finish (up to 10 s)
 * and returns. The model stays the caller's to close.
 *
 * <pre>{@code
 * try (LitModel model = LitModel.loadDefault();
 *      LitServer server = LitServer.start(model, "default", ServeOptions.builder().port(0).build())) {
 *     System.out.println("listening on " + server.port());
 * }
 * }</pre>
 */
public final class LitServer implements AutoCloseable {
    /** How long {@link #close} waits for the requests in flight. */
    static final Duration GRACE = Duration.ofSeconds(10);
    /** Helidon's INFO lines (features, "started") are its own business; lit4j says what matters. */
    private static final Logger HELIDON_LOG = Logger.getLogger("io.helidon");

    private final WebServer server;
    private final Engine engine;
    private final Guards.SlowClients slow;
    private final boolean tls;
    private volatile boolean ready;

    private LitServer(LitModel model, String modelName, Engine engine, ServeOptions o) {
        this.engine = engine;
        ServeOptions.Limits l = o.limits();
        ApiKeys keys = ApiKeys.of(o.apiKeys());
        ServeMetrics metrics = new ServeMetrics(engine::queueDepth);
        engine.listen(metrics::batch);
        this.slow = new Guards.SlowClients(l.readTimeout().toNanos());
        Endpoints ep = new Endpoints(model, modelName, engine, l, () -> ready, slow::bodyRead);
        Guards guards = new Guards(keys, new RateLimiter(l.ratePerSecond(), l.rateBurst()), o.corsOrigins(), metrics, o.accessLog());
        HttpRouting.Builder routing = HttpRouting.builder().addFilter(guards)
                .post("/v1/embeddings", ep.post("/v1/embeddings", ep::openAiEmbeddings))
                .post("/embed/texts", ep.post("/embed/texts", ep::embedTexts))
                .post("/embed/images", ep.post("/embed/images", ep::embedImages))
                .post("/classify", ep.post("/classify", ep::classify))
                .post("/similarity", ep.post("/similarity", ep::similarity))
                .get("/health", (req, res) -> Endpoints.sendJson(res, Guards.exchange(req), 200, status("ok")))
                .get("/ready", (req, res) -> ready(req, res))
                .get("/info", (req, res) -> Endpoints.sendJson(res, Guards.exchange(req), 200, ep.info()))
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, metrics.contentType());
                    res.send(metrics.scrape());
                })
                .any(LitServer::unknown);
        WebServerConfig.Builder b = WebServer.builder()
                .host(o.host()).port(o.port())
                .shutdownHook(false)
                .shutdownGracePeriod(GRACE)
                .maxPayloadSize(l.maxBodyBytes() + (1 << 20)) // a backstop: Requests.body answers first, in JSON
                .maxTcpConnections(l.maxConnections())
                .idleConnectionTimeout(l.idleTimeout())
                .idleConnectionPeriod(Duration.ofMillis(Math.clamp(l.idleTimeout().toMillis() / 4, 50, 5000)))
                .connectionOptions(s -> s.readTimeout(l.readTimeout()))
                .addProtocol(Http1Config.builder().maxHeadersSize(l.maxHeaderBytes()).maxPrologueLength(8192)
                        .addReceiveListener(slow.receiving()).addSendListener(slow.sending()).build())
                .directHandlers(jsonDirectHandlers())
                .routing(routing);
        if (o.tls() != null) {
            b.tls(tls(o.tls()));
        }
        this.tls = o.tls() != null;
        this.server = b.build();
    }

    /** Starts a server over a {@link DirectEngine} (one request, one model call) with the options' queue limits. */
    public static LitServer start(LitModel model, String modelName, ServeOptions options) {
        Engine engine = new DirectEngine(model, options.limits().concurrency(), options.limits().maxQueued());
        return start(model, modelName, engine, options);
    }

    /** Binds, warms {@code engine} ({@link ServeOptions#warmRounds} rounds), then reports ready. */
    public static LitServer start(LitModel model, String modelName, Engine engine, ServeOptions options) {
        HELIDON_LOG.setLevel(Level.WARNING);
        if (!loopback(options.host()) && options.apiKeys().stream().allMatch(String::isBlank)) {
            options.log().println("lit4j serve: warning: listening on " + options.host() + " without API keys: anyone who can reach"
                    + " this address can use the model (give --api-keys-file or LIT4J_API_KEYS)");
        }
        LitServer s = new LitServer(model, modelName, engine, options);
        try {
            s.server.start();
        } catch (RuntimeException e) {
            throw new LitException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        options.log().println("lit4j serve: listening on " + s.uri(options.host()) + "; warming up");
        long t0 = System.nanoTime();
        engine.warm(options.warmRounds());
        s.ready = true;
        options.log().println(String.format("lit4j serve: ready (warmed in %.1f s)", (System.nanoTime() - t0) / 1e9));
        return s;
    }

    /** The port bound (the one picked when the options asked for 0). */
    public int port() {
        return server.port();
    }

    public boolean isTls() {
        return tls;
    }

    /** True once warmed, false again when closing. */
    public boolean isReady() {
        return ready;
    }

    private String uri(String host) {
        return (tls ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** Stops accepting, finishes the requests in flight (at most {@link #GRACE}), stops. */
    @Override
    public void close() {
        ready = false;
        server.stop();
        slow.close();
        engine.close();
    }

    private void ready(ServerRequest req, ServerResponse res) {
        Exchange x = Guards.exchange(req);
        if (ready) {
            Endpoints.sendJson(res, x, 200, status("ready"));
        } else {
            Endpoints.fail(res, x, ApiError.unavailable("warming up"));
        }
    }

    private static void unknown(ServerRequest req, ServerResponse res) {
        String path = req.path().path();
        Exchange x = Guards.exchange(req);
        if (Guards.ENDPOINTS.contains(path)) {
            boolean get = List.of("/health", "/ready", "/info", "/metrics").contains(path);
            res.header(HeaderNames.ALLOW, get ? "GET" : "POST");
            Endpoints.fail(res, x, ApiError.methodNotAllowed(req.prologue().method().text() + " " + path + ": use " + (get ? "GET" : "POST")));
        } else {
            Endpoints.fail(res, x, ApiError.notFound("no endpoint here; see /info and the README's 'lit4j serve' section"));
        }
    }

    private static JsonObject status(String s) {
        JsonObject o = new JsonObject();
        o.addProperty("status", s);
        return o;
    }

    /** Errors Helidon answers itself (a malformed request line, headers too large, a body over the limit) as JSON too. */
    private static DirectHandlers jsonDirectHandlers() {
        DirectHandler json = (req, type, status, headers, message) -> {
            JsonObject o = new JsonObject();
            String m = message == null || message.isBlank() ? status.reasonPhrase() : message;
            o.addProperty("error", m.length() > 200 ? m.substring(0, 200) + "..." : m);
            o.addProperty("type", status.code() == 413 ? "too_large" : status.code() >= 500 ? "internal" : "invalid_request");
            headers.set(HeaderNames.CONTENT_TYPE, "application/json");
            return DirectHandler.TransportResponse.builder().status(status).headers(headers)
                    .entity(o.toString().getBytes(StandardCharsets.UTF_8)).keepAlive(false).build();
        };
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (DirectHandler.EventType t : DirectHandler.EventType.values()) {
            b.addHandler(t, json);
        }
        return b.build();
    }

    private static Tls tls(ServeOptions.Tls t) {
        PrivateKey key;
        List<X509Certificate> chain;
        if (t.keystore() != null) {
            need(t.keystore(), "--tls-keystore");
            KeyStore ks;
            char[] password = t.keystorePassword() == null ? new char[0] : t.keystorePassword().toCharArray();
            try (InputStream in = Files.newInputStream(t.keystore())) {
                ks = KeyStore.getInstance("PKCS12");
                ks.load(in, password);
                String alias = null;
                for (String a : Collections.list(ks.aliases())) {
                    if (alias == null && ks.isKeyEntry(a)) {
                        alias = a;
                    }
                }
                if (alias == null) {
                    throw new LitException(t.keystore() + ": the keystore holds no private key");
                }
                key = (PrivateKey) ks.getKey(alias, password);
                chain = Arrays.stream(ks.getCertificateChain(alias)).map(c -> (X509Certificate) c).toList();
            } catch (IOException | GeneralSecurityException e) {
                throw new LitException(t.keystore() + ": cannot read the PKCS#12 keystore (wrong password? set LIT4J_TLS_PASSWORD): "
                        + e.getMessage(), e);
            }
        } else {
            need(t.certPem(), "--tls-cert");
            need(t.keyPem(), "--tls-key");
            try {
                Keys keys = Keys.builder().pem(PemKeys.builder().key(Resource.create(t.keyPem())).certChain(Resource.create(t.certPem())).build()).build();
                key = keys.privateKey().orElseThrow(() -> new LitException(t.keyPem() + ": no private key in it (PKCS#8 PEM expected)"));
                chain = keys.certChain();
            } catch (RuntimeException e) {
                throw e instanceof LitException ? e : new LitException("cannot read the TLS PEM files " + t.certPem() + " and " + t.keyPem()
                        + ": " + e.getMessage(), e);
            }
            if (chain.isEmpty()) {
                throw new LitException(t.certPem() + ": no certificate in it (PEM expected)");
            }
        }
        return Tls.builder().privateKey(key).privateKeyCertChain(chain).enabledProtocols(List.of("TLSv1.3", "TLSv1.2")).build();
    }

    private static void need(Path p, String option) {
        if (p == null || !Files.isRegularFile(p)) {
            throw new LitException(option + " " + p + ": no such file");
        }
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new LitException("--host " + host + ": not an address this machine can bind (" + e.getMessage() + ")");
        }
    }
}

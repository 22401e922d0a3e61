package io.lit4j.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.DefaultModel;
import io.lit4j.LitModel;
import io.lit4j.data.Images;
import io.lit4j.embed.Batcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LitServer} over real HTTP on 127.0.0.1 with the JDK's HttpClient: every endpoint, served
 * vectors equal to the library's bit for bit, concurrent clients, malformed and oversized
 * requests, API keys (missing, wrong, rotated), TLS from a keystore and from PEM files made here,
 * a slow client cut while others are served, and overload answered with 429s, never mixed up.
 */
@Timeout(120)
class LitServerTest {
    static final Path SAMPLES = DefaultModel.path().resolve("samples");
    static final ServeOptions.Limits LIMITS = ServeOptions.Limits.defaults().withMaxBodyBytes(1 << 20).withMaxTexts(64)
            .withTimeouts(Duration.ofMillis(1500), Duration.ofSeconds(30), Duration.ofSeconds(30)).withRate(0, 1);

    static LitModel model;
    static LitServer server;
    static HttpClient http;

    @BeforeAll
    static void start() {
        model = LitModel.loadDefault();
        server = LitServer.start(model, "default", options().limits(LIMITS).build());
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    static ServeOptions.Builder options() {
        return ServeOptions.builder().port(0).warmRounds(1).logs(null, null);
    }

    static String url(LitServer s, String path) {
        return (s.isTls() ? "https" : "http") + "://127.0.0.1:" + s.port() + path;
    }

    static HttpResponse<String> send(HttpClient client, LitServer s, String path, String type, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(s, path))).timeout(Duration.ofSeconds(30));
        if (body == null) {
            b.GET();
        } else {
            b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", type);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> postJson(String path, String json) throws Exception {
        return send(http, server, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    static JsonObject ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    static void assertError(int status, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), r.body());
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        assertTrue(o.has("error") && o.has("type"), r.body());
    }

    static float[][] rows(JsonArray a) {
        float[][] out = new float[a.size()][];
        for (int i = 0; i < a.size(); i++) {
            JsonArray r = a.get(i).getAsJsonArray();
            out[i] = new float[r.size()];
            for (int j = 0; j < r.size(); j++) {
                out[i][j] = r.get(j).getAsFloat();
            }
        }
        return out;
    }

    static String texts(String... t) {
        JsonArray a = new JsonArray();
        Arrays.stream(t).forEach(a::add);
        JsonObject o = new JsonObject();
        o.add("texts", a);
        return o.toString();
    }

    static byte[] sample(String name) throws IOException {
        return Files.readAllBytes(SAMPLES.resolve(name));
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    // ------------------------------------------------------------------ endpoints, bit for bit

    @Test
    void everyEndpointAnswersAndServedVectorsAreTheLibrarys() throws Exception {
        assertEquals("ok", ok(send(http, server, "/health", null, null)).get("status").getAsString());
        assertEquals("ready", ok(send(http, server, "/ready", null, null)).get("status").getAsString());
        assertEquals(model.embedDim(), ok(send(http, server, "/info", null, null)).get("embed_dim").getAsInt());

        List<String> t = List.of("a photo of a cat.", "a bag", "");
        HttpResponse<String> r = postJson("/embed/texts", texts(t.toArray(String[]::new)));
        for (String h : List.of("x-queue-time", "x-inference-time", "x-total-time", "x-request-id")) {
            assertTrue(r.headers().firstValue(h).isPresent(), h);
        }
        assertArrayEquals(model.embedTextRows(t), rows(ok(r).getAsJsonArray("embeddings")));

        JsonObject oa = ok(postJson("/v1/embeddings", "{\"input\": \"a photo of a cat.\", \"model\": \"x\"}"));
        assertArrayEquals(model.embedText("a photo of a cat."), rows(wrap(oa.getAsJsonArray("data").get(0).getAsJsonObject().getAsJsonArray("embedding")))[0]);
        assertTrue(oa.getAsJsonObject("usage").get("prompt_tokens").getAsInt() > 0);
        JsonObject ob = ok(postJson("/v1/embeddings", "{\"input\": [\"a\", \"b c\"], \"encoding_format\": \"base64\"}"));
        for (int i = 0; i < 2; i++) {
            byte[] raw = Base64.getDecoder().decode(ob.getAsJsonArray("data").get(i).getAsJsonObject().get("embedding").getAsString());
            float[] v = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            assertArrayEquals(model.embedText(List.of("a", "b c").get(i)), v);
        }

        byte[] bag = sample("fashion-bag.png"), coat = sample("fashion-coat.png");
        float[] bagZ = model.embedImage(Images.decode(bag, "bag"));
        float[][] raw = rows(ok(send(http, server, "/embed/images", "image/png", bag)).getAsJsonArray("embeddings"));
        assertArrayEquals(bagZ, raw[0]);
        float[][] json = rows(ok(postJson("/embed/images", "{\"images\": [\"" + b64(bag) + "\", \"" + b64(coat) + "\"]}")).getAsJsonArray("embeddings"));
        assertArrayEquals(model.embedImageRows(List.of(Images.decode(bag, "b"), Images.decode(coat, "c"))), json);
        String boundary = "lit4jBoundary";
        ByteArrayOutputStream form = new ByteArrayOutputStream();
        for (byte[] f : List.of(bag, coat)) {
            form.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            form.write(f);
            form.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        form.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        float[][] multi = rows(ok(send(http, server, "/embed/images", "multipart/form-data; boundary=" + boundary, form.toByteArray()))
                .getAsJsonArray("embeddings"));
        assertArrayEquals(json, multi);

        JsonObject c = ok(postJson("/classify", "{\"images\": [\"" + b64(bag) + "\"], \"labels\": [\"bag\", {\"name\": \"sneaker\", \"aliases\": [\"trainer\"]},"
                + " \"coat\"], \"templates\": \"clip_best\", \"top_k\": 2}"));
        JsonArray top = c.getAsJsonArray("results").get(0).getAsJsonObject().getAsJsonArray("top");
        assertEquals(2, top.size());
        assertEquals("bag", top.get(0).getAsJsonObject().get("label").getAsString());

        JsonObject s = ok(postJson("/similarity", "{\"images\": [\"" + b64(bag) + "\"], \"texts\": [\"a bag\"]}"));
        float[][] m = rows(s.getAsJsonArray("similarity"));
        assertEquals(model.similarity(new float[][] {bagZ}, model.embedTextRows(List.of("a bag")))[0][0], m[0][1]);

        String metrics = ok200(send(http, server, "/metrics", null, null));
        for (String name : List.of("lit4j_requests_total", "lit4j_failures_total", "lit4j_request_seconds_bucket", "lit4j_batch_size_bucket",
                "lit4j_queue_depth", "phase=\"inference\"", "phase=\"queue\"", "phase=\"preprocess\"")) {
            assertTrue(metrics.contains(name), name + " missing from /metrics");
        }
    }

    static JsonArray wrap(JsonArray row) {
        JsonArray a = new JsonArray();
        a.add(row);
        return a;
    }

    static String ok200(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    @Test
    void sixtyFourConcurrentClientsGetWhatSequentialOnesGet() throws Exception {
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            inputs.add("text number " + (i % 16) + (i % 3 == 0 ? " and a longer tail of words" : ""));
        }
        List<float[][]> sequential = new ArrayList<>();
        for (String in : inputs) {
            sequential.add(rows(ok(postJson("/embed/texts", texts(in))).getAsJsonArray("embeddings")));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(64)) {
            List<Future<float[][]>> futures = new ArrayList<>();
            for (String in : inputs) {
                futures.add(pool.submit(() -> rows(ok(postJson("/embed/texts", texts(in))).getAsJsonArray("embeddings"))));
            }
            for (int i = 0; i < inputs.size(); i++) {
                assertArrayEquals(sequential.get(i), futures.get(i).get(), inputs.get(i));
            }
        }
    }

    @Test
    void theBatchingEngineServesTheSameBitsAndShedsWhenFull() throws Exception {
        try (LitServer s = LitServer.start(model, "default", new BatchingEngine(model.batcher(
                Batcher.Options.defaults().withQueueCapacity(4))), options().limits(LIMITS).build());
             ExecutorService pool = Executors.newFixedThreadPool(64)) {
            List<Future<HttpResponse<String>>> futures = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String[] many = fill(1 + i % 8, "text " + i % 16);
                futures.add(pool.submit(() -> send(http, s, "/embed/texts", "application/json", texts(many).getBytes(StandardCharsets.UTF_8))));
            }
            int served = 0, shed = 0;
            for (int i = 0; i < futures.size(); i++) {
                HttpResponse<String> r = futures.get(i).get();
                if (r.statusCode() == 429) {
                    assertTrue(r.headers().firstValue("Retry-After").isPresent());
                    shed++;
                    continue;
                }
                float[][] got = rows(ok(r).getAsJsonArray("embeddings"));
                assertEquals(1 + i % 8, got.length);
                for (float[] row : got) {
                    assertArrayEquals(model.embedText("text " + i % 16), row, "request " + i);
                }
                served++;
            }
            assertTrue(served > 0 && served + shed == 64, served + " served, " + shed + " shed");
            byte[] bag = sample("fashion-bag.png");
            assertArrayEquals(model.embedImage(Images.decode(bag, "bag")),
                    rows(ok(send(http, s, "/embed/images", "image/png", bag)).getAsJsonArray("embeddings"))[0]);
            assertTrue(ok200(send(http, s, "/metrics", null, null)).contains("lit4j_batch_tokens_bucket"));
        }
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void malformedRequestsGetTheRightStatus() throws Exception {
        assertError(400, postJson("/embed/texts", "{\"texts\": [\"a\""));
        assertError(400, postJson("/embed/texts", "{\"texts\": [\"a\"]} trailing"));
        assertError(400, send(http, server, "/embed/texts", "application/json", new byte[] {'{', (byte) 0xC3, '}'}));
        assertError(422, postJson("/embed/texts", "[\"a\"]"));
        assertError(422, postJson("/embed/texts", "{\"texts\": [1, 2]}"));
        assertError(422, postJson("/embed/texts", "{\"texts\": \"not a list\"}"));
        assertError(422, postJson("/embed/texts", "{}"));
        assertError(422, postJson("/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}"));
        assertError(422, postJson("/classify", "{\"images\": [\"" + b64(sample("fashion-bag.png")) + "\"], \"labels\": [\"a\"], \"templates\": \"/etc/passwd\"}"));
        assertError(422, postJson("/classify", "{\"images\": [\"" + b64(sample("fashion-bag.png")) + "\"], \"labels\": [\"a\"], \"top_k\": 2.5}"));
        assertError(413, postJson("/embed/texts", texts(fill(65, "x"))));
        assertError(413, postJson("/embed/texts", texts("x".repeat(LIMITS.maxChars() + 1))));
        assertError(413, send(http, server, "/embed/images", "image/png", new byte[(1 << 20) + 10]));
        HttpRequest chunked = HttpRequest.newBuilder(URI.create(url(server, "/embed/images"))).header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
                    int left = (2 << 20);

                    @Override
                    public int read() {
                        return left-- > 0 ? 7 : -1;
                    }
                })).build();
        assertError(413, http.send(chunked, HttpResponse.BodyHandlers.ofString()));
        byte[] png = sample("fashion-bag.png");
        assertError(400, send(http, server, "/embed/images", "image/png", Arrays.copyOf(png, png.length / 2)));
        assertError(415, send(http, server, "/embed/images", "image/png", "GIF? no, text".getBytes(StandardCharsets.UTF_8)));
        assertError(415, send(http, server, "/embed/images", "text/plain", png));
        assertError(413, send(http, server, "/embed/images", "image/png", pngHeader(30_000, 30_000)));
        assertError(400, postJson("/embed/images", "{\"images\": [\"%%% not base64\"]}"));
        assertTrue(send(http, server, "/health", null, null, "X-Big", "a".repeat(LIMITS.maxHeaderBytes() + 10)).statusCode() >= 400,
                "headers over the limit");
        assertError(404, send(http, server, "/admin", null, null));
        assertError(405, send(http, server, "/embed/texts", null, null));
        // the server is still fine
        assertEquals(200, postJson("/embed/texts", texts("still here")).statusCode());
    }

    static String[] fill(int n, String s) {
        String[] a = new String[n];
        Arrays.fill(a, s);
        return a;
    }

    /** A PNG whose header claims {@code w} × {@code h} pixels, with no pixel data: a decompression bomb's shape. */
    static byte[] pngHeader(int w, int h) {
        ByteBuffer ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes(StandardCharsets.ISO_8859_1)).putInt(w).putInt(h)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        return ByteBuffer.allocate(8 + 4 + 17 + 4).put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}).putInt(13)
                .put(ihdr.array()).putInt((int) crc.getValue()).array();
    }

    // ------------------------------------------------------------------ keys and rate limits

    @Test
    void keysAreCheckedAndRotated() throws Exception {
        ByteArrayOutputStream access = new ByteArrayOutputStream();
        try (LitServer both = LitServer.start(model, "default", options().limits(LIMITS.withRate(1, 2)).apiKeys(List.of("old-key", "new-key"))
                .logs(new PrintStream(access, true, StandardCharsets.UTF_8), null).build());
             LitServer rotated = LitServer.start(model, "default", options().limits(LIMITS).apiKeys(List.of("new-key")).build())) {
            byte[] body = texts("a").getBytes(StandardCharsets.UTF_8);
            assertEquals(200, send(http, both, "/health", null, null).statusCode(), "/health stays open");
            HttpResponse<String> none = send(http, both, "/embed/texts", "application/json", body);
            assertError(401, none);
            assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
            assertError(401, send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer wrong-key"));
            assertError(401, send(http, both, "/info", null, null, "Authorization", "Basic b2xkLWtleQ=="));
            assertError(401, send(http, both, "/metrics", null, null));
            assertEquals(200, send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer old-key").statusCode());
            assertEquals(200, send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer new-key").statusCode());
            assertError(401, send(http, rotated, "/embed/texts", "application/json", body, "Authorization", "Bearer old-key"));
            assertEquals(200, send(http, rotated, "/embed/texts", "application/json", body, "Authorization", "Bearer new-key").statusCode());
            // rate limit per key: old-key has a burst of 2 and used 1
            assertEquals(200, send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer old-key").statusCode());
            HttpResponse<String> limited = send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer old-key");
            assertError(429, limited);
            assertTrue(limited.headers().firstValue("Retry-After").isPresent());
            // new-key has its own bucket, one of two used
            assertEquals(200, send(http, both, "/embed/texts", "application/json", body, "Authorization", "Bearer new-key").statusCode());
        }
        String log = access.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("POST /embed/texts 401") && log.contains("POST /embed/texts 429"), log);
        assertTrue(!log.contains("old-key") && !log.contains("new-key") && !log.contains("wrong-key") && !log.contains("\"texts\""),
                "keys or bodies in the access log: " + log);
    }

    @Test
    void corsOnlyForNamedOriginsAndAWarningWhenOpenBeyondLoopback() throws Exception {
        HttpResponse<String> none = send(http, server, "/info", null, null, "Origin", "https://evil.example");
        assertTrue(none.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "CORS header without any origin named");
        try (LitServer s = LitServer.start(model, "default", options().limits(LIMITS).corsOrigins(List.of("https://app.example")).build())) {
            assertEquals("https://app.example", send(http, s, "/info", null, null, "Origin", "https://app.example").headers()
                    .firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(send(http, s, "/info", null, null, "Origin", "https://evil.example").headers()
                    .firstValue("Access-Control-Allow-Origin").isEmpty());
        }
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        try (LitServer open = LitServer.start(model, "default", options().host("0.0.0.0").limits(LIMITS).warmRounds(0)
                .logs(null, new PrintStream(notes, true, StandardCharsets.UTF_8)).build())) {
            assertTrue(notes.toString(StandardCharsets.UTF_8).contains("without API keys"), notes.toString(StandardCharsets.UTF_8));
        }
    }

    // ------------------------------------------------------------------ TLS

    @Test
    void tlsFromAKeystoreAndFromPemFiles(@TempDir Path dir) throws Exception {
        Path p12 = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "lit4j", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", p12.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext trusting = SSLContext.getInstance("TLS");
        trusting.init(null, tmf.getTrustManagers(), null);
        HttpClient https = HttpClient.newBuilder().sslContext(trusting).version(HttpClient.Version.HTTP_1_1).build();

        Certificate cert = ks.getCertificate("lit4j");
        PrivateKey key = (PrivateKey) ks.getKey("lit4j", "changeit".toCharArray());
        Path certPem = dir.resolve("cert.pem"), keyPem = dir.resolve("key.pem");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));

        for (ServeOptions.Tls tls : List.of(ServeOptions.Tls.pkcs12(p12, "changeit"), ServeOptions.Tls.pem(certPem, keyPem))) {
            try (LitServer s = LitServer.start(model, "default", options().limits(LIMITS).tls(tls).build())) {
                assertTrue(s.isTls());
                assertArrayEquals(model.embedTextRows(List.of("a")), rows(ok(send(https, s, "/embed/texts", "application/json",
                        texts("a").getBytes(StandardCharsets.UTF_8))).getAsJsonArray("embeddings")));
                try (SSLSocket sock = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", s.port())) {
                    sock.startHandshake();
                    assertTrue(List.of("TLSv1.3", "TLSv1.2").contains(sock.getSession().getProtocol()), sock.getSession().getProtocol());
                }
                // plain HTTP on the TLS port gets no HTTP answer
                HttpRequest plain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health")).timeout(Duration.ofSeconds(5)).build();
                assertThrows(IOException.class, () -> http.send(plain, HttpResponse.BodyHandlers.ofString()));
            }
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    // ------------------------------------------------------------------ slow clients and overload

    @Test
    void aSlowClientIsCutWhileOthersAreServed() throws Exception {
        try (Socket slow = new Socket("127.0.0.1", server.port())) {
            slow.setSoTimeout(10_000);
            OutputStream o = slow.getOutputStream();
            o.write("POST /embed/texts HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            o.flush();
            long t0 = System.nanoTime();
            byte[] headers = "Host: x\r\nContent-Type: application/json\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            boolean cut = false;
            for (int i = 0; i < headers.length && !cut; i++) {
                try {
                    o.write(headers[i]);
                    o.flush();
                    if (i == 3) { // meanwhile, another client is served as usual
                        assertEquals(200, postJson("/embed/texts", texts("served")).statusCode());
                    }
                    Thread.sleep(100);
                } catch (IOException e) {
                    cut = true;
                }
            }
            if (!cut) {
                cut = slow.getInputStream().read() == -1;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(cut, "the slow client was not cut");
            assertTrue(seconds < LIMITS.readTimeout().toMillis() / 1000.0 + 3, "cut only after " + seconds + " s");
        } catch (IOException e) {
            // a reset while reading counts as cut too
        }
        assertEquals(200, postJson("/embed/texts", texts("after")).statusCode());
    }

    @Test
    void aClientDrippingTheRequestLineIsCutByTheIdleCheck() throws Exception {
        // Helidon's idle check counts a connection still sending its request line as idle: with a 2 s
        // idle limit, a request line arriving a byte every 100 ms (it would take 6 s) is cut near 2 s
        ServeOptions.Limits idle = LIMITS.withTimeouts(LIMITS.readTimeout(), Duration.ofSeconds(2), LIMITS.requestTimeout());
        byte[] line = "POST /embed/texts?padding=aaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
        try (LitServer s = LitServer.start(model, "default", options().limits(idle).warmRounds(0).build())) {
            long t0 = System.nanoTime();
            boolean cut = false;
            try (Socket slow = new Socket("127.0.0.1", s.port())) {
                slow.setSoTimeout(10_000);
                OutputStream o = slow.getOutputStream();
                for (int i = 0; i < line.length && !cut; i++) {
                    try {
                        o.write(line[i]);
                        o.flush();
                        Thread.sleep(100);
                    } catch (IOException e) {
                        cut = true;
                    }
                }
                if (!cut) {
                    cut = slow.getInputStream().read() == -1;
                }
            } catch (IOException e) {
                cut = true; // reset while reading
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(cut, "the client dripping its request line was not cut");
            assertTrue(seconds < idle.idleTimeout().toSeconds() + 3, "cut only after " + seconds + " s");
            assertEquals(200, send(http, s, "/health", null, null).statusCode());
        }
    }

    @Test
    void connectionsOverTheCapWaitUntilOneCloses() throws Exception {
        String health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
        try (LitServer s = LitServer.start(model, "default", options().limits(LIMITS.withMaxConnections(2)).warmRounds(0).build());
             Socket a = new Socket("127.0.0.1", s.port()); Socket b = new Socket("127.0.0.1", s.port())) {
            for (Socket held : List.of(a, b)) { // both answered, both kept alive: the cap is reached
                held.setSoTimeout(5000);
                assertTrue(exchange(held, health).startsWith("HTTP/1.1 200"), "a connection under the cap is served");
            }
            try (Socket third = new Socket("127.0.0.1", s.port())) { // the kernel completes the handshake; the server does not take it
                third.setSoTimeout(1000);
                third.getOutputStream().write(health.getBytes(StandardCharsets.US_ASCII));
                third.getOutputStream().flush();
                assertThrows(SocketTimeoutException.class, () -> third.getInputStream().read(), "a third connection was served over a cap of 2");
                a.close(); // a slot frees: the waiting connection is taken and answered
                third.setSoTimeout(5000);
                assertTrue(readAnswer(third).startsWith("HTTP/1.1 200"), "the waiting connection was not served once a slot freed");
            }
            assertTrue(exchange(b, health).startsWith("HTTP/1.1 200"), "a held connection still works");
        }
    }

    /** Sends {@code request} on an open connection and reads one answer (headers and a JSON body). */
    static String exchange(Socket sock, String request) throws IOException {
        sock.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        sock.getOutputStream().flush();
        return readAnswer(sock);
    }

    /** Reads from {@code sock} until one JSON answer has arrived (its closing brace) or the socket closes. */
    static String readAnswer(Socket sock) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        for (int n; !got.toString(StandardCharsets.ISO_8859_1).contains("}") && (n = sock.getInputStream().read(buf)) > 0; ) {
            got.write(buf, 0, n);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    /** What a raw socket gets back for {@code request}: everything the server sends before it closes or goes quiet for 5 s. */
    static String raw(LitServer s, String request) throws IOException {
        try (Socket sock = new Socket("127.0.0.1", s.port())) {
            sock.setSoTimeout(5000);
            sock.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            sock.getOutputStream().flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = sock.getInputStream().read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                    if (got.toString(StandardCharsets.ISO_8859_1).contains("}")) {
                        break; // one JSON answer is all these requests get
                    }
                }
            } catch (IOException e) {
                // closed or reset by the server: what came before is the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void protocolAbuseGetsJsonErrorsAndCannotForgeLogLines() throws Exception {
        ByteArrayOutputStream access = new ByteArrayOutputStream();
        try (LitServer s = LitServer.start(model, "default", options().limits(LIMITS).warmRounds(0)
                .logs(new PrintStream(access, true, StandardCharsets.UTF_8), null).build())) {
            String json = "Host: x\r\nContent-Type: application/json\r\n";
            assertTrue(raw(s, "POST /embed/texts HTTP/1.1\r\n" + json + "Transfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n")
                    .startsWith("HTTP/1.1 400"), "a bad chunk size");
            assertTrue(raw(s, "POST /embed/texts HTTP/1.1\r\n" + json + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                    .startsWith("HTTP/1.1 400"), "Content-Length and Transfer-Encoding together (smuggling)");
            assertTrue(raw(s, "POST /embed/texts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").startsWith("HTTP/1.1 400"));
            assertTrue(raw(s, "GET /health%0d%0aX-Forged:%20yes HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 404"));
            long t0 = System.nanoTime();
            raw(s, "POST /embed/texts HTTP/1.1\r\n" + json + "Content-Length: 100\r\n\r\n{\"texts\":"); // then silence
            assertTrue((System.nanoTime() - t0) / 1e9 < LIMITS.readTimeout().toMillis() / 1000.0 + 2, "a silent body was not cut");
            assertEquals(200, send(http, s, "/health", null, null).statusCode());
        }
        assertTrue(access.toString(StandardCharsets.UTF_8).lines().noneMatch(l -> l.startsWith("X-Forged")), access.toString(StandardCharsets.UTF_8));
    }

    @Test
    void closeStopsAcceptingAndFinishesWhatIsInFlight() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        DirectEngine direct = new DirectEngine(model, 1, 8);
        Engine held = new Engine() { // the model call of the first request waits until the test says go
            @Override
            public void listen(BatchListener l) {
                direct.listen(l);
            }

            @Override
            public Embedded texts(List<String> texts, Instant deadline) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return direct.texts(texts, deadline);
            }

            @Override
            public Embedded images(List<BufferedImage> images, Instant deadline) {
                return direct.images(images, deadline);
            }

            @Override
            public int queueDepth() {
                return direct.queueDepth();
            }

            @Override
            public void warm(int rounds) {
            }

            @Override
            public void close() {
            }
        };
        LitServer s = LitServer.start(model, "default", held, options().limits(LIMITS).build());
        int port = s.port();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Future<HttpResponse<String>> inFlight = pool.submit(() -> send(http, s, "/embed/texts", "application/json",
                    texts("in flight").getBytes(StandardCharsets.UTF_8)));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            Future<?> closing = pool.submit(s::close);
            Thread.sleep(300);
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close(), "still accepting while closing");
            release.countDown();
            assertArrayEquals(model.embedTextRows(List.of("in flight")), rows(ok(inFlight.get(10, TimeUnit.SECONDS)).getAsJsonArray("embeddings")));
            closing.get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void overloadGives429sAndNoMixedUpResponses() throws Exception {
        ServeOptions.Limits tight = LIMITS.withQueue(1, 1);
        try (LitServer s = LitServer.start(model, "default", options().limits(tight).build());
             ExecutorService pool = Executors.newFixedThreadPool(48)) {
            List<String> inputs = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                inputs.add("request " + i);
            }
            List<Future<HttpResponse<String>>> futures = new ArrayList<>();
            for (String in : inputs) {
                String[] many = fill(64, in); // 64 texts per request keeps the model busy
                Callable<HttpResponse<String>> call = () -> send(http, s, "/embed/texts", "application/json", texts(many).getBytes(StandardCharsets.UTF_8));
                futures.add(pool.submit(call));
            }
            int shed = 0;
            for (int i = 0; i < inputs.size(); i++) {
                HttpResponse<String> r = futures.get(i).get();
                if (r.statusCode() == 429) {
                    assertTrue(r.headers().firstValue("Retry-After").isPresent());
                    shed++;
                } else {
                    float[] expect = model.embedText(inputs.get(i));
                    float[][] got = rows(ok(r).getAsJsonArray("embeddings"));
                    assertArrayEquals(expect, got[0], "response " + i + " is not its own request's");
                }
            }
            assertTrue(shed > 0, "48 requests at once against a queue of 1 shed nothing");
        }
        try (LitServer late = LitServer.start(model, "default", options().limits(LIMITS.withTimeouts(LIMITS.readTimeout(), LIMITS.idleTimeout(),
                Duration.ofNanos(1))).build())) {
            assertError(503, send(http, late, "/embed/texts", "application/json", texts("a").getBytes(StandardCharsets.UTF_8)));
        }
    }
}

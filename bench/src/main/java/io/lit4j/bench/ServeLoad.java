package io.lit4j.bench;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.embed.Batcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The served load table: throughput and p50/p99/p99.9 latency at 1, 8, 64 and 256 closed-loop
 * clients over HTTP on 127.0.0.1, for one short text per request ({@code POST /v1/embeddings}) and
 * one sample PNG per request ({@code POST /embed/images}), with batching on and with batching off
 * (the direct engine: one request, one model call) as the baseline. Then the in-process figures
 * the goals compare with (batch-1 latency, the throughput at the batch size the server
 * formed and at batch 64, from {@link BatcherThroughput}) and one GOAL line per goal.
 *
 * <p>Each server is {@code lit4j serve --rate 0} in a process of its own (this JVM's class path, the
 * launcher's flags, its access log to a scratch file), started per mode, waited for until
 * {@code /ready}, and stopped with SIGTERM: the server has its own JIT, heap and OpenMP threads, so
 * neither the load generator's work nor the in-process figures (measured here first, on this
 * process's own copy of the default model, which idles while the servers run) leak into it.
 * {@code --url http://127.0.0.1:P} measures a running {@code lit4j serve --rate 0} instead (its own
 * mode only).
 *
 * <p>{@code --variants "new=;old=--small-batch-rows 0"} runs one batching server per variant, in
 * that order, each with its extra {@code lit4j serve} arguments, and gives each its own in-process
 * reference and GOAL lines (an A/B in one run; list a variant twice, e.g. {@code "a=;b=...;a2="}, to
 * see the drift of a shared machine); {@code --no-baseline} skips the no-batching server.
 *
 * <p>{@code bench/run-load.sh [--seconds S] [--warm-seconds W] [--clients 1,8,64,256] [--kinds text,image] [--threads T] [--url URL]
 * [--variants NAME=ARGS;...] [--no-baseline]}
 */
public final class ServeLoad {
    /** The most texts one batch of the server's {@code Batcher} takes (its default): "one full batch". */
    static final int FULL_BATCH = Batcher.Options.defaults().maxBatchTexts();
    private static final Pattern SERIES = Pattern.compile("^(lit4j_batch_size_sum\\{tower=\"(text|image)\"}|lit4j_batch_size_count\\{tower=\"(text|image)\"}|lit4j_batch_tokens_sum) (\\S+)$",
            Pattern.MULTILINE);

    private ServeLoad() {
    }

    /** One cell of the table. {@code batch}: the mean batch the server formed (NaN when it does not say); {@code tokens}: mean real tokens per text. */
    record Cell(String mode, String kind, int clients, HttpLoad.Result r, double batch, double tokens) {
    }

    /** A batching server to measure: its name in the table and the extra {@code lit4j serve} arguments it gets. */
    record Variant(String name, List<String> serveArgs) {
        /** {@code "name=args;name=args"}: args split on spaces, may be empty. */
        static List<Variant> parse(String spec) {
            List<Variant> out = new ArrayList<>();
            for (String part : spec.split(";")) {
                int eq = part.indexOf('=');
                String name = (eq < 0 ? part : part.substring(0, eq)).strip();
                String rest = eq < 0 ? "" : part.substring(eq + 1).strip();
                if (name.isEmpty() || !name.matches("[A-Za-z0-9_.+-]+")) {
                    throw new LitException("--variants: '" + part + "' should be NAME=ARGS (NAME of letters, digits, _ . + -)");
                }
                out.add(new Variant(name, rest.isEmpty() ? List.of() : List.of(rest.split("\\s+"))));
            }
            if (out.stream().map(Variant::name).distinct().count() < out.size()) {
                throw new LitException("--variants: each variant needs a name of its own: " + spec);
            }
            return out;
        }
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        Duration cell = Duration.ofMillis((long) (Double.parseDouble(a.s("--seconds", "3")) * 1000));
        Duration warm = Duration.ofMillis((long) (Double.parseDouble(a.s("--warm-seconds", "1")) * 1000));
        int[] clients = Arrays.stream(a.s("--clients", "1,8,64,256").split(",")).mapToInt(Integer::parseInt).toArray();
        List<String> kinds = List.of(a.s("--kinds", "text,image").split(","));
        int threads = a.i("--threads", 2);
        String url = a.s("--url", null);
        List<Variant> variants = Variant.parse(a.s("--variants", "batching="));
        boolean baseline = !a.has("--no-baseline");
        if (url != null && !URI.create(url).getHost().matches("127\\.0\\.0\\.1|localhost|\\[?::1]?")) {
            throw new LitException("--url " + url + ": the load generator targets loopback only (127.0.0.1)");
        }
        List<String> texts = BatcherThroughput.texts(new Random(1), 1024);
        List<byte[]> images = samples();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        List<Cell> cells = new ArrayList<>();
        // The in-process figures come from this process's own copy of the model, measured while the
        // server idles right after the cells they are compared with: on a shared machine the load drifts.
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(threads))) {
            Map<String, InProcess> references = new LinkedHashMap<>();
            if (url != null) {
                cells.addAll(runCells(http, url, "target", kinds, clients, cell, warm, texts, images));
                references.put("target", InProcess.measure(model, texts, formedBatch(cells, "target")));
            } else {
                List<Variant> servers = new ArrayList<>(variants);
                if (baseline) {
                    servers.add(null); // the no-batching server, last
                }
                for (Variant v : servers) {
                    String mode = v == null ? "no-batching" : v.name();
                    try (ServerProcess server = ServerProcess.start(v != null, threads, v == null ? List.of() : v.serveArgs())) {
                        System.err.printf("%s: server ready, load average %s%n", mode, loadAverage());
                        cells.addAll(runCells(http, server.base(), mode, kinds, clients, cell, warm, texts, images));
                        if (v != null) {
                            references.put(mode, InProcess.measure(model, texts, formedBatch(cells, mode)));
                        }
                        System.err.printf("%s: done, load average %s%n", mode, loadAverage());
                    }
                }
            }
            print(cells, references, variants);
        }
    }

    /** The first three fields of /proc/loadavg (1, 5 and 15 minutes), to say how busy the machine was. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The mean batch the server formed at 64 text clients, rounded (1 when it does not say or there is no such cell). */
    private static int formedBatch(List<Cell> cells, String mode) {
        Cell t64 = find(cells, mode, 64);
        return t64 == null || Double.isNaN(t64.batch()) ? 1 : Math.max(1, (int) Math.round(t64.batch()));
    }

    /**
     * {@code lit4j serve} in a process of its own: this JVM's java and class path, the launcher's
     * flags, no rate limit, queues of 1024; closing sends SIGTERM and checks it exits 0.
     */
    record ServerProcess(Process process, Path log, String base) implements AutoCloseable {
        static ServerProcess start(boolean batching, int threads, List<String> serveArgs) throws IOException, InterruptedException {
            Path log = Files.createTempFile("lit4j-serve-load", ".log");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmn32m",
                    "-cp", System.getProperty("java.class.path"), "io.lit4j.cli.Main", "serve", "--port", "0", "--rate", "0",
                    "--queue", "1024", "--threads", Integer.toString(threads)));
            if (!batching) {
                cmd.add("--no-batching");
            }
            cmd.addAll(serveArgs);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                return new ServerProcess(p, log, Soak.awaitReady(p, log));
            } catch (IOException | InterruptedException | RuntimeException e) {
                p.destroyForcibly();
                throw e;
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            process.destroy(); // SIGTERM: the server finishes what is in flight and exits 0
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new LitException("lit4j serve did not stop within 60 s of SIGTERM; its log: " + log);
            }
            if (process.exitValue() != 0) {
                throw new LitException("lit4j serve exited with " + process.exitValue() + "; its log: " + log);
            }
            Files.delete(log);
        }
    }

    /** Every kind at every client count against one server; each cell after its own warm-up run. */
    private static List<Cell> runCells(HttpClient http, String base, String mode, List<String> kinds, int[] clients, Duration cell,
                                       Duration warm, List<String> texts, List<byte[]> images) throws InterruptedException {
        List<Cell> out = new ArrayList<>();
        HttpLoad.run(http, i -> request(base, "health", i, texts, images), 1, warm); // the HTTP floor: GET /health, one client
        out.add(new Cell(mode, "health", 1, HttpLoad.run(http, i -> request(base, "health", i, texts, images), 1, cell), Double.NaN, Double.NaN));
        for (String kind : kinds) {
            for (int c : clients) {
                HttpLoad.run(http, i -> request(base, kind, i, texts, images), c, warm);
                double[] m0 = batchSeries(http, base, kind);
                HttpLoad.Result r = HttpLoad.run(http, i -> request(base, kind, i, texts, images), c, cell);
                double[] m1 = batchSeries(http, base, kind);
                double n = m1[1] - m0[1];
                Cell x = new Cell(mode, kind, c, r, n > 0 ? (m1[0] - m0[0]) / n : Double.NaN,
                        m1[2] > m0[2] && m1[0] > m0[0] ? (m1[2] - m0[2]) / (m1[0] - m0[0]) : Double.NaN);
                System.err.printf("%s %s %d clients: %.1f/s%n", mode, kind, c, r.perSecond());
                out.add(x);
            }
        }
        return out;
    }

    static HttpRequest request(String base, String kind, int i, List<String> texts, List<byte[]> images) {
        if (kind.equals("text")) {
            String body = "{\"input\": \"" + texts.get(i % texts.size()) + "\"}";
            return HttpRequest.newBuilder(URI.create(base + "/v1/embeddings")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        }
        if (kind.equals("image")) {
            return HttpRequest.newBuilder(URI.create(base + "/embed/images")).header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(images.get(i % images.size()))).build();
        }
        if (kind.equals("health")) {
            return HttpRequest.newBuilder(URI.create(base + "/health")).build();
        }
        throw new LitException("--kinds: " + kind + " is neither text nor image");
    }

    /** The sample PNGs shipped with the default model. */
    static List<byte[]> samples() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("models/default/samples"))) {
            List<byte[]> out = new ArrayList<>();
            for (Path p : s.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                out.add(Files.readAllBytes(p));
            }
            if (out.isEmpty()) {
                throw new LitException("models/default/samples: no .png samples (run from the repository root)");
            }
            return out;
        }
    }

    /** {batch-size sum, batch-size count, batch-tokens sum} of {@code tower} from /metrics. */
    private static double[] batchSeries(HttpClient http, String base, String tower) throws InterruptedException {
        double[] v = new double[3];
        try {
            String text = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
            Matcher m = SERIES.matcher(text);
            while (m.find()) {
                String name = m.group(1);
                double x = Double.parseDouble(m.group(4));
                if (name.startsWith("lit4j_batch_tokens")) {
                    v[2] = x;
                } else if (tower.equals(m.group(2)) || tower.equals(m.group(3))) {
                    v[name.startsWith("lit4j_batch_size_sum") ? 0 : 1] = x;
                }
            }
        } catch (IOException e) {
            throw new LitException(base + "/metrics: " + e.getMessage(), e);
        }
        return v;
    }

    /**
     * The in-process figures the goals compare with, one caller, measured while no server is busy:
     * batch-1 latency (median of 300 after 200 warm-up calls), and the throughput at batch 64 and at
     * the batch the server formed. The calling thread's OpenMP team is let go afterwards.
     */
    record InProcess(double batch1Ms, double batch64PerSecond, int formed, double formedPerSecond) {
        static InProcess measure(LitModel model, List<String> texts, int formed) {
            for (int i = 0; i < 200; i++) {
                model.embedTexts(List.of(texts.get(i))); // warm the batch-1 path
            }
            BatcherThroughput.batchThroughput(model, texts, FULL_BATCH); // and the full-batch one
            long[] one = new long[300];
            for (int i = 0; i < one.length; i++) {
                long t = System.nanoTime();
                model.embedTexts(List.of(texts.get(i)));
                one[i] = System.nanoTime() - t;
            }
            Arrays.sort(one);
            InProcess r = new InProcess(one[one.length / 2] / 1e6, medianThroughput(model, texts, FULL_BATCH), formed,
                    medianThroughput(model, texts, formed));
            model.releaseThread();
            return r;
        }
    }

    /** The median of three runs of {@link BatcherThroughput#batchThroughput}: one slow run on a shared machine does not decide a goal. */
    static double medianThroughput(LitModel model, List<String> texts, int batch) {
        double[] v = new double[3];
        for (int i = 0; i < v.length; i++) {
            v[i] = BatcherThroughput.batchThroughput(model, texts, batch);
        }
        Arrays.sort(v);
        return v[1];
    }

    private static void print(List<Cell> cells, Map<String, InProcess> references, List<Variant> variants) {
        System.out.println("| mode | input | clients | req/s | p50 ms | p99 ms | p99.9 ms | answered | 429 | failed | mean batch |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Cell c : cells) {
            HttpLoad.Result r = c.r();
            System.out.printf("| %s | %s | %d | %.1f | %.2f | %.2f | %.2f | %d | %d | %d | %s |%n", c.mode(), c.kind(), c.clients(), r.perSecond(),
                    r.ms(0.5), r.ms(0.99), r.ms(0.999), r.ok(), r.shed(), r.failures() + r.errors(),
                    Double.isNaN(c.batch()) ? "-" : String.format("%.1f", c.batch()));
        }
        for (var e : references.entrySet()) {
            String args = variants.stream().filter(v -> v.name().equals(e.getKey())).findFirst().map(v -> String.join(" ", v.serveArgs())).orElse("");
            if (references.size() > 1 || !args.isEmpty()) {
                System.out.printf("%n%s (lit4j serve %s):%n", e.getKey(), args.isEmpty() ? "defaults" : args);
            }
            goals(cells, e.getValue(), e.getKey());
        }
        for (Cell c : cells) {
            if (c.r().firstError() != null) {
                System.out.printf("note: %s %s %d clients: %d failed, %d transport errors, first: %s%n", c.mode(), c.kind(), c.clients(),
                        c.r().failures(), c.r().errors(), c.r().firstError());
            }
        }
    }

    /** The in-process figures measured after {@code goalMode}'s cells, and its GOAL lines. */
    private static void goals(List<Cell> cells, InProcess ip, String goalMode) {
        System.out.printf("in process (one caller, after the %s cells): batch 1 %.2f ms (median), batch %d %.1f texts/s (%.1f ms a batch)%n",
                goalMode, ip.batch1Ms(), FULL_BATCH, ip.batch64PerSecond(), FULL_BATCH / ip.batch64PerSecond() * 1e3);
        Cell t64 = find(cells, goalMode, 64), t1 = find(cells, goalMode, 1);
        if (t64 != null && !Double.isNaN(t64.tokens())) {
            System.out.printf("texts: %.1f real tokens each on average (with the start and end tokens)%n", t64.tokens());
        }
        if (t64 != null) {
            System.out.printf("in process at the batch the server formed (%d): %.1f texts/s%n", ip.formed(), ip.formedPerSecond());
            goal("serve_64_text_vs_in_process_formed_batch", t64.r().perSecond() / ip.formedPerSecond(), 0.85);
            goal("serve_64_text_vs_in_process_batch64", t64.r().perSecond() / ip.batch64PerSecond(), 0.8);
            double fullBatchMs = FULL_BATCH / ip.batch64PerSecond() * 1e3;
            System.out.printf("GOAL serve_p99_64_text_clients ms=%.2f target<=%.2f (3x one batch of %d) %s%n", t64.r().ms(0.99), 3 * fullBatchMs,
                    FULL_BATCH, t64.r().ms(0.99) <= 3 * fullBatchMs ? "met" : "missed");
        }
        if (t1 != null) {
            double target = ip.batch1Ms() + 1;
            System.out.printf("GOAL serve_p99_1_text_client ms=%.2f target<=%.2f (in-process batch 1 + 1 ms) %s%n", t1.r().ms(0.99), target,
                    t1.r().ms(0.99) <= target ? "met" : "missed");
        }
    }

    private static Cell find(List<Cell> cells, String mode, int clients) {
        return cells.stream().filter(c -> c.mode().equals(mode) && c.kind().equals("text") && c.clients() == clients).findFirst().orElse(null);
    }

    private static void goal(String name, double ratio, double target) {
        System.out.printf("GOAL %s ratio=%.2f target=%.2f %s%n", name, ratio, target, ratio >= target ? "met" : "missed");
    }
}

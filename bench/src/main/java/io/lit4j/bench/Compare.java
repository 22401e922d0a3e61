package io.lit4j.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Presets;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TextTransformerConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;
import io.lit4j.train.Init;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The comparison harness: lit4j (fp32 and bf16) beside PyTorch (Debian's python3-torch, fp32 and
 * bf16) and ONNX Runtime Java (fp32, models exported by the PyTorch peer from the same weights),
 * on the same random weights and inputs, in ONE run. Every measurement is its own process (so its
 * peak RSS is its own); rounds alternate the contenders and the reported figure is the median over
 * rounds of each process's median. Writes {@code results.md}, {@code results.json} and
 * {@code results.png} to {@code --out}, then one {@code GOAL} line per target (and, where PyTorch bf16
 * tuned, a {@code BOUND} line: the most a bf16 tuning goal against it could reach).
 *
 * <p>Each round also measures the rooflines: oneDNN's fp32 and bf16 GEMM at ViT-B/16's MLP shape and
 * a STREAM-like copy (the memory bandwidth AdamW is held to). After the rounds, each lit4j tuning
 * row runs once more with {@code -Dlit4j.profile=true} (not counted in the medians): its share of
 * time per op kind is printed beside the GOAL lines, with AdamW's GB/s.
 *
 * <p>{@code bench/run.sh [--quick] [--threads N] [--rounds R] [--out DIR] [--only train,vit-b32]}
 */
public final class Compare {
    /** One row of the table. */
    record Workload(String id, String label, String model, String tower, int batch, boolean train, double flops, String unit) {
    }

    /** One contender's way of running a workload. */
    record Contender(String name, String kind, String dtype) {
    }

    private final Path out;
    private final int threads;
    private final int rounds;
    private final boolean quick;
    private final List<String> only;  // workload id prefixes to run (empty: all)
    private String peerOpenblasCore;  // null: OpenBLAS picks its kernels for the CPU
    private final java.util.Set<String> peerBlas = new java.util.LinkedHashSet<>();
    private final String javaBin;
    private final String classpath;
    private final Path peerDir;
    private final List<String> notes = new ArrayList<>();
    private final PrintStream console;
    private final PrintStream progress;

    /** {@code console} gets the table, the notes and the GOAL lines; {@code progress} a line per measurement. */
    Compare(Path out, int threads, int rounds, boolean quick, Path peerDir, PrintStream console, PrintStream progress) {
        this(out, threads, rounds, quick, List.of(), peerDir, console, progress);
    }

    /** {@code only}: run just the workloads whose id starts with one of these (the rooflines always run). */
    Compare(Path out, int threads, int rounds, boolean quick, List<String> only, Path peerDir, PrintStream console, PrintStream progress) {
        this.out = out;
        this.threads = threads;
        this.rounds = rounds;
        this.quick = quick;
        this.only = List.copyOf(only);
        this.javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        this.classpath = System.getProperty("java.class.path");
        this.peerDir = peerDir;
        this.console = console;
        this.progress = progress;
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        Path out = Path.of(a.s("--out", "bench/results"));
        Path peers = Path.of(a.s("--peers", "bench/peers"));
        List<String> only = a.has("--only") ? List.of(a.s("--only", "").split(",")) : List.of();
        Compare c = new Compare(out, a.i("--threads", 2), a.i("--rounds", a.has("--quick") ? 1 : 3), a.has("--quick"), only, peers, System.out, System.err);
        c.peerOpenblasCore = a.s("--peer-openblas-core", null);
        c.run();
    }

    // ------------------------------------------------------------------ models

    static TwoTowerConfig vit(boolean quick) {
        ViTConfig c = quick ? Presets.image("smoke") : Presets.image("B/16");
        return new TwoTowerConfig(c.withHeadDim(quick ? 24 : 768), null, null);
    }

    static TwoTowerConfig text(boolean quick, boolean bert) {
        TextConfig t = quick ? (bert ? new BertConfig(512, 64, 2, 16, 32, 2, 4, 64, 1e-12f, io.lit4j.backend.Gelu.TANH, 0)
                : new TextTransformerConfig(512, 16, 32, 2, 4, 64, TextTransformerConfig.Pooling.LAST, 1e-6f, io.lit4j.backend.Gelu.TANH, 0))
                : bert ? Presets.text("bert-base") : Presets.text("text-B");
        return new TwoTowerConfig(null, t.withHeadDim(quick ? 24 : 768), null);
    }

    /** A two-tower model for the tuning step: a tiny locked image tower (its embeddings are given) and BERT. */
    static TwoTowerConfig pair(boolean quick) {
        TextConfig t = text(quick, true).text();
        ViTConfig tiny = Presets.image("smoke").withHeadDim(t.outDim());
        return new TwoTowerConfig(tiny, t, TwoTowerConfig.Loss.SOFTMAX);
    }

    private Path writeModel(String name, TwoTowerConfig cfg) {
        return writeModel(out, name, cfg, threads);
    }

    /** Random weights for {@code cfg} in {@code out/models/name} (kept when already there), as lit4j's Init draws them. */
    static Path writeModel(Path out, String name, TwoTowerConfig cfg, int threads) {
        Path dir = out.resolve("models").resolve(name);
        if (Files.isRegularFile(dir.resolve(LitFormat.WEIGHTS))) {
            return dir;
        }
        try (Backend be = new OneDnnBackend(threads); TwoTower m = TwoTower.allocate(be, cfg)) {
            if (cfg.hasImage()) {
                Init.tower(be, m.params(), "img.", false, 1);
            }
            if (cfg.hasText()) {
                Init.tower(be, m.params(), "txt.", cfg.text() instanceof BertConfig, 2);
            }
            if (cfg.hasImage() && cfg.hasText()) {
                Init.temperature(be, m.params(), 10, -10);
            }
            LitFormat.save(m, dir, null);
        }
        return dir;
    }

    // ------------------------------------------------------------------ running one measurement

    private JsonObject runProcess(List<String> cmd, String what) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pinThreads(pb.environment(), threads, peerOpenblasCore);
        Process p = pb.redirectError(out.resolve("logs").resolve(what.replaceAll("[^A-Za-z0-9]+", "_") + ".log").toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1800, TimeUnit.SECONDS) || p.exitValue() != 0) {
            notes.add(what + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + "); see logs/");
            return null;
        }
        String last = stdout.strip().lines().reduce((x, y) -> y).orElse("");
        return JsonParser.parseString(last).getAsJsonObject();
    }

    /** Shell settings that change how an OpenMP runtime waits or places threads: not inherited by a measurement. */
    static final List<String> WAIT_AND_PLACEMENT = List.of("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "KMP_AFFINITY",
            "OMP_PROC_BIND", "OMP_PLACES", "OMP_DYNAMIC", "GOMP_CPU_AFFINITY", "KMP_HW_SUBSET");

    /**
     * The environment of every measured process, lit4j and PyTorch alike, as a plain standalone run
     * at {@code threads} threads would have it: {@code OMP_NUM_THREADS}, {@code MKL_NUM_THREADS} and
     * {@code OPENBLAS_NUM_THREADS} = threads (whatever run.sh or the shell exported); no inherited
     * OpenMP wait or placement settings (a {@code GOMP_SPINCOUNT=0} left from a serving A/B makes
     * every small parallel region sleep and wake, and PyTorch's step has thousands); and no
     * {@code OPENBLAS_CORETYPE} (this VM's environment sets Haswell, which forces AVX2 kernels on
     * an AVX-512 CPU and slows PyTorch's fp32 rows 1.6-1.9x) unless {@code --peer-openblas-core}
     * names one.
     */
    static void pinThreads(Map<String, String> env, int threads, String openblasCore) {
        for (String k : List.of("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")) {
            env.put(k, Integer.toString(threads));
        }
        WAIT_AND_PLACEMENT.forEach(env::remove);
        env.remove("OPENBLAS_CORETYPE");
        if (openblasCore != null) {
            env.put("OPENBLAS_CORETYPE", openblasCore);
        }
    }

    /**
     * Runs one measurement; a run during which other processes used more than 5% of its
     * thread-time (its JSON says {@code "contended": true}: another process took a core) is repeated, up to
     * three tries in all, as bench/peers/run_timings.sh does; the last try is kept, and a note says
     * so when it was still contended.
     */
    private JsonObject measureUncontended(Contender c, Workload w, Path onnx) throws IOException, InterruptedException {
        JsonObject res = null;
        for (int t = 1; t <= (quick ? 1 : 3); t++) { // --quick checks the plumbing: one try
            res = measure(c, w, onnx);
            if (res == null || !res.has("contended") || !res.get("contended").getAsBoolean()) {
                return res;
            }
            progress.printf("  %s %s contended (other processes used %.2f CPU s), try %d%n", c.name(), w.id(), others(res), t);
            contendedTries++;
        }
        notes.add(String.format(Locale.ROOT, "%s %s: still contended after %d tries (other processes used %.2f CPU s); kept", c.name(), w.id(),
                quick ? 1 : 3, others(res)));
        return res;
    }

    /** The CPU seconds other processes used during a measurement ({@code others_cpu_s}; NaN from a worker that does not say). */
    private static double others(JsonObject res) {
        return res.has("others_cpu_s") && !res.get("others_cpu_s").isJsonNull() ? res.get("others_cpu_s").getAsDouble() : Double.NaN;
    }

    private List<String> javaCmd(String main) {
        return new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-XX:+UseParallelGC", "-Xmn32m", "-Xmx8g", "-cp", classpath, main)); // the launcher's GC settings
    }

    private JsonObject measure(Contender c, Workload w, Path onnx) throws IOException, InterruptedException {
        int iters = quick ? 3 : w.batch() == 1 ? 10 : w.train() ? 5 : 3;
        // warm-up also lets the JIT compile the Java kernels (the Vector API is slow until C2 has them)
        // (JVM services run warm: batch-1 rows get 20 warm-up calls, every contender alike). Tuning rows
        // get 8 steps and 5 timed: on 2 cores the JIT's compiler threads share the cores with the step,
        // and on 2026-12-04 a bf16 step at 64 x 16 ran 4.4, 1.9, 1.1, 1.2 s before settling at 0.9 s,
        // so that after 3 warm-up steps one round's median was 1.72 s and the next one's 1.06 s. A
        // tuning run is hundreds of steps: the steady step is what a user waits for.
        int warmup = quick ? 5 : w.batch() == 1 ? 20 : w.train() ? 8 : 2;
        List<String> cmd;
        switch (c.kind()) {
            case "lit4j" -> {
                cmd = javaCmd("io.lit4j.bench.Worker");
                cmd.addAll(List.of("--model", w.model(), "--tower", w.tower(), "--batch", "" + w.batch(), "--dtype", c.dtype(),
                        "--threads", "" + threads, "--iters", "" + iters, "--warmup", "" + warmup));
                if (w.train()) {
                    cmd.add("--train");
                }
            }
            case "pytorch" -> {
                cmd = new ArrayList<>(List.of("/usr/bin/python3", peerDir.resolve("torch_peer.py").toString(), "--model", w.model(),
                        "--tower", w.tower(), "--batch", "" + w.batch(), "--tokens", "16", "--dtype", c.dtype(), "--threads", "" + threads,
                        "--iters", "" + iters, "--warmup", "" + warmup));
                if (w.train()) {
                    cmd.add("--train");
                }
            }
            case "ort" -> {
                if (onnx == null) {
                    return null;
                }
                cmd = javaCmd("io.lit4j.bench.OrtWorker");
                // ONNX Runtime 1.29 building its session for these graphs overflows the JVM's default
                // 1 MiB main-thread stack (SEGV_ACCERR at the guard page, exit 139, no hs_err file)
                cmd.add(1, "-Xss16m");
                cmd.addAll(List.of("--onnx", onnx.toString(), "--tower", w.tower(), "--batch", "" + w.batch(), "--threads", "" + threads,
                        "--iters", "" + iters, "--warmup", "" + warmup, "--model", w.model()));
            }
            default -> throw new IllegalStateException(c.kind());
        }
        return runProcess(cmd, c.name() + " " + w.id());
    }

    private boolean torchAvailable() throws IOException, InterruptedException {
        if (!Files.isRegularFile(Path.of("/usr/bin/python3")) || !Files.isRegularFile(peerDir.resolve("torch_peer.py"))) {
            return false;
        }
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    private Path exportOnnx(Workload w) throws IOException, InterruptedException {
        Path f = out.resolve("models").resolve(Path.of(w.model()).getFileName() + ".onnx");
        if (Files.isRegularFile(f)) {
            return f;
        }
        JsonObject r = runProcess(List.of("/usr/bin/python3", peerDir.resolve("torch_peer.py").toString(), "--model", w.model(), "--tower",
                w.tower(), "--batch", "1", "--tokens", "16", "--threads", "" + threads, "--export-onnx", f.toString()), "export " + w.id());
        return r == null ? null : f;
    }

    // ------------------------------------------------------------------ the run

    void run() throws Exception {
        loadBefore = loadAverage();
        Files.createDirectories(out.resolve("logs"));
        String vitB = writeModel(quick ? "vit-quick" : "vit-b16", vit(quick)).toString();
        String bert = writeModel(quick ? "bert-quick" : "bert-base", text(quick, true)).toString();
        String tt = writeModel(quick ? "tt-quick" : "text-b", text(quick, false)).toString();
        String lit = writeModel(quick ? "lit-quick" : "lit-bert-base", pair(quick)).toString();
        double vitFlops = vit(quick).image().flopsPerImage();
        double bertFlops = text(quick, true).text().flopsPerText(), ttFlops = text(quick, false).text().flopsPerText();
        int big = quick ? 4 : 32, bigText = quick ? 8 : 256, train1 = quick ? 8 : 64, train2 = quick ? 16 : 256;
        String vitName = quick ? "ViT smoke" : "ViT-B/16", bertName = quick ? "BERT tiny" : "BERT-base";
        String ttName = quick ? "text transformer tiny" : "text transformer B";
        List<Workload> all = List.of(
                new Workload("vit-b1", vitName + " image, batch 1", vitB, "image", 1, false, vitFlops, "ms"),
                new Workload("vit-b" + big, vitName + " images, batch " + big, vitB, "image", big, false, vitFlops * big, "img/s"),
                new Workload("bert-b1", bertName + " text, batch 1 x 16", bert, "text", 1, false, bertFlops, "ms"),
                new Workload("bert-b" + bigText, bertName + " texts, batch " + bigText + " x 16", bert, "text", bigText, false, bertFlops * bigText, "texts/s"),
                new Workload("tt-b1", ttName + ", batch 1 x 16", tt, "text", 1, false, ttFlops, "ms"),
                new Workload("tt-b" + bigText, ttName + ", batch " + bigText + " x 16", tt, "text", bigText, false, ttFlops * bigText, "texts/s"),
                new Workload("train-" + train1, "LiT step (" + bertName + " text tower, AdamW), " + train1 + " x 16", lit, "text", train1, true,
                        3 * bertFlops * train1, "steps/s"),
                new Workload("train-" + train2, "LiT step (" + bertName + " text tower, AdamW), " + train2 + " x 16", lit, "text", train2, true,
                        3 * bertFlops * train2, "steps/s"));
        List<Workload> ws = all.stream().filter(w -> only.isEmpty() || only.stream().anyMatch(p -> w.id().startsWith(p.strip()))).toList();
        if (ws.isEmpty()) {
            throw new IllegalArgumentException("--only " + String.join(",", only) + " matches no workload; ids: "
                    + all.stream().map(Workload::id).toList());
        }
        boolean torch = torchAvailable();
        if (!torch) {
            notes.add("PyTorch peer skipped: /usr/bin/python3 with torch not found (sudo apt install python3-torch libopenblas0-openmp)");
        }
        Map<String, Path> onnx = new LinkedHashMap<>();
        if (torch) {
            for (Workload w : ws) {
                if (!w.train() && !onnx.containsKey(w.model())) {
                    onnx.put(w.model(), exportOnnx(w));
                }
            }
            if (onnx.values().stream().allMatch(java.util.Objects::isNull)) {
                notes.add("ONNX Runtime skipped: the models could not be exported (see logs/)");
            }
        } else {
            notes.add("ONNX Runtime skipped: its models are exported by the PyTorch peer");
        }
        List<Contender> cs = new ArrayList<>(List.of(new Contender("lit4j fp32", "lit4j", "fp32"), new Contender("lit4j bf16", "lit4j", "bf16")));
        if (torch) {
            cs.add(new Contender("PyTorch fp32", "pytorch", "fp32"));
            cs.add(new Contender("PyTorch bf16", "pytorch", "bf16"));
            cs.add(new Contender("ONNX Runtime fp32", "ort", "fp32"));
        }
        // the roofline: oneDNN's fp32 GEMM at ViT-B/16's MLP shape, measured in this run
        List<Double> gemm = new ArrayList<>(), gemmBf16 = new ArrayList<>(), stream = new ArrayList<>();
        Map<String, Map<String, List<Double>>> secs = new LinkedHashMap<>();
        Map<String, Map<String, Double>> rss = new LinkedHashMap<>();
        Map<String, Map<String, Double>> engine = new LinkedHashMap<>(); // bytes the engine's arenas held at most
        for (int r = 0; r < rounds; r++) {
            List<String> g = javaCmd("io.lit4j.bench.Worker");
            g.addAll(List.of("--gemm", quick ? "512x256x1024" : "3072x768x6304", "--threads", "" + threads, "--iters", "5", "--warmup", "2"));
            JsonObject gr = runProcess(g, "gemm round " + r);
            if (gr != null) {
                gemm.add(gr.get("gflops").getAsDouble());
            }
            g.addAll(List.of("--dtype", "bf16"));
            JsonObject gb = runProcess(g, "gemm bf16 round " + r);
            if (gb != null) {
                gemmBf16.add(gb.get("gflops").getAsDouble());
            }
            List<String> st = javaCmd("io.lit4j.bench.Worker");
            st.addAll(List.of("--stream-mb", quick ? "64" : "512", "--threads", "" + threads, "--iters", "5", "--warmup", "2"));
            JsonObject sr = runProcess(st, "stream round " + r);
            if (sr != null) {
                stream.add(sr.get("gbs").getAsDouble());
            }
            for (Workload w : ws) {
                for (Contender c : cs) {
                    if (w.train() && c.kind().equals("ort")) {
                        continue; // ONNX Runtime only runs inference
                    }
                    JsonObject res = measureUncontended(c, w, onnx.get(w.model()));
                    if (res == null) {
                        continue;
                    }
                    secs.computeIfAbsent(w.id(), k -> new LinkedHashMap<>()).computeIfAbsent(c.name(), k -> new ArrayList<>())
                            .add(res.get("median_s").getAsDouble());
                    rss.computeIfAbsent(w.id(), k -> new LinkedHashMap<>()).merge(c.name(), res.get("peak_rss_mb").getAsDouble(), Math::max);
                    if (res.has("engine_peak_mb")) {
                        engine.computeIfAbsent(w.id(), k -> new LinkedHashMap<>()).merge(c.name(), res.get("engine_peak_mb").getAsDouble(), Math::max);
                    }
                    progress.printf("round %d  %-22s %-18s %8.2f ms%n", r + 1, w.id(), c.name(), res.get("median_s").getAsDouble() * 1e3);
                    if (c.kind().equals("pytorch") && res.has("blas") && peerBlas.add(res.get("blas").getAsString())) {
                        notes.add("PyTorch's BLAS: " + res.get("blas").getAsString() + " (bf16 products go to oneDNN inside torch)");
                    }
                }
            }
        }
        Map<String, JsonObject> profiles = new LinkedHashMap<>(); // "train-64 lit4j bf16" -> the profiled run's JSON
        for (Workload w : ws) {
            for (Contender c : cs) {
                if (w.train() && c.kind().equals("lit4j")) {
                    JsonObject res = measureProfiled(c, w);
                    if (res != null && c.dtype().equals("bf16")) {
                        JsonObject products = measureStepProducts(w);
                        if (products != null) {
                            res.add("step_products", products);
                        }
                    }
                    if (res != null && res.has("profile")) {
                        profiles.put(w.id() + " " + c.name(), res);
                    }
                }
            }
        }
        report(ws, cs, secs, rss, engine, new Rooflines(Worker.median(gemm), Worker.median(gemmBf16), Worker.median(stream)), profiles);
    }

    /** /proc/loadavg at the start of {@link #run()}, and the tries a contended measurement was repeated. */
    private String loadBefore = "unknown";
    private int contendedTries;

    /** The 1-, 5- and 15-minute load averages of /proc/loadavg ("unknown" where unreadable). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** /proc/cpuinfo's first "model name" ("unknown CPU" where unreadable). */
    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException | RuntimeException e) {
            return "unknown CPU";
        }
    }

    /** The same-run rooflines: oneDNN GEMM GFLOP/s (fp32, bf16) and the STREAM-like copy's GB/s. */
    record Rooflines(double gemm, double gemmBf16, double streamGbs) {
    }

    /**
     * One extra run of a lit4j tuning row with the op profile on (its time is not a measurement),
     * warmed up as the measured rows are: the table is a mean, and after three warm-up steps the first
     * timed step still ran 1.3-2.1x the median in every profiled BERT-base run of 2026-12-03.
     */
    private JsonObject measureProfiled(Contender c, Workload w) throws IOException, InterruptedException {
        List<String> cmd = javaCmd("io.lit4j.bench.Worker");
        cmd.add(1, "-Dlit4j.profile=true");
        cmd.addAll(List.of("--model", w.model(), "--tower", w.tower(), "--batch", "" + w.batch(), "--dtype", c.dtype(),
                "--threads", "" + threads, "--iters", "5", "--warmup", quick ? "5" : "8", "--train"));
        JsonObject r = runProcess(cmd, c.name() + " " + w.id() + " profiled");
        if (r != null) {
            progress.printf("profiled %-22s %-18s %8.2f ms%n", w.id(), c.name(), r.get("median_s").getAsDouble() * 1e3);
        }
        return r;
    }

    /** The tuning row's linear products, each alone in bf16 at the step's shapes (for its BOUND line). */
    private JsonObject measureStepProducts(Workload w) throws IOException, InterruptedException {
        List<String> cmd = javaCmd("io.lit4j.bench.Worker");
        cmd.addAll(List.of("--step-products", "--model", w.model(), "--batch", "" + w.batch(), "--tokens", "16",
                "--threads", "" + threads, "--iters", "5", "--warmup", "2"));
        JsonObject r = runProcess(cmd, "step products " + w.id());
        if (r != null) {
            progress.printf("products  %-22s %-18s %8.2f ms%n", w.id(), "bf16, each alone", r.get("products_s").getAsDouble() * 1e3);
        }
        return r;
    }

    // ------------------------------------------------------------------ the report

    private static double value(Workload w, double seconds) {
        return w.unit().equals("ms") ? seconds * 1e3 : w.batch() / seconds / (w.train() ? w.batch() : 1);
    }

    private void report(List<Workload> ws, List<Contender> cs, Map<String, Map<String, List<Double>>> secs,
                        Map<String, Map<String, Double>> rss, Map<String, Map<String, Double>> engine, Rooflines rf,
                        Map<String, JsonObject> profiles) throws IOException {
        double gemm = rf.gemm();
        List<String> headers = new ArrayList<>(List.of("workload", "unit"));
        cs.forEach(c -> headers.add(c.name()));
        headers.addAll(List.of("lit4j fp32 GFLOP/s", "lit4j bf16 GFLOP/s", "fp32 / ORT", "bf16 / PyTorch bf16", "bf16 / ORT fp32",
                "fp32 / PyTorch fp32", "peak RSS lit4j fp32 (MB)", "lit4j fp32 engine memory (MB)", "RSS / engine memory",
                "peak RSS PyTorch fp32 (MB)", "peak RSS ORT (MB)"));
        Table t = new Table(headers.toArray(String[]::new));
        Map<String, Map<String, Double>> med = new LinkedHashMap<>();
        BarPlot chart = new BarPlot("lit4j vs PyTorch vs ONNX Runtime, " + threads + " threads", "workload",
                "speed relative to lit4j fp32 (higher is faster)", ws.stream().map(Workload::label).toList());
        for (Workload w : ws) {
            Map<String, Double> m = new LinkedHashMap<>();
            secs.getOrDefault(w.id(), Map.of()).forEach((c, v) -> m.put(c, Worker.median(v)));
            med.put(w.id(), m);
            List<Object> row = new ArrayList<>(List.of(w.label(), w.unit()));
            for (Contender c : cs) {
                Double s = m.get(c.name());
                row.add(s == null ? "-" : String.format(w.unit().equals("ms") ? "%.1f" : "%.2f", value(w, s)));
            }
            row.add(m.containsKey("lit4j fp32") ? String.format("%.0f", w.flops() / m.get("lit4j fp32") / 1e9) : "-");
            row.add(m.containsKey("lit4j bf16") ? String.format("%.0f", w.flops() / m.get("lit4j bf16") / 1e9) : "-");
            row.add(ratio(m, "ONNX Runtime fp32", "lit4j fp32"));
            row.add(ratio(m, "PyTorch bf16", "lit4j bf16"));
            row.add(ratio(m, "ONNX Runtime fp32", "lit4j bf16"));
            row.add(ratio(m, "PyTorch fp32", "lit4j fp32"));
            Map<String, Double> r = rss.getOrDefault(w.id(), Map.of()), e = engine.getOrDefault(w.id(), Map.of());
            row.add(r.containsKey("lit4j fp32") ? String.format("%.0f", r.get("lit4j fp32")) : "-");
            row.add(e.containsKey("lit4j fp32") ? String.format("%.0f", e.get("lit4j fp32")) : "-");
            row.add(r.containsKey("lit4j fp32") && e.containsKey("lit4j fp32") ? String.format("%.2f", r.get("lit4j fp32") / e.get("lit4j fp32")) : "-");
            row.add(r.containsKey("PyTorch fp32") ? String.format("%.0f", r.get("PyTorch fp32")) : "-");
            row.add(r.containsKey("ONNX Runtime fp32") ? String.format("%.0f", r.get("ONNX Runtime fp32")) : "-");
            t.row(row.toArray());
        }
        for (Contender c : cs) {
            chart.series(c.name(), ws.stream().mapToDouble(w -> {
                Map<String, Double> m = med.get(w.id());
                Double base = m.get("lit4j fp32"), s = m.get(c.name());
                return base == null || s == null ? Double.NaN : base / s;
            }).toArray());
        }
        chart.line("lit4j fp32 = 1", 1.0);
        StringBuilder md = new StringBuilder("# lit4j benchmark\n\n");
        md.append(String.format("%d threads, %d rounds (median of per-process medians), oneDNN fp32 GEMM 3072x768x6304 in this run: %.0f GFLOP/s.%n%n",
                threads, rounds, gemm));
        md.append(String.format("Same-run rooflines: oneDNN bf16 GEMM %.0f GFLOP/s; STREAM-like copy (%s MiB, %d threads) %.1f GB/s.%n%n",
                rf.gemmBf16(), quick ? "64" : "512", threads, rf.streamGbs()));
        md.append(String.format("Machine: %s, %d CPUs; load average %s before the run, %s after; %d measurement(s) repeated because"
                        + " other processes took more than 5 %% of their thread-time.%n%n", cpuModel(), Runtime.getRuntime().availableProcessors(),
                loadBefore, loadAverage(), contendedTries));
        md.append(t.toMarkdown()).append('\n');
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        String profileText = profileTables(profiles, rf, false), profileMd = profileTables(profiles, rf, true);
        md.append(profileMd);
        List<String> goals = goals(ws, med, rf, profiles, quick);
        goals.addAll(memoryGoals(ws, rss, engine, quick));
        md.append("\n```\n").append(String.join("\n", goals)).append("\n```\n");
        Files.writeString(out.resolve("results.md"), md.toString());
        chart.save(out.resolve("results.png"));
        JsonObject json = new JsonObject();
        json.addProperty("threads", threads);
        json.addProperty("cpu", cpuModel());
        json.addProperty("load_before", loadBefore);
        json.addProperty("load_after", loadAverage());
        json.addProperty("contended_tries", contendedTries);
        json.addProperty("gemm_gflops", gemm);
        json.addProperty("gemm_bf16_gflops", rf.gemmBf16());
        json.addProperty("stream_copy_gbs", rf.streamGbs());
        JsonObject pj = new JsonObject();
        profiles.forEach(pj::add);
        json.add("profiled_runs", pj);
        json.add("medians_s", new com.google.gson.Gson().toJsonTree(med));
        json.add("peak_rss_mb", new com.google.gson.Gson().toJsonTree(rss));
        json.add("engine_peak_mb", new com.google.gson.Gson().toJsonTree(engine));
        Files.writeString(out.resolve("results.json"), json + "\n");
        console.print(t.toText());
        notes.forEach(n -> console.println("note: " + n));
        console.print(profileText);
        console.println("wrote " + out.resolve("results.md") + " and " + out.resolve("results.png"));
        goals.forEach(console::println);
    }

    private static String ratio(Map<String, Double> m, String peer, String mine) {
        return m.containsKey(peer) && m.containsKey(mine) ? String.format("%.2f", m.get(peer) / m.get(mine)) : "-";
    }

    /**
     * One table per profiled tuning run: each op kind's ms per step, calls per step and share of the
     * profiled time, then AdamW's bandwidth against the copy's. Markdown for results.md, text for the console.
     */
    static String profileTables(Map<String, JsonObject> profiles, Rooflines rf, boolean markdown) {
        StringBuilder b = new StringBuilder();
        profiles.forEach((what, r) -> {
            JsonObject p = r.getAsJsonObject("profile");
            double total = 0;
            for (String op : p.keySet()) {
                total += p.getAsJsonObject(op).get("ms").getAsDouble();
            }
            double sum = total;
            Table t = new Table("op", "ms / step", "calls / step", "share");
            p.keySet().stream().sorted((x, y) -> Double.compare(p.getAsJsonObject(y).get("ms").getAsDouble(), p.getAsJsonObject(x).get("ms").getAsDouble()))
                    .forEach(op -> {
                        JsonObject o = p.getAsJsonObject(op);
                        t.row(op, String.format("%.1f", o.get("ms").getAsDouble()), String.format("%.0f", o.get("calls").getAsDouble()),
                                String.format("%.1f%%", 100 * o.get("ms").getAsDouble() / Math.max(1e-9, sum)));
                    });
            // the table is a mean over the profiled steps, the step time their median: one slow step
            // (another process, a page-faulting first touch) shows as ops summing past the median
            double[] steps = r.getAsJsonArray("times_s").asList().stream().mapToDouble(e -> e.getAsDouble() * 1e3).toArray();
            String head = String.format("Profile of %s (one extra run with -Dlit4j.profile=true: %d steps of %.0f to %.0f ms, median %.0f%s;"
                            + " the table is the mean step, its ops %.0f ms)", what, steps.length, Arrays.stream(steps).min().orElse(0),
                    Arrays.stream(steps).max().orElse(0), r.get("median_s").getAsDouble() * 1e3,
                    r.has("contended") && r.get("contended").getAsBoolean() ? ", contended: other processes took CPU" : "", sum);
            String bw = r.has("optimizer_gbs") ? String.format("AdamW (norm + update, %.0f MB per step): %.1f GB/s, %.2f of the copy's %.1f GB/s",
                    r.get("optimizer_bytes_per_step").getAsDouble() / 1e6, r.get("optimizer_gbs").getAsDouble(),
                    r.get("optimizer_gbs").getAsDouble() / rf.streamGbs(), rf.streamGbs()) : "AdamW: not profiled";
            if (markdown) {
                b.append("\n").append(head).append(":\n\n").append(t.toMarkdown()).append("\n").append(bw).append(".\n");
            } else {
                b.append(head).append('\n').append(t.toText()).append(bw).append('\n');
            }
        });
        return b.toString();
    }

    private static List<String> goals(List<Workload> ws, Map<String, Map<String, Double>> med, Rooflines rf,
                                      Map<String, JsonObject> profiles, boolean quick) {
        List<String> g = new ArrayList<>();
        for (Workload w : ws) {
            if (!w.train()) {
                g.add(goal("fp32_vs_ort_" + w.id(), med.get(w.id()), "ONNX Runtime fp32", "lit4j fp32", 1.0));
            }
        }
        Workload vitBig = ws.stream().filter(w -> w.id().startsWith("vit-b") && w.batch() > 1).findFirst().orElse(null);
        if (vitBig != null) {
            String big = vitBig.id();
            Map<String, Double> v = med.get(big);
            if (v != null && v.containsKey("lit4j fp32")) {
                double share = vitBig.flops() / v.get("lit4j fp32") / 1e9 / rf.gemm();
                g.add(String.format("GOAL fp32_vit_%s_of_gemm ratio=%.2f target=0.85 %s", big, share, share >= 0.85 ? "met" : "missed"));
            }
            g.add(goal("bf16_vs_pytorch_bf16_" + big, v, "PyTorch bf16", "lit4j bf16", 1.3));
            g.add(goal("bf16_vs_ort_fp32_" + big, v, "ONNX Runtime fp32", "lit4j bf16", 1.8));
        }
        for (Workload w : ws) {
            if (w.train()) {
                Map<String, Double> m = med.get(w.id());
                g.add(goal("train_fp32_vs_pytorch_fp32_" + w.id(), m, "PyTorch fp32", "lit4j fp32", 1.5));
                bound(w, m, profiles.get(w.id() + " lit4j fp32"), rf, "fp32").ifPresent(g::add);
                g.add(goal("train_bf16_vs_pytorch_bf16_" + w.id(), m, "PyTorch bf16", "lit4j bf16", 1.3));
                // the step's rate (3x the forward's FLOPs) against the same-run bf16 GEMM
                if (m != null && m.containsKey("lit4j bf16") && rf.gemmBf16() > 0) {
                    double share = w.flops() / m.get("lit4j bf16") / 1e9 / rf.gemmBf16();
                    g.add(String.format("GOAL train_bf16_%s_of_bf16_gemm ratio=%.2f target=0.75 %s", w.id(), share, share >= 0.75 ? "met" : "missed"));
                } else {
                    g.add("GOAL train_bf16_" + w.id() + "_of_bf16_gemm ratio=n/a target=0.75 missed (not measured)");
                }
                bound(w, m, profiles.get(w.id() + " lit4j bf16"), rf, "bf16").ifPresent(g::add);
                for (String c : List.of("lit4j fp32", "lit4j bf16")) {
                    JsonObject r = profiles.get(w.id() + " " + c);
                    String name = "adamw_" + c.replace("lit4j ", "") + "_" + w.id() + "_of_copy_bandwidth";
                    if (r != null && r.has("optimizer_gbs") && rf.streamGbs() > 0) {
                        double x = r.get("optimizer_gbs").getAsDouble() / rf.streamGbs();
                        g.add(String.format("GOAL %s ratio=%.2f target=0.70 %s (%.1f of %.1f GB/s)", name, x, x >= 0.7 ? "met" : "missed",
                                r.get("optimizer_gbs").getAsDouble(), rf.streamGbs()));
                    } else {
                        g.add("GOAL " + name + " ratio=n/a target=0.70 missed (not measured)");
                    }
                }
            }
        }
        if (quick) {
            g.replaceAll(s -> s + " (quick sizes: not the real targets)");
        }
        return g;
    }

    /**
     * How far ahead of PyTorch a lit4j step of {@code dtype} ("fp32" or "bf16") could be at all: a
     * step that did nothing but its linear products and AdamW's bytes at the copy's bandwidth. The
     * products take the smallest of what was measured of them: the step's FLOPs at the same-run GEMM
     * rate of that dtype (one larger shape), the profiled run's {@code step_products} (each product
     * alone at the step's own shapes, operands ready in bf16) and the profiled step's own linear
     * products (its "linear" op kinds: on 2026-12-04 they ran 640 ms at 64 x 16 against 933 ms for the
     * same products alone, for reasons not looked into). PyTorch's products run at the
     * same GEMM peak (oneDNN for bf16, OpenBLAS for fp32), so this is the ceiling a goal against it
     * can be held to; taking the smallest keeps it a ceiling whichever measurement is slowest.
     */
    static Optional<String> bound(Workload w, Map<String, Double> m, JsonObject profile, Rooflines rf, String dtype) {
        String peerName = "PyTorch " + dtype;
        if (m == null || !m.containsKey(peerName) || rf.streamGbs() <= 0 || profile == null || !profile.has("optimizer_bytes_per_step")) {
            return Optional.empty();
        }
        double gemm = dtype.equals("bf16") ? rf.gemmBf16() : rf.gemm();
        double products = Double.POSITIVE_INFINITY;
        String how = null;
        if (gemm > 0) {
            products = w.flops() / 1e9 / gemm;
            how = "at the " + dtype + " GEMM rate";
        }
        if (profile.has("step_products")) {
            double alone = profile.getAsJsonObject("step_products").get("products_s").getAsDouble();
            if (alone < products) {
                products = alone;
                how = "at the step's shapes, each timed alone in " + dtype + ",";
            }
        }
        if (profile.has("profile")) {
            double inStep = profile.getAsJsonObject("profile").entrySet().stream().filter(e -> e.getKey().startsWith("linear"))
                    .mapToDouble(e -> e.getValue().getAsJsonObject().get("ms").getAsDouble()).sum() / 1e3;
            if (inStep > 0 && inStep < products) {
                products = inStep;
                how = "as timed inside the profiled step,";
            }
        }
        if (how == null) {
            return Optional.empty();
        }
        double adamw = profile.get("optimizer_bytes_per_step").getAsDouble() / 1e9 / rf.streamGbs();
        double peer = m.get(peerName);
        return Optional.of(String.format("BOUND train_%s_vs_pytorch_%s_%s at_most=%.2f (products alone %s %.0f ms"
                        + " + AdamW at copy bandwidth %.0f ms, against PyTorch %s's step %.0f ms)", dtype, dtype, w.id(), peer / (products + adamw),
                how, products * 1e3, adamw * 1e3, dtype, peer * 1e3));
    }

    /**
     * Peak RSS of each lit4j workload against what the engine needed (weights, activations and, when
     * training, gradients and moments): at most 1.5x, the rest being the JVM, oneDNN and the heap.
     */
    private static List<String> memoryGoals(List<Workload> ws, Map<String, Map<String, Double>> rss,
                                            Map<String, Map<String, Double>> engine, boolean quick) {
        List<String> g = new ArrayList<>();
        for (Workload w : ws) {
            for (String c : List.of("lit4j fp32", "lit4j bf16")) {
                Double r = rss.getOrDefault(w.id(), Map.of()).get(c), e = engine.getOrDefault(w.id(), Map.of()).get(c);
                if (r != null && e != null) {
                    double x = r / e;
                    g.add(String.format("GOAL memory_rss_over_engine_%s_%s ratio=%.2f target=1.5 %s%s", c.replace("lit4j ", ""), w.id(), x,
                            x <= 1.5 ? "met" : "missed", quick ? " (quick sizes: not the real targets)" : ""));
                }
            }
        }
        return g;
    }

    private static String goal(String name, Map<String, Double> m, String peer, String mine, double target) {
        if (m == null || !m.containsKey(peer) || !m.containsKey(mine)) {
            return String.format("GOAL %s ratio=n/a target=%.1f missed (%s not measured)", name, target, m == null || !m.containsKey(mine) ? mine : peer);
        }
        double r = m.get(peer) / m.get(mine);
        return String.format("GOAL %s ratio=%.2f target=%.1f %s", name, r, target, r >= target ? "met" : "missed");
    }
}

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The comparison harness: lit4j (fp32 and bf16) beside PyTorch (Debian's python3-torch, fp32 and
 * bf16) and ONNX Runtime Java (fp32, models exported by the PyTorch peer from the same weights),
 * on the same random weights and inputs, in ONE run. Every measurement is its own process (so its
 * peak RSS is its own); rounds alternate the contenders and the reported figure is the median over
 * rounds of each process's median. Writes {@code results.md}, {@code results.json} and
 * {@code results.png} to {@code --out}, then one {@code GOAL} line per target.
 *
 * <p>{@code bench/run.sh [--quick] [--threads N] [--rounds R] [--out DIR]}
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
    private final String javaBin;
    private final String classpath;
    private final Path peerDir;
    private final List<String> notes = new ArrayList<>();
    private final PrintStream console;
    private final PrintStream progress;

    /** {@code console} gets the table, the notes and the GOAL lines; {@code progress} a line per measurement. */
    Compare(Path out, int threads, int rounds, boolean quick, Path peerDir, PrintStream console, PrintStream progress) {
        this.out = out;
        this.threads = threads;
        this.rounds = rounds;
        this.quick = quick;
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
        new Compare(out, a.i("--threads", 2), a.i("--rounds", a.has("--quick") ? 1 : 3), a.has("--quick"), peers, System.out, System.err).run();
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
        Process p = new ProcessBuilder(cmd).redirectError(out.resolve("logs").resolve(what.replaceAll("[^A-Za-z0-9]+", "_") + ".log").toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1800, TimeUnit.SECONDS) || p.exitValue() != 0) {
            notes.add(what + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + "); see logs/");
            return null;
        }
        String last = stdout.strip().lines().reduce((x, y) -> y).orElse("");
        return JsonParser.parseString(last).getAsJsonObject();
    }

    private List<String> javaCmd(String main) {
        return new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-XX:+UseParallelGC", "-Xmn32m", "-Xmx8g", "-cp", classpath, main)); // the launcher's GC settings
    }

    private JsonObject measure(Contender c, Workload w, Path onnx) throws IOException, InterruptedException {
        int iters = quick ? 3 : w.batch() == 1 ? 10 : 3;
        // warm-up also lets the JIT compile the Java kernels (the Vector API is slow until C2 has them)
        // (JVM services run warm: batch-1 rows get 20 warm-up calls, every contender alike)
        int warmup = quick ? 5 : w.batch() == 1 ? 20 : w.train() ? 3 : 2;
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
        List<Workload> ws = List.of(
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
        List<Double> gemm = new ArrayList<>();
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
            for (Workload w : ws) {
                for (Contender c : cs) {
                    if (w.train() && c.kind().equals("ort")) {
                        continue; // ONNX Runtime only runs inference
                    }
                    JsonObject res = measure(c, w, onnx.get(w.model()));
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
                }
            }
        }
        report(ws, cs, secs, rss, engine, Worker.median(gemm));
    }

    // ------------------------------------------------------------------ the report

    private static double value(Workload w, double seconds) {
        return w.unit().equals("ms") ? seconds * 1e3 : w.batch() / seconds / (w.train() ? w.batch() : 1);
    }

    private void report(List<Workload> ws, List<Contender> cs, Map<String, Map<String, List<Double>>> secs,
                        Map<String, Map<String, Double>> rss, Map<String, Map<String, Double>> engine, double gemm) throws IOException {
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
        md.append(t.toMarkdown()).append('\n');
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        List<String> goals = goals(ws, med, gemm, quick);
        goals.addAll(memoryGoals(ws, rss, engine, quick));
        md.append("\n```\n").append(String.join("\n", goals)).append("\n```\n");
        Files.writeString(out.resolve("results.md"), md.toString());
        chart.save(out.resolve("results.png"));
        JsonObject json = new JsonObject();
        json.addProperty("threads", threads);
        json.addProperty("gemm_gflops", gemm);
        json.add("medians_s", new com.google.gson.Gson().toJsonTree(med));
        json.add("peak_rss_mb", new com.google.gson.Gson().toJsonTree(rss));
        json.add("engine_peak_mb", new com.google.gson.Gson().toJsonTree(engine));
        Files.writeString(out.resolve("results.json"), json + "\n");
        console.print(t.toText());
        notes.forEach(n -> console.println("note: " + n));
        console.println("wrote " + out.resolve("results.md") + " and " + out.resolve("results.png"));
        goals.forEach(console::println);
    }

    private static String ratio(Map<String, Double> m, String peer, String mine) {
        return m.containsKey(peer) && m.containsKey(mine) ? String.format("%.2f", m.get(peer) / m.get(mine)) : "-";
    }

    private static List<String> goals(List<Workload> ws, Map<String, Map<String, Double>> med, double gemm, boolean quick) {
        List<String> g = new ArrayList<>();
        String big = ws.get(1).id();
        for (Workload w : ws) {
            if (!w.train()) {
                g.add(goal("fp32_vs_ort_" + w.id(), med.get(w.id()), "ONNX Runtime fp32", "lit4j fp32", 1.0));
            }
        }
        Map<String, Double> v = med.get(big);
        if (v != null && v.containsKey("lit4j fp32")) {
            double share = ws.get(1).flops() / v.get("lit4j fp32") / 1e9 / gemm;
            g.add(String.format("GOAL fp32_vit_%s_of_gemm ratio=%.2f target=0.85 %s", big, share, share >= 0.85 ? "met" : "missed"));
        }
        g.add(goal("bf16_vs_pytorch_bf16_" + big, v, "PyTorch bf16", "lit4j bf16", 1.3));
        g.add(goal("bf16_vs_ort_fp32_" + big, v, "ONNX Runtime fp32", "lit4j bf16", 1.8));
        for (Workload w : ws) {
            if (w.train()) {
                g.add(goal("train_fp32_vs_pytorch_fp32_" + w.id(), med.get(w.id()), "PyTorch fp32", "lit4j fp32", 1.5));
                g.add(goal("train_bf16_vs_pytorch_bf16_" + w.id(), med.get(w.id()), "PyTorch bf16", "lit4j bf16", 1.2));
            }
        }
        if (quick) {
            g.replaceAll(s -> s + " (quick sizes: not the real targets)");
        }
        return g;
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

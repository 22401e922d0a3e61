package io.lit4j.bench;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.cuda.CudaBackend;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;

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
 * CPU versus GPU in one run: the same rows (ViT-B/16 at batch 1, 32, 256; BERT-base, 16 tokens,
 * at batch 1, 256, 1024; one LiT step of the text tower with AdamW at 256 and 4096 texts) on
 * every backend present (lit4j's oneDNN on the CPU, lit4j's cuda backend) beside PyTorch on the
 * GPU (eager bf16 with SDPA; {@code torch.compile} on the ViT batch-256 row, since each compiled
 * shape costs tens of seconds), on the same random weights, each measurement its own process.
 * The same-run cuBLASLt bf16 GEMM rate at ViT-B/16's MLP shape is the roofline. Writes
 * {@code results.md}, {@code results.json}, {@code results.png} and {@code logs/} to {@code --out},
 * then the GOAL lines. A contender that cannot run here (no GPU, no torch with CUDA) is
 * left out with a note, so the command also runs (CPU rows only) on a machine without a GPU.
 *
 * <p>{@code GpuCompare --out DIR [--quick] [--cpu-threads N] [--python python3]}: {@code --quick}
 * uses tiny models and batches (a dry run of the harness, not a measurement).
 *
 * <p>Status: written and dry-run without a GPU; no GPU figure has been measured with it.
 */
public final class GpuCompare {
    record Row(String id, String label, String model, String tower, int batch, boolean train, double flops, String unit) {
    }

    record Contender(String name, String kind, String device, boolean compile) {
    }

    private final Path out;
    private final boolean quick;
    private final int cpuThreads;
    private final String python;
    private final Path peer;
    private final String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private final String classpath = System.getProperty("java.class.path");
    private final List<String> notes = new ArrayList<>();
    private final PrintStream console;

    GpuCompare(Path out, boolean quick, int cpuThreads, String python, Path peer, PrintStream console) {
        this.out = out;
        this.quick = quick;
        this.cpuThreads = cpuThreads;
        this.python = python;
        this.peer = peer;
        this.console = console;
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        if (a.has("--chart")) {
            Path json = Path.of(a.s("--chart", null));
            chart(json, json.resolveSibling("results.png"));
            System.out.println("wrote " + json.resolveSibling("results.png"));
            return;
        }
        new GpuCompare(Path.of(a.s("--out", "bench/results-gpu")), a.has("--quick"), a.i("--cpu-threads", Runtime.getRuntime().availableProcessors()),
                a.s("--python", "python3"), Path.of(a.s("--peer", "bench/peers/torch_peer.py")), System.out).run();
    }

    void run() throws Exception {
        Files.createDirectories(out.resolve("logs"));
        TwoTowerConfig vitCfg = Compare.vit(quick), bertCfg = Compare.text(quick, true);
        String vit = Compare.writeModel(out, quick ? "vit-quick" : "vit-b16", vitCfg, cpuThreads).toString();
        String bert = Compare.writeModel(out, quick ? "bert-quick" : "bert-base", bertCfg, cpuThreads).toString();
        String lit = Compare.writeModel(out, quick ? "lit-quick" : "lit-bert-base", Compare.pair(quick), cpuThreads).toString();
        double vf = vitCfg.image().flopsPerImage(), bf = bertCfg.text().flopsPerText();
        int[] vb = quick ? new int[] {1, 2, 4} : new int[] {1, 32, 256};
        int[] tb = quick ? new int[] {1, 4, 8} : new int[] {1, 256, 1024};
        int[] lb = quick ? new int[] {4, 8} : new int[] {256, 4096};
        String vn = quick ? "ViT smoke" : "ViT-B/16", bn = quick ? "BERT tiny" : "BERT-base";
        List<Row> rows = new ArrayList<>();
        for (int b : vb) {
            rows.add(new Row("vit-b" + b, vn + ", batch " + b, vit, "image", b, false, vf * b, b == 1 ? "ms" : "img/s"));
        }
        for (int b : tb) {
            rows.add(new Row("bert-b" + b, bn + ", batch " + b + " x 16", bert, "text", b, false, bf * b, b == 1 ? "ms" : "texts/s"));
        }
        for (int b : lb) {
            rows.add(new Row("train-" + b, "LiT step (" + bn + " text tower, AdamW), " + b + " x 16", lit, "text", b, true, 3 * bf * b, "steps/s"));
        }

        String noGpu = CudaBackend.unavailableReason();
        String torchGpu = torchCuda();
        List<Contender> cs = new ArrayList<>(List.of(new Contender("lit4j onednn bf16 (CPU)", "lit4j", "onednn", false)));
        if (noGpu == null) {
            cs.add(new Contender("lit4j cuda bf16", "lit4j", "cuda", false));
        } else {
            notes.add("lit4j cuda rows skipped: " + noGpu);
        }
        if (torchGpu == null) {
            cs.add(new Contender("PyTorch eager bf16 (GPU, SDPA)", "pytorch", "cuda", false));
            cs.add(new Contender("PyTorch compile bf16 (GPU)", "pytorch", "cuda", true));
        } else {
            notes.add("PyTorch GPU rows skipped: " + torchGpu);
        }
        double gemm = Double.NaN;
        if (noGpu == null) {
            List<String> g = javaCmd();
            g.addAll(List.of("--gemm", quick ? "512x256x1024" : "3072x768x50432", "--backend", "cuda", "--dtype", "bf16", "--iters", "10",
                    "--warmup", "3"));
            JsonObject r = runProcess(g, "cublaslt gemm");
            if (r != null) {
                gemm = r.get("gflops").getAsDouble();
            }
        }
        Map<String, Map<String, Double>> med = new LinkedHashMap<>();
        for (Row w : rows) {
            for (Contender c : cs) {
                if (c.compile() && (w.train() || !w.id().equals(rows.get(vb.length - 1).id()))) {
                    continue; // torch.compile: the ViT batch-256 row only (each shape compiles anew)
                }
                JsonObject res = measure(c, w);
                if (res != null) {
                    med.computeIfAbsent(w.id(), k -> new LinkedHashMap<>()).put(c.name(), res.get("median_s").getAsDouble());
                    console.printf("%-24s %-32s %10.3f ms%n", w.id(), c.name(), res.get("median_s").getAsDouble() * 1e3);
                }
            }
        }
        report(rows, cs, med, gemm, vb.length - 1);
    }

    /** Null when python has torch with a usable GPU, else why not. */
    private String torchCuda() throws IOException, InterruptedException {
        if (!Files.isRegularFile(peer)) {
            return "no " + peer;
        }
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)").redirectErrorStream(true)
                    .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int rc = p.waitFor();
            return rc == 0 ? null : rc == 3 ? python + ": torch.cuda.is_available() is False" : python + " cannot import torch ("
                    + text.lines().reduce((x, y) -> y).orElse("exit " + rc) + ")";
        } catch (IOException e) {
            return python + " not found";
        }
    }

    private List<String> javaCmd() {
        return new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC",
                "-Xmx64g", "-cp", classpath, "io.lit4j.bench.Worker"));
    }

    private JsonObject measure(Contender c, Row w) throws IOException, InterruptedException {
        boolean cpu = c.device().equals("onednn");
        boolean big = w.flops() > 2e12;
        // big CPU rows get one warm-up and one timed call: the check has minutes, not hours
        int warmup = cpu && big ? 1 : w.batch() == 1 ? 20 : 3;
        int iters = cpu && big ? 1 : w.batch() == 1 ? 50 : 5;
        List<String> cmd;
        if (c.kind().equals("lit4j")) {
            cmd = javaCmd();
            cmd.addAll(List.of("--backend", c.device(), "--model", w.model(), "--tower", w.tower(), "--batch", "" + w.batch(), "--tokens", "16",
                    "--dtype", "bf16", "--threads", "" + cpuThreads, "--iters", "" + iters, "--warmup", "" + warmup));
        } else {
            cmd = new ArrayList<>(List.of(python, peer.toString(), "--device", "cuda", "--sdpa", "--model", w.model(), "--tower", w.tower(),
                    "--batch", "" + w.batch(), "--tokens", "16", "--dtype", "bf16", "--threads", "" + cpuThreads, "--iters", "" + iters,
                    "--warmup", "" + warmup));
            if (c.compile()) {
                cmd.add("--compile");
            }
        }
        if (w.train()) {
            cmd.add("--train");
        }
        return runProcess(cmd, c.name() + " " + w.id());
    }

    private JsonObject runProcess(List<String> cmd, String what) throws IOException, InterruptedException {
        Path log = out.resolve("logs").resolve(what.replaceAll("[^A-Za-z0-9]+", "_") + ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            notes.add(what + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + "); see logs/" + log.getFileName());
            p.destroyForcibly();
            return null;
        }
        String last = stdout.strip().lines().reduce((x, y) -> y).orElse("");
        try {
            return JsonParser.parseString(last).getAsJsonObject();
        } catch (RuntimeException e) {
            notes.add(what + " printed no result; see logs/" + log.getFileName());
            return null;
        }
    }

    private static double value(Row w, double s) {
        return w.unit().equals("ms") ? s * 1e3 : w.batch() / s / (w.train() ? w.batch() : 1);
    }

    private void report(List<Row> rows, List<Contender> cs, Map<String, Map<String, Double>> med, double gemm, int vitBig) throws IOException {
        List<String> headers = new ArrayList<>(List.of("workload", "unit"));
        cs.forEach(c -> headers.add(c.name()));
        headers.addAll(List.of("lit4j cuda TFLOP/s", "cuda / onednn", "cuda / PyTorch eager"));
        Table t = new Table(headers.toArray(String[]::new));
        String cuda = "lit4j cuda bf16", eager = "PyTorch eager bf16 (GPU, SDPA)", comp = "PyTorch compile bf16 (GPU)", cpu = "lit4j onednn bf16 (CPU)";
        for (Row w : rows) {
            Map<String, Double> m = med.getOrDefault(w.id(), Map.of());
            List<Object> row = new ArrayList<>(List.of(w.label(), w.unit()));
            for (Contender c : cs) {
                Double s = m.get(c.name());
                row.add(s == null ? "-" : String.format(w.unit().equals("ms") ? "%.3f" : "%.1f", value(w, s)));
            }
            row.add(m.containsKey(cuda) ? String.format("%.1f", w.flops() / m.get(cuda) / 1e12) : "-");
            row.add(ratio(m, cpu, cuda));
            row.add(ratio(m, eager, cuda));
            t.row(row.toArray());
        }

        List<String> goals = new ArrayList<>();
        String vb = rows.get(vitBig).id();
        Map<String, Double> v = med.get(vb);
        goals.add(goal("gpu_bf16_" + vb + "_vs_pytorch_eager", v, eager, cuda, 1.2));
        goals.add(goal("gpu_bf16_" + vb + "_vs_torch_compile", v, comp, cuda, 0.9));
        if (v != null && v.containsKey(cuda) && !Double.isNaN(gemm)) {
            double share = rows.get(vitBig).flops() / v.get(cuda) / 1e9 / gemm;
            goals.add(String.format("GOAL gpu_bf16_%s_of_cublaslt_gemm ratio=%.2f target=0.6 %s", vb, share, share >= 0.6 ? "met" : "missed"));
        } else {
            goals.add("GOAL gpu_bf16_" + vb + "_of_cublaslt_gemm ratio=n/a target=0.6 missed (not measured)");
        }
        Map<String, Double> b1 = med.get("bert-b1");
        if (b1 != null && b1.containsKey(cuda)) {
            double ms = b1.get(cuda) * 1e3;
            goals.add(String.format("GOAL gpu_bert_b1_ms value=%.3f target<=1.0 %s", ms, ms <= 1.0 ? "met" : "missed"));
        } else {
            goals.add("GOAL gpu_bert_b1_ms value=n/a target<=1.0 missed (not measured)");
        }
        goals.add(goal("gpu_bert_b1_vs_pytorch_eager", b1, eager, cuda, 1.5));
        String tl = rows.get(rows.size() - 1).id();
        goals.add(goal("gpu_bf16_" + tl + "_vs_pytorch_eager_autocast", med.get(tl), eager, cuda, 1.2));
        if (quick) {
            goals.replaceAll(s -> s + " (quick sizes: not the real targets)");
        }

        StringBuilder md = new StringBuilder("# lit4j CPU versus GPU\n\n");
        md.append(String.format("One round, each figure the median of one process's timed calls; lit4j onednn on %d CPU threads; "
                + "cuBLASLt bf16 GEMM 3072x768x50432 in this run: %s GFLOP/s.%n%n", cpuThreads, Double.isNaN(gemm) ? "n/a" : String.format("%.0f", gemm)));
        md.append(t.toMarkdown()).append('\n');
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        md.append("\n```\n").append(String.join("\n", goals)).append("\n```\n");
        Files.writeString(out.resolve("results.md"), md.toString());
        JsonObject json = new JsonObject();
        json.addProperty("cpu_threads", cpuThreads);
        json.addProperty("cublaslt_bf16_gemm_gflops", gemm);
        Map<String, String> labels = new LinkedHashMap<>();
        rows.forEach(w -> labels.put(w.id(), w.label()));
        json.add("rows", new Gson().toJsonTree(labels));
        json.add("contenders", new Gson().toJsonTree(cs.stream().map(Contender::name).toList()));
        json.add("medians_s", new Gson().toJsonTree(med));
        Files.writeString(out.resolve("results.json"), json + "\n");
        if (ModuleLayer.boot().findModule("java.desktop").isPresent()) {
            chart(out.resolve("results.json"), out.resolve("results.png"));
        } else {
            console.println("note: results.png not drawn: this runtime has no java.desktop (the GPU bundle leaves it out to stay under its size);"
                    + " draw it elsewhere with: GpuCompare --chart " + out.resolve("results.json"));
        }
        console.print(t.toText());
        notes.forEach(n -> console.println("note: " + n));
        console.println("wrote " + out.resolve("results.md") + " and results.json");
        goals.forEach(console::println);
    }

    /** The PNG chart (speed relative to lit4j onednn) from a results.json; needs java.desktop (JFreeChart). */
    static void chart(Path json, Path png) throws IOException {
        JsonObject r = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        List<String> ids = new ArrayList<>(r.getAsJsonObject("rows").keySet());
        List<String> labels = ids.stream().map(id -> r.getAsJsonObject("rows").get(id).getAsString()).toList();
        JsonObject med = r.getAsJsonObject("medians_s");
        String cpu = "lit4j onednn bf16 (CPU)";
        BarPlot chart = new BarPlot("lit4j CPU vs GPU vs PyTorch (bf16)", "workload", "speed relative to lit4j onednn (higher is faster)", labels);
        for (var c : r.getAsJsonArray("contenders")) {
            String name = c.getAsString();
            chart.series(name, ids.stream().mapToDouble(id -> {
                JsonObject m = med.has(id) ? med.getAsJsonObject(id) : new JsonObject();
                return m.has(cpu) && m.has(name) ? m.get(cpu).getAsDouble() / m.get(name).getAsDouble() : Double.NaN;
            }).toArray());
        }
        chart.line("lit4j onednn = 1", 1.0);
        chart.save(png);
    }

    private static String ratio(Map<String, Double> m, String peer, String mine) {
        return m.containsKey(peer) && m.containsKey(mine) ? String.format("%.2f", m.get(peer) / m.get(mine)) : "-";
    }

    private static String goal(String name, Map<String, Double> m, String peer, String mine, double target) {
        if (m == null || !m.containsKey(peer) || !m.containsKey(mine)) {
            return String.format("GOAL %s ratio=n/a target=%.1f missed (%s not measured)", name, target, m == null || !m.containsKey(mine) ? mine : peer);
        }
        double r = m.get(peer) / m.get(mine);
        return String.format("GOAL %s ratio=%.2f target=%.1f %s", name, r, target, r >= target ? "met" : "missed");
    }
}

package io.lit4j.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness end to end at {@code --quick} sizes, lit4j only (peers pointed at an empty folder):
 * every row measured in its own process, the table, chart, JSON and GOAL lines written (and printed,
 * into a buffer the test reads: a build log shows nothing). It checks that the harness works, not
 * how fast anything is.
 */
class CompareQuickTest {
    @Test
    void onlyThatMatchesNothingIsAnError(@TempDir Path dir) {
        Compare c = new Compare(dir.resolve("out"), 1, 1, true, List.of("nope"), dir, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::run);
        assertTrue(e.getMessage().contains("--only nope matches no workload") && e.getMessage().contains("train-16"), e.getMessage());
    }

    @Test
    void boundIsPyTorchsStepOverProductsAloneAndAdamWAtCopyBandwidth() {
        Compare.Workload w = new Compare.Workload("train-64", "LiT step", "m", "text", 64, true, 1.0e12, "steps/s");
        JsonObject profile = new JsonObject();
        profile.addProperty("optimizer_bytes_per_step", 4.0e9);
        // 1e12 FLOP at 500 GFLOP/s is 2000 ms, 4 GB at 40 GB/s 100 ms; PyTorch's step 2310 ms: at most 1.10x
        String b = Compare.bound(w, Map.of("PyTorch bf16", 2.31, "lit4j bf16", 2.0), profile, new Compare.Rooflines(300, 500, 40), "bf16").orElseThrow();
        assertTrue(b.startsWith("BOUND train_bf16_vs_pytorch_bf16_train-64 at_most=1.10 (") && b.contains("2000 ms") && b.contains("100 ms")
                && b.contains("2310 ms"), b);
        assertTrue(b.contains("at the bf16 GEMM rate"), b);
        JsonObject alone = new JsonObject();
        alone.addProperty("products_s", 2.21); // slower than the GEMM rate's 2000 ms: the bound keeps the smaller
        profile.add("step_products", alone);
        assertTrue(Compare.bound(w, Map.of("PyTorch bf16", 2.31), profile, new Compare.Rooflines(300, 500, 40), "bf16").orElseThrow()
                .contains("at_most=1.10 (products alone at the bf16 GEMM rate 2000 ms"));
        alone.addProperty("products_s", 1.80); // measured at the step's shapes: 1800 + 100 ms, at most 1.22x
        String tight = Compare.bound(w, Map.of("PyTorch bf16", 2.31), profile, new Compare.Rooflines(300, 500, 40), "bf16").orElseThrow();
        assertTrue(tight.contains("at_most=1.22 (") && tight.contains("each timed alone in bf16, 1800 ms"), tight);
        // the profiled step's own linear products, 1000 + 500 + 200 ms, beat both: 1700 + 100 ms, at most 1.28x
        JsonObject ops = new JsonObject();
        for (String[] op : new String[][] {{"linear", "1000"}, {"linear dw = xᵀ·dy", "500"}, {"linear dx = dy·wᵀ", "200"}, {"adamw (Java)", "90"}}) {
            JsonObject o = new JsonObject();
            o.addProperty("ms", Double.parseDouble(op[1]));
            o.addProperty("calls", 3);
            ops.add(op[0], o);
        }
        profile.add("profile", ops);
        String inStep = Compare.bound(w, Map.of("PyTorch bf16", 2.31), profile, new Compare.Rooflines(300, 500, 40), "bf16").orElseThrow();
        assertTrue(inStep.contains("at_most=1.28 (") && inStep.contains("timed inside the profiled step, 1700 ms"), inStep);
        profile.remove("profile");
        profile.remove("step_products");
        // fp32 against PyTorch fp32 at the fp32 GEMM rate: 1e12 FLOP at 300 GFLOP/s, 3333 ms + 100 ms against 4120 ms
        String fp32 = Compare.bound(w, Map.of("PyTorch fp32", 4.12), profile, new Compare.Rooflines(300, 500, 40), "fp32").orElseThrow();
        assertTrue(fp32.startsWith("BOUND train_fp32_vs_pytorch_fp32_train-64 at_most=1.20 (") && fp32.contains("fp32 GEMM rate 3333 ms"), fp32);
        assertTrue(Compare.bound(w, Map.of("lit4j bf16", 2.0), profile, new Compare.Rooflines(300, 500, 40), "bf16").isEmpty(),
                "no bound without a PyTorch bf16 step");
        assertTrue(Compare.bound(w, Map.of("PyTorch bf16", 2.31), new JsonObject(), new Compare.Rooflines(300, 500, 40), "bf16").isEmpty(),
                "no bound without AdamW's bytes");
    }

    @Test
    void quickRunWritesTableChartJsonAndGoals(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(dir.resolve("no-peers"));
        // what bench/run.sh prints is captured here and checked, so that the build log stays quiet
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        new Compare(out, 1, 1, true, dir.resolve("no-peers"), new PrintStream(console, true, StandardCharsets.UTF_8),
                new PrintStream(progress, true, StandardCharsets.UTF_8)).run();
        String printed = console.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("ViT smoke image, batch 1") && printed.contains("note: PyTorch peer skipped"),
                "the table and the notes must be printed:\n" + printed);
        List<String> goals = printed.lines().filter(l -> l.startsWith("GOAL ")).toList();
        assertTrue(goals.size() > 10 && printed.strip().endsWith(goals.getLast()), "the GOAL lines must come last:\n" + printed);
        assertTrue(goals.stream().allMatch(g -> g.endsWith("(quick sizes: not the real targets)")), "quick GOAL lines must say so:\n" + printed);
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("round 1  vit-b1"), "no progress line:\n" + progress);
        String md = Files.readString(out.resolve("results.md"));
        for (String row : new String[] {"ViT smoke image, batch 1", "BERT tiny texts, batch 8 x 16", "text transformer tiny, batch 1 x 16",
                "LiT step (BERT tiny text tower, AdamW), 16 x 16"}) {
            assertTrue(md.contains(row), "results.md lacks the row '" + row + "':\n" + md);
        }
        assertTrue(md.contains("PyTorch peer skipped"), "a missing peer must be named in a note:\n" + md);
        assertTrue(md.matches("(?s).*Machine: .+, \\d+ CPUs; load average \\d+\\.\\d+, .* before the run, \\d+\\.\\d+, .* after; \\d+ measurement.*"),
                "results.md must say how busy the machine was:\n" + md);
        assertTrue(md.contains("GOAL fp32_vit_vit-b4_of_gemm ratio="), "results.md lacks the GOAL lines:\n" + md);
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        JsonObject vit = json.getAsJsonObject("medians_s").getAsJsonObject("vit-b1");
        assertTrue(vit.get("lit4j fp32").getAsDouble() > 0 && vit.get("lit4j bf16").getAsDouble() > 0, json.toString());
        assertTrue(json.get("gemm_gflops").getAsDouble() > 0, "the same-run GEMM rate must be measured");
        assertTrue(json.get("stream_copy_gbs").getAsDouble() > 0, "the same-run copy bandwidth must be measured");
        JsonObject prof = json.getAsJsonObject("profiled_runs").getAsJsonObject("train-16 lit4j bf16");
        assertTrue(prof != null && prof.getAsJsonObject("profile").has("adamw (Java)") && prof.get("optimizer_gbs").getAsDouble() > 0,
                "the bf16 tuning row must be profiled, AdamW's bandwidth with it: " + json);
        assertTrue(prof.has("step_products") && prof.getAsJsonObject("step_products").get("products_s").getAsDouble() > 0
                && prof.getAsJsonObject("step_products").getAsJsonObject("products_ms_per_linear").keySet().stream()
                        .anyMatch(k -> k.startsWith("projection ")),
                "the bf16 tuning row's products must be timed alone for its BOUND line: " + prof);
        assertTrue(printed.contains("Profile of train-16 lit4j bf16") && md.contains("Profile of train-16 lit4j bf16"),
                "the profile table must be printed and written:\n" + printed);
        assertTrue(md.matches("(?s).*Profile of train-16 lit4j bf16 \\(one extra run with -Dlit4j.profile=true: 5 steps of \\d+ to \\d+ ms, median \\d+.*"),
                "the profile's heading must say over how many steps, and how far apart they were:\n" + md);
        assertTrue(goals.stream().anyMatch(g -> g.startsWith("GOAL adamw_bf16_train-16_of_copy_bandwidth ratio=")), "no AdamW goal:\n" + printed);
        assertTrue(goals.stream().anyMatch(g -> g.startsWith("GOAL train_bf16_vs_pytorch_bf16_train-16 ratio=n/a target=1.3")), printed);
        BufferedImage png = ImageIO.read(out.resolve("results.png").toFile());
        assertNotNull(png, "results.png is not a readable image");
        assertTrue(png.getWidth() >= 640 && png.getHeight() >= 400, png.getWidth() + "x" + png.getHeight());
        try (var logs = Files.list(out.resolve("logs"))) {
            for (Path log : logs.toList()) {
                String text = Files.readString(log);
                assertTrue(!text.contains("Exception"), log + " shows an exception:\n" + text);
            }
        }
    }
}

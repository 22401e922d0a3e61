package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Backends;
import io.lit4j.data.CaptionDataset;
import io.lit4j.eval.Templates;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;
import io.lit4j.train.LockSpec;
import io.lit4j.train.ModelBuilder;
import io.lit4j.train.TuneOptions;
import io.lit4j.train.Tuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * {@code lit4j ablation}: the LiT paper's setup comparison on your data. Tunes each setup (image
 * letter first: L locked, U pretrained+unlocked, u random) with the same data, steps and seed,
 * evaluates zero-shot (or retrieval) on held-out data, and writes a table and a bar chart.
 */
@Command(name = "ablation", sortOptions = false, description = {"Compare LiT setups (Lu, Uu, uu, LU, LL) on the same data and step budget.",
        "Needs pretrained towers for L/U letters: --image-tower and --text-tower checkpoints."})
final class AblationCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Option(names = "--image-tower", required = true, description = "pretrained image tower (checkpoint)")
    String imageTower;

    @Option(names = "--text-tower", required = true, description = "text tower: a checkpoint (needed for U/L text) or a config")
    String textTower;

    @Option(names = "--tokenizer", description = "tokenizer for the text tower (default: beside it)")
    String tokenizer;

    @Option(names = "--embed-dim", description = "shared embedding width (0: keep the towers' widths)", defaultValue = "0")
    int embedDim;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "training image-caption folder, .tar or .zip")
    Path data;

    @Option(names = "--eval-data", required = true, description = "held-out folder: zero-shot if labelled, else retrieval")
    Path evalData;

    @Option(names = "--setups", description = "setups to compare, image letter first (L locked, U pretrained+tuned, u random)",
            defaultValue = "Lu,Uu,uu,LU,LL", split = ",")
    List<String> setups;

    @Option(names = "--steps", description = "optimizer steps per setup", defaultValue = "300")
    int steps;

    @Option(names = "--batch", description = "image-text pairs per step", defaultValue = "64")
    int batch;

    @Option(names = "--lr", description = "peak learning rate", defaultValue = "1e-3")
    double lr;

    @Option(names = "--warmup", description = "linear warmup steps, then cosine decay", defaultValue = "30")
    int warmup;

    @Option(names = "--eval-limit", description = "evaluate on at most N images (0: all)", defaultValue = "1000")
    int evalLimit;

    @Option(names = "--seed", description = "the same seed for every setup", defaultValue = "0")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "one run folder per setup, ablation.md and ablation.png")
    Path out;

    @Option(names = "--json", description = "machine-readable results on stdout")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Map<String, TuneOptions> plan = plan();
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        Map<String, Double> losses = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        try (Backends.Choice engine = Backends.open(common.backend, common.threads())) {
            for (Map.Entry<String, TuneOptions> e : plan.entrySet()) {
                common.note("setup " + e.getKey() + " (" + (results.size() + 1) + " of " + plan.size() + ")");
                long t0 = System.nanoTime();
                Tuner.Summary s = Tuner.run(engine.backend(), e.getValue(), common.log());
                results.put(e.getKey(), s.lastEval());
                losses.put(e.getKey(), s.lastLoss());
                seconds.put(e.getKey(), (System.nanoTime() - t0) / 1e9);
            }
        }
        String metric = results.values().iterator().next().containsKey("eval_top1") ? "eval_top1" : "eval_t2i_r1";
        String metricName = metric.equals("eval_top1") ? "zero-shot top-1" : "text-to-image recall@1";
        Table t = new Table("setup", "image tower", "text tower", metric.equals("eval_top1") ? "zero-shot top-1" : "text->image R@1",
                "final loss", "seconds");
        List<String> names = List.copyOf(plan.keySet());
        double[] values = new double[names.size()];
        for (int i = 0; i < names.size(); i++) {
            String s = names.get(i);
            values[i] = results.get(s).getOrDefault(metric, Double.NaN);
            t.row(s, describe(s.charAt(0)), describe(s.charAt(1)), String.format("%.4f", values[i]), String.format("%.4f", losses.get(s)),
                    String.format("%.0f", seconds.get(s)));
        }
        Files.createDirectories(out);
        chart(metric.equals("eval_top1"), metricName, names, values).save(out.resolve("ablation.png"));
        Files.writeString(out.resolve("ablation.md"), t.toMarkdown());
        if (json) {
            JsonArray rows = new JsonArray();
            for (String s : plan.keySet()) {
                JsonObject o = new JsonObject();
                o.addProperty("setup", s);
                o.addProperty("metric", metric);
                o.addProperty("value", results.get(s).getOrDefault(metric, Double.NaN));
                o.addProperty("final_loss", losses.get(s));
                o.addProperty("seconds", seconds.get(s));
                rows.add(o);
            }
            JsonObject o = new JsonObject();
            o.add("setups", rows);
            o.addProperty("table", out.resolve("ablation.md").toString());
            o.addProperty("chart", out.resolve("ablation.png").toString());
            pw.println(o);
            return 0;
        }
        pw.print(t.toText());
        pw.println("table: " + out.resolve("ablation.md") + ", chart: " + out.resolve("ablation.png"));
        return 0;
    }

    /** Every setup's options, checked before the first one trains (a bad last setup must not waste the others' hours). */
    private Map<String, TuneOptions> plan() {
        if (setups.isEmpty()) {
            throw new LitException("--setups is empty: give e.g. Lu,Uu,uu");
        }
        Map<String, TuneOptions> plan = new LinkedHashMap<>();
        for (String setup : setups) {
            LockSpec lock = LockSpec.parse(setup, List.of(), List.of());
            if (plan.containsKey(lock.setup())) {
                throw new LitException("--setups names " + setup + " twice");
            }
            if (lock.image() != 'u' && !ModelBuilder.hasWeights(ModelOptions.named(imageTower))) {
                throw new LitException("setup " + setup + " starts from a pretrained image tower, but --image-tower " + imageTower
                        + " is not a checkpoint");
            }
            if (lock.text() != 'u' && !ModelBuilder.hasWeights(ModelOptions.named(textTower))) {
                throw new LitException("setup " + setup + " starts from a pretrained text tower, but --text-tower " + textTower
                        + " is not a checkpoint (drop " + setup + " from --setups, or give a trained text tower)");
            }
            Path run = out.resolve(setup);
            if (Files.exists(run.resolve("run.json"))) {
                throw new LitException(run + " already exists: pick another --out");
            }
            TuneOptions o = TuneOptions.builder().imageTower(ModelOptions.named(imageTower)).textTower(ModelOptions.named(textTower)).embedDim(embedDim).data(data.toString())
                    .setup(setup).steps(steps).batch(batch).lr(lr).warmup(warmup).seed(seed).out(run.toString()).saveEvery(steps)
                    .evalData(evalData.toString()).evalEvery(steps).evalLimit(evalLimit).templates(Templates.DEFAULT)
                    .tokenizer(setup.charAt(1) == 'u' ? null : tokenizer).build();
            if (plan.isEmpty()) {
                o.doubts().forEach(d -> common.note("warning: " + d));
            }
            plan.put(lock.setup(), o);
        }
        return plan;
    }

    /** The bars: one per setup, the metric on the eval data, and the chance level to beat. */
    private BarPlot chart(boolean zeroShot, String metricName, List<String> names, double[] values) {
        long n;
        try (CaptionDataset eval = CaptionDataset.open(evalData)) {
            n = zeroShot ? eval.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().count()
                    : evalLimit > 0 ? Math.min(evalLimit, eval.size()) : eval.size();
        }
        String on = shortName(evalData) + (evalLimit > 0 ? " (at most " + evalLimit + " images)" : "");
        return new BarPlot("LiT setups on " + shortName(data) + ", " + steps + " steps each", "setup (image tower, text tower)",
                metricName, names)
                .subtitle("L: " + describe('L') + "   U: " + describe('U') + "   u: " + describe('u'))
                .series(metricName + " on " + on, values)
                .line("chance: 1 of " + n + (zeroShot ? " classes" : " images"), 1.0 / Math.max(1, n));
    }

    /** A data folder's last two names: "scenes/test" says more than "test". */
    private static Path shortName(Path folder) {
        int n = folder.getNameCount();
        return n >= 2 ? folder.subpath(n - 2, n) : folder;
    }

    private static String describe(char c) {
        return switch (c) {
            case 'L' -> "pretrained, locked";
            case 'U' -> "pretrained, tuned";
            default -> "random init, tuned";
        };
    }
}

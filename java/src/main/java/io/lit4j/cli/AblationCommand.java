package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.backend.Backends;
import io.lit4j.data.CaptionDataset;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;
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

    @Option(names = "--embed-dim", defaultValue = "0")
    int embedDim;

    @Option(names = "--data", required = true)
    Path data;

    @Option(names = "--eval-data", required = true, description = "held-out folder: zero-shot if labelled, else retrieval")
    Path evalData;

    @Option(names = "--setups", defaultValue = "Lu,Uu,uu,LU,LL", split = ",")
    List<String> setups;

    @Option(names = "--steps", defaultValue = "300")
    int steps;

    @Option(names = "--batch", defaultValue = "64")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3")
    double lr;

    @Option(names = "--warmup", defaultValue = "30")
    int warmup;

    @Option(names = "--eval-limit", defaultValue = "1000")
    int evalLimit;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--out", required = true)
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        Map<String, Double> losses = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        try (Backends.Choice engine = Backends.open(common.backend, common.threads)) {
            for (String setup : setups) {
                Path run = out.resolve(setup);
                if (Files.exists(run.resolve("run.json"))) {
                    throw new LitException(run + " already exists: pick another --out");
                }
                long t0 = System.nanoTime();
                TuneOptions o = TuneOptions.builder().imageTower(imageTower).textTower(textTower).embedDim(embedDim).data(data.toString())
                        .setup(setup).steps(steps).batch(batch).lr(lr).warmup(warmup).seed(seed).out(run.toString()).saveEvery(steps)
                        .evalData(evalData.toString()).evalEvery(steps).evalLimit(evalLimit).templates("clip_80")
                        .tokenizer(setup.charAt(1) == 'u' ? null : tokenizer).build();
                Tuner.Summary s = Tuner.run(engine.backend(), o, System.err);
                results.put(setup, s.lastEval());
                losses.put(setup, s.lastLoss());
                seconds.put(setup, (System.nanoTime() - t0) / 1e9);
            }
        }
        String metric = results.values().iterator().next().containsKey("eval_top1") ? "eval_top1" : "eval_t2i_r1";
        String metricName = metric.equals("eval_top1") ? "zero-shot top-1" : "text-to-image recall@1";
        Table t = new Table("setup", "image tower", "text tower", metric.equals("eval_top1") ? "zero-shot top-1" : "text->image R@1",
                "final loss", "seconds");
        double[] values = new double[setups.size()];
        for (int i = 0; i < setups.size(); i++) {
            String s = setups.get(i);
            values[i] = results.get(s).getOrDefault(metric, Double.NaN);
            t.row(s, describe(s.charAt(0)), describe(s.charAt(1)), String.format("%.4f", values[i]), String.format("%.4f", losses.get(s)),
                    String.format("%.0f", seconds.get(s)));
        }
        Files.createDirectories(out);
        chart(metric.equals("eval_top1"), metricName, values).save(out.resolve("ablation.png"));
        Files.writeString(out.resolve("ablation.md"), t.toMarkdown());
        pw.print(t.toText());
        pw.println("table: " + out.resolve("ablation.md") + ", chart: " + out.resolve("ablation.png"));
        return 0;
    }

    /** The bars: one per setup, the metric on the eval data, and the chance level to beat. */
    private BarPlot chart(boolean zeroShot, String metricName, double[] values) {
        long n;
        try (CaptionDataset eval = CaptionDataset.open(evalData)) {
            n = zeroShot ? eval.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().count()
                    : evalLimit > 0 ? Math.min(evalLimit, eval.size()) : eval.size();
        }
        String on = shortName(evalData) + (evalLimit > 0 ? " (at most " + evalLimit + " images)" : "");
        return new BarPlot("LiT setups on " + shortName(data) + ", " + steps + " steps each", "setup (image tower, text tower)",
                metricName, setups)
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

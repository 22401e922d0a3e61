package io.lit4j.study;

import io.lit4j.datasets.ReferenceCaptions;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * {@code lit4j study lock-regime}: where the paper's claim (locking the pretrained image tower
 * beats tuning it) lives. The image tower is pretrained once on all the clean labelled training
 * images; the pairs tuned on are few and noisy: a grid of pair counts × shares of wrong captions
 * (a caption of another image). Lu, Uu and uu per cell with the same steps, evaluated zero-shot on
 * the test split and on a shifted copy of it (each image translated by up to 3 pixels), which the
 * pretraining never saw. The report names, per evaluation, the cells where Lu is best.
 *
 * <p>Seeds vary the tuning, as in the size study: each cell's pairs and the image tower are the same
 * for every seed. A run's arms join those already in the folder's table (per arm and seed, this
 * run's replace them); each cell shows the mean over its seeds with half their range, and "best" is
 * the best mean.
 */
public final class LockRegimeStudy {
    static final List<String> SETUPS = List.of("Lu", "Uu", "uu");

    private LockRegimeStudy() {
    }

    public static StudyReport run(StudyContext c, List<Integer> pairs, List<Double> wrong) {
        StudyReport report = report(c.options());
        Path base = c.trainData();
        List<EvalSet> evals = new ArrayList<>(List.of(c.mainEval()));
        if (c.options().evalData() == null) {
            int n = c.options().quick() ? StudyContext.QUICK_TEST : 0;
            Path shifted = StudyData.fashion(c.work().resolve("data").resolve("fashion-reference-test-shift3" + (n > 0 ? "-" + n : "")),
                    c.fashionTest(), StudyData.subset(c.fashionTest().size(), n, 0), (label, i) -> ReferenceCaptions.caption(label, 1, i), 0, 3,
                    5, c.log());
            evals.add(EvalSet.fashion("shifted", shifted, ReferenceCaptions.CANONICAL, ReferenceCaptions.TEMPLATES, false));
        } else {
            report.note("no shifted set: --eval-data is the user's, and a shifted copy is only made of the built-in test split");
        }
        int steps = c.options().quick() ? 3 : c.options().steps() > 0 ? c.options().steps() : 200;
        for (long seed : c.options().seeds()) {
            for (int n : pairs) {
                for (double p : wrong) {
                    String cell = cell(n, p);
                    // the cell's pairs are the same for every seed: the seed varies the tuning
                    Path data = StudyData.noisy(base, c.work().resolve("data").resolve(base.getFileName() + "-" + cell), n, p, 0, c.log());
                    for (String setup : SETUPS) {
                        c.tune(report, setup + "@" + cell, c.arm("lock-regime", setup + "-" + cell, seed, data)
                                .setup(setup).steps(steps).warmup(steps / 10).logEvery(Math.max(1, steps / 20)).build(), evals);
                    }
                }
            }
        }
        // the table: each cell's mean over every seed it has, this run's and the earlier ones kept
        Table t = new Table("pairs", "wrong captions", "seeds", "Lu top-1", "Uu top-1", "uu top-1", "best", "Lu shifted", "Uu shifted",
                "uu shifted", "best shifted");
        double[][][] top1 = new double[2][wrong.size()][];
        for (int e = 0; e < 2; e++) {
            for (int w = 0; w < wrong.size(); w++) {
                top1[e][w] = new double[pairs.size() * SETUPS.size()];
            }
        }
        List<String> luWins = new ArrayList<>(), luWinsShifted = new ArrayList<>();
        TreeSet<Long> allSeeds = new TreeSet<>();
        for (int pi = 0; pi < pairs.size(); pi++) {
            for (int w = 0; w < wrong.size(); w++) {
                int n = pairs.get(pi);
                double p = wrong.get(w);
                String cell = cell(n, p);
                double[] v = new double[SETUPS.size()], vs = new double[SETUPS.size()];
                String[] shown = new String[SETUPS.size()], shownShifted = new String[SETUPS.size()];
                TreeSet<Long> seeds = new TreeSet<>();
                for (int s = 0; s < SETUPS.size(); s++) {
                    SeedRuns runs = SeedRuns.of(report, SETUPS.get(s) + "@" + cell);
                    seeds.addAll(runs.seeds());
                    v[s] = runs.mean("top1");
                    vs[s] = runs.mean("shifted_top1");
                    shown[s] = runs.cell("top1");
                    shownShifted[s] = runs.cell("shifted_top1");
                    top1[0][w][pi * SETUPS.size() + s] = v[s];
                    top1[1][w][pi * SETUPS.size() + s] = vs[s];
                }
                allSeeds.addAll(seeds);
                String best = SETUPS.get(argmax(v)), bestShifted = Double.isNaN(vs[0]) ? "-" : SETUPS.get(argmax(vs));
                if (best.equals("Lu")) {
                    luWins.add(n + " pairs, " + Math.round(p * 100) + "% wrong");
                }
                if (bestShifted.equals("Lu")) {
                    luWinsShifted.add(n + " pairs, " + Math.round(p * 100) + "% wrong");
                }
                t.row(n, Math.round(p * 100) + "%", SeedRuns.list(seeds), shown[0], shown[1],
                        shown[2], best, shownShifted[0], shownShifted[1], shownShifted[2], bestShifted);
            }
        }
        report.table(t);
        int cells = pairs.size() * wrong.size();
        String over = allSeeds.size() > 1 ? " (by the mean over seeds " + SeedRuns.list(allSeeds) + ")" : "";
        report.finding("Lu is best on the test split in " + luWins.size() + " of " + cells + " cells" + over + (luWins.isEmpty() ? "" : ": " + luWins));
        if (evals.size() > 1) {
            report.finding("Lu is best on the shifted test split in " + luWinsShifted.size() + " of " + cells + " cells" + over
                    + (luWinsShifted.isEmpty() ? "" : ": " + luWinsShifted));
        }
        report.note("every cell tunes " + steps + " steps; the image tower was pretrained on all " + StudyContext.rows(base)
                + " clean labelled training images");
        double chance = c.chance();
        for (int e = 0; e < evals.size(); e++) {
            int ee = e;
            String what = e == 0 ? "test split" : "shifted test split (images moved up to 3 px)";
            report.chart(e == 0 ? "lock-regime.png" : "lock-regime-shifted.png", png -> {
                List<String> cellNames = new ArrayList<>();
                for (int n : pairs) {
                    for (double p : wrong) {
                        cellNames.add(n + " pairs, " + Math.round(p * 100) + "% wrong");
                    }
                }
                BarPlot plot = new BarPlot("Where locking wins: zero-shot top-1 on the " + what + ", same steps per cell"
                        + (allSeeds.size() > 1 ? ", mean of " + allSeeds.size() + " seeds" : ""),
                        "tuning pairs (count, share with a wrong caption)", "zero-shot top-1 on " + (c.options().evalData() == null ? "Fashion-MNIST " + what : c.options().evalData().toString()), cellNames)
                        .subtitle("image tower pretrained on all clean labelled images; Lu keeps it locked, Uu tunes it, uu starts from random");
                for (int s = 0; s < SETUPS.size(); s++) {
                    double[] y = new double[cellNames.size()];
                    for (int pi = 0; pi < pairs.size(); pi++) {
                        for (int w = 0; w < wrong.size(); w++) {
                            y[pi * wrong.size() + w] = top1[ee][w][pi * SETUPS.size() + s];
                        }
                    }
                    plot.series(SETUPS.get(s), y);
                }
                plot.line(String.format(Locale.ROOT, "chance (1 of %d classes)", Math.round(1 / chance)), chance).save(png);
            });
        }
        return report;
    }

    /**
     * The study's report, holding the earlier arms of its folder: a run with {@code --seeds 1} adds
     * a seed to the committed table instead of replacing it.
     */
    public static StudyReport report(StudyOptions o) {
        StudyReport report = new StudyReport("lock-regime", o);
        report.keepEarlierArms();
        return report;
    }

    private static String cell(int pairs, double wrong) {
        return String.format(Locale.ROOT, "n%d-wrong%02.0f", pairs, wrong * 100);
    }

    static int argmax(double[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[b]) {
                b = i;
            }
        }
        return b;
    }
}

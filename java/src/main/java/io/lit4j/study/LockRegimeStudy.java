package io.lit4j.study;

import io.lit4j.datasets.ReferenceCaptions;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code lit4j study lock-regime}: where the paper's claim (locking the pretrained image tower
 * beats tuning it) lives. The image tower is pretrained once on all the clean labelled training
 * images; the pairs tuned on are few and noisy: a grid of pair counts × shares of wrong captions
 * (a caption of another image). Lu, Uu and uu per cell with the same steps, evaluated zero-shot on
 * the test split and on a shifted copy of it (each image translated by up to 3 pixels), which the
 * pretraining never saw. The report names, per evaluation, the cells where Lu is best.
 */
public final class LockRegimeStudy {
    static final List<String> SETUPS = List.of("Lu", "Uu", "uu");

    private LockRegimeStudy() {
    }

    public static StudyReport run(StudyContext c, List<Integer> pairs, List<Double> wrong) {
        StudyReport report = new StudyReport("lock-regime", c.options());
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
        Table t = new Table("pairs", "wrong captions", "Lu top-1", "Uu top-1", "uu top-1", "best", "Lu shifted", "Uu shifted", "uu shifted",
                "best shifted");
        double[][][] top1 = new double[2][wrong.size()][];
        for (int e = 0; e < 2; e++) {
            for (int w = 0; w < wrong.size(); w++) {
                top1[e][w] = new double[pairs.size() * SETUPS.size()];
            }
        }
        List<String> luWins = new ArrayList<>(), luWinsShifted = new ArrayList<>();
        for (int pi = 0; pi < pairs.size(); pi++) {
            for (int w = 0; w < wrong.size(); w++) {
                int n = pairs.get(pi);
                double p = wrong.get(w);
                String cell = String.format(Locale.ROOT, "n%d-wrong%02.0f", n, p * 100);
                Path data = StudyData.noisy(base, c.work().resolve("data").resolve(base.getFileName() + "-" + cell), n, p, 0, c.log());
                double[] v = new double[SETUPS.size()], vs = new double[SETUPS.size()];
                for (int s = 0; s < SETUPS.size(); s++) {
                    String setup = SETUPS.get(s);
                    ArmResult r = c.tune(report, setup + "@" + cell, c.arm("lock-regime", setup + "-" + cell, c.options().seeds().getFirst(), data)
                            .setup(setup).steps(steps).warmup(steps / 10).logEvery(Math.max(1, steps / 20)).build(), evals);
                    v[s] = r.metric("top1");
                    vs[s] = r.metric("shifted_top1");
                    top1[0][w][pi * SETUPS.size() + s] = v[s];
                    top1[1][w][pi * SETUPS.size() + s] = vs[s];
                }
                String best = SETUPS.get(argmax(v)), bestShifted = Double.isNaN(vs[0]) ? "-" : SETUPS.get(argmax(vs));
                if (best.equals("Lu")) {
                    luWins.add(n + " pairs, " + Math.round(p * 100) + "% wrong");
                }
                if (bestShifted.equals("Lu")) {
                    luWinsShifted.add(n + " pairs, " + Math.round(p * 100) + "% wrong");
                }
                t.row(n, Math.round(p * 100) + "%", SetupsStudy.f(v[0]), SetupsStudy.f(v[1]), SetupsStudy.f(v[2]), best, SetupsStudy.f(vs[0]),
                        SetupsStudy.f(vs[1]), SetupsStudy.f(vs[2]), bestShifted);
            }
        }
        report.table(t);
        int cells = pairs.size() * wrong.size();
        report.finding("Lu is best on the test split in " + luWins.size() + " of " + cells + " cells" + (luWins.isEmpty() ? "" : ": " + luWins));
        if (evals.size() > 1) {
            report.finding("Lu is best on the shifted test split in " + luWinsShifted.size() + " of " + cells + " cells"
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
                BarPlot plot = new BarPlot("Where locking wins: zero-shot top-1 on the " + what + ", same steps per cell",
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

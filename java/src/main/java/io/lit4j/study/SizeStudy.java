package io.lit4j.study;

import io.lit4j.report.LinePlot;
import io.lit4j.report.Table;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * {@code lit4j study size} (LiT §5.3): a grid of image-tower widths × text-tower widths, setup
 * Lu, the same data and steps in every cell. Each image tower is pretrained once with the same
 * short recipe and cached. The table gives top-1 per cell; the plot, the two slopes: top-1 against
 * the image width (text width fixed at the middle one) and against the text width (image width
 * fixed at the middle one).
 *
 * <p>Seeds vary the tuning, as in the setups study: the image towers are pretrained once, with the
 * recipe's seed 0, whatever {@code --seeds} says. A run's arms join those already in the folder's
 * table (per cell and seed, this run's replace them), and each cell shows the mean over its seeds,
 * with half their range where there is more than one.
 */
public final class SizeStudy {
    private SizeStudy() {
    }

    public static StudyReport run(StudyContext c, List<Integer> imageWidths, List<Integer> textWidths, double pretrainEpochs) {
        StudyReport report = report(c.options(), pretrainEpochs);
        Path data = c.trainData();
        List<EvalSet> evals = List.of(c.mainEval());
        String[] images = new String[imageWidths.size()];
        for (int i = 0; i < images.length; i++) {
            images[i] = c.options().imageTower() != null && imageWidths.size() == 1 ? c.options().imageTower()
                    : c.imageTower(imageWidths.get(i), new Towers.Pretraining(pretrainEpochs, 256, 1e-3, 1e-4, 0));
        }
        for (long seed : c.options().seeds()) {
            for (int i = 0; i < images.length; i++) {
                for (int tw : textWidths) {
                    String arm = arm(imageWidths.get(i), tw);
                    c.tune(report, arm, c.arm("size", arm, seed, data).setup("Lu").imageTower(images[i])
                            .textTower(c.textTower(tw, 1024)).build(), evals);
                }
            }
        }
        // the table: each cell's mean over every seed it has, this run's and the earlier ones kept
        double[][] top1 = new double[imageWidths.size()][textWidths.size()];
        String[] headers = new String[textWidths.size() + 3];
        headers[0] = "image width";
        headers[1] = "image params";
        headers[2] = "seeds";
        for (int j = 0; j < textWidths.size(); j++) {
            headers[j + 3] = "text " + textWidths.get(j);
        }
        Table t = new Table(headers);
        for (int i = 0; i < imageWidths.size(); i++) {
            int iw = imageWidths.get(i);
            Object[] row = new Object[textWidths.size() + 3];
            row[0] = iw;
            row[1] = String.format(Locale.ROOT, "%.2fM", 4 * 12.0 * iw * iw / 1e6);
            TreeSet<Long> seeds = new TreeSet<>();
            for (int j = 0; j < textWidths.size(); j++) {
                SeedRuns runs = SeedRuns.of(report, arm(iw, textWidths.get(j)));
                seeds.addAll(runs.seeds());
                top1[i][j] = runs.mean("top1");
                row[j + 3] = runs.cell("top1");
            }
            row[2] = SeedRuns.list(seeds);
            t.row(row);
        }
        report.table(t);
        int mi = imageWidths.size() / 2, mt = textWidths.size() / 2;
        double imageGain = top1[imageWidths.size() - 1][mt] - top1[0][mt];
        double textGain = top1[mi][textWidths.size() - 1] - top1[mi][0];
        report.finding(String.format(Locale.ROOT,
                "image width %d -> %d (text %d): top-1 %+.4f; text width %d -> %d (image %d): top-1 %+.4f; %s",
                imageWidths.getFirst(), imageWidths.getLast(), textWidths.get(mt), imageGain, textWidths.getFirst(), textWidths.getLast(),
                imageWidths.get(mi), textGain, imageGain > textGain ? "the image tower's size matters more here, as the paper found"
                        : "the text tower's size matters as much or more here, unlike the paper"));
        report.note("image towers: depth " + (c.options().quick() ? 1 : 4) + ", pretrained " + Towers.trim(pretrainEpochs)
                + " epoch(s) each with seed 0 (the seeds vary the tuning); text towers: depth " + (c.options().quick() ? 1 : 2) + "; setup Lu");
        double chance = c.chance();
        report.chart("size.png", png -> {
            LinePlot p = new LinePlot("Tower size: zero-shot top-1 (Lu) as one tower grows, the other fixed at the middle width",
                    "tower width (hidden size)");
            LinePlot.Panel panel = p.panel("zero-shot top-1 (mean over seeds)").range(0, 1);
            double[] xi = imageWidths.stream().mapToDouble(Integer::doubleValue).toArray();
            double[] yi = new double[imageWidths.size()];
            for (int i = 0; i < yi.length; i++) {
                yi[i] = top1[i][mt];
            }
            double[] xt = textWidths.stream().mapToDouble(Integer::doubleValue).toArray();
            double[] yt = new double[textWidths.size()];
            for (int j = 0; j < yt.length; j++) {
                yt[j] = top1[mi][j];
            }
            panel.line("image tower width varies (text width " + textWidths.get(mt) + ")", xi, yi);
            panel.line("text tower width varies (image width " + imageWidths.get(mi) + ")", xt, yt);
            double[] cx = {Math.min(xi[0], xt[0]), Math.max(xi[xi.length - 1], xt[xt.length - 1])};
            panel.line("chance", cx, new double[] {chance, chance});
            p.save(png);
        });
        return report;
    }

    /**
     * The study's report, holding the earlier arms of its folder: the image towers' pretraining
     * epochs decide every cell, so a table merges only with one made with the same.
     */
    public static StudyReport report(StudyOptions o, double pretrainEpochs) {
        StudyReport report = new StudyReport("size", o).option("pretrain_epochs", pretrainEpochs);
        report.keepEarlierArms();
        return report;
    }

    private static String arm(int imageWidth, int textWidth) {
        return "image" + imageWidth + "-text" + textWidth;
    }
}

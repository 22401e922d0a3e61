package io.lit4j.study;

import io.lit4j.report.LinePlot;
import io.lit4j.report.Table;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code lit4j study size} (LiT §5.3): a grid of image-tower widths × text-tower widths, setup
 * Lu, the same data and steps in every cell. Each image tower is pretrained once with the same
 * short recipe and cached. The table gives top-1 per cell; the plot, the two slopes: top-1 against
 * the image width (text width fixed at the middle one) and against the text width (image width
 * fixed at the middle one).
 */
public final class SizeStudy {
    private SizeStudy() {
    }

    public static StudyReport run(StudyContext c, List<Integer> imageWidths, List<Integer> textWidths, double pretrainEpochs) {
        StudyReport report = new StudyReport("size", c.options());
        Path data = c.trainData();
        List<EvalSet> evals = List.of(c.mainEval());
        long seed = c.options().seeds().getFirst();
        double[][] top1 = new double[imageWidths.size()][textWidths.size()];
        String[] headers = new String[textWidths.size() + 2];
        headers[0] = "image width";
        headers[1] = "image params";
        for (int j = 0; j < textWidths.size(); j++) {
            headers[j + 2] = "text " + textWidths.get(j);
        }
        Table t = new Table(headers);
        for (int i = 0; i < imageWidths.size(); i++) {
            int iw = imageWidths.get(i);
            String image = c.options().imageTower() != null && imageWidths.size() == 1 ? c.options().imageTower()
                    : c.imageTower(iw, new Towers.Pretraining(pretrainEpochs, 256, 1e-3, 1e-4, seed));
            Object[] row = new Object[textWidths.size() + 2];
            row[0] = iw;
            row[1] = String.format(Locale.ROOT, "%.2fM", 4 * 12.0 * iw * iw / 1e6);
            for (int j = 0; j < textWidths.size(); j++) {
                int tw = textWidths.get(j);
                String arm = "image" + iw + "-text" + tw;
                ArmResult r = c.tune(report, arm, c.arm("size", arm, seed, data).setup("Lu").imageTower(image)
                        .textTower(c.textTower(tw, 1024)).build(), evals);
                top1[i][j] = r.metric("top1");
                row[j + 2] = SetupsStudy.f(top1[i][j]);
            }
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
                + " epoch(s) each; text towers: depth " + (c.options().quick() ? 1 : 2) + "; setup Lu");
        double chance = c.chance();
        report.chart("size.png", png -> {
            LinePlot p = new LinePlot("Tower size: zero-shot top-1 (Lu) as one tower grows, the other fixed at the middle width",
                    "tower width (hidden size)");
            LinePlot.Panel panel = p.panel("zero-shot top-1").range(0, 1);
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
}

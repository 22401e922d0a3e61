package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.Range;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinePlotTest {
    @TempDir
    Path dir;

    static double[] steps(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 10 * (i + 1);
        }
        return v;
    }

    static double[] noisyDecay(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.8 + 3 * Math.exp(-i / (n / 5.0)) + 0.3 * Math.sin(i * 1.7);
        }
        return v;
    }

    /** A training run as RunFolder draws it: loss, temperature, learning rate, an eval metric. */
    static LinePlot curves(int n) {
        double[] x = steps(n);
        double[] temp = new double[n];
        double[] lr = new double[n];
        for (int i = 0; i < n; i++) {
            temp[i] = 21.726 - 0.022 * i / n;           // the "dramatic drop" that is not one
            lr[i] = 1e-3 * Math.min(1, (i + 1) / 10.0);
        }
        LinePlot p = new LinePlot("LiT tuning", "step");
        p.panel("loss").smoothed("loss", x, noisyDecay(n));
        p.panel("temperature").line("temperature", x, temp);
        p.panel("learning rate").line("learning rate", x, lr);
        p.panel("zero-shot top-1").range(0, 1).line("zero-shot top-1 on fashion-test", new double[] {100, 200}, new double[] {0.3, 0.6});
        return p;
    }

    @Test
    void trainingCurvesAreWrittenWithEveryPanel() throws IOException {
        LinePlot p = curves(200);
        Path png = dir.resolve("curves.png");
        p.save(png);
        BufferedImage img = Pixels.read(png, 960, p.height());
        assertTrue(Pixels.distinctColours(img) > 40, "looks blank");
        assertTrue(Pixels.count(img, JFreeCharts.PALETTE[0], 30) > 300, "no dark loss line");
        assertTrue(Pixels.count(img, JFreeCharts.light(JFreeCharts.PALETTE[0], 0.35), 12) > 200, "no light raw loss line");
        Pixels.assertNoTempFiles(dir);

        JFreeChart chart = p.chart();
        List<XYPlot> subplots = ((CombinedDomainXYPlot) chart.getXYPlot()).getSubplots();
        assertEquals(List.of("loss", "temperature", "learning rate", "zero-shot top-1"),
                subplots.stream().map(s -> s.getRangeAxis().getLabel()).toList());
        assertEquals(5, chart.getXYPlot().getLegendItems().getItemCount(), "raw and smoothed loss, temperature, lr, eval");
    }

    @Test
    void smoothedLossIsTheRawOneAndItsEma() {
        LinePlot.Panel loss = new LinePlot("t", "step").panel("loss").smoothed("loss", steps(100), noisyDecay(100));
        List<LinePlot.Line> lines = loss.lines();
        assertEquals(List.of(LinePlot.Kind.RAW, LinePlot.Kind.SMOOTHED), lines.stream().map(LinePlot.Line::kind).toList());
        assertEquals(lines.get(0).color(), lines.get(1).color());
        assertArrayEquals(noisyDecay(100), lines.get(0).y());
        assertArrayEquals(LinePlot.ema(noisyDecay(100), LinePlot.smoothing(100)), lines.get(1).y());
        assertTrue(lines.get(1).name().startsWith("loss, smoothed"), lines.get(1).name());
    }

    @Test
    void emaIsBiasCorrectedAndSkipsNaN() {
        assertArrayEquals(new double[] {3, 3, 3}, LinePlot.ema(new double[] {3, 3, 3}, 0.9), 1e-12);
        double[] e = LinePlot.ema(new double[] {1, Double.NaN, 2}, 0.5);
        assertEquals(1, e[0], 1e-12);
        assertTrue(Double.isNaN(e[1]));
        assertEquals((0.25 + 1) / 0.75, e[2], 1e-12);
        assertEquals(0, LinePlot.smoothing(10), 1e-12);
        assertEquals(0.8, LinePlot.smoothing(100), 1e-12);
        assertEquals(0.99, LinePlot.smoothing(100_000), 1e-12);
    }

    @Test
    void axesDoNotMagnifyNoise() {
        LinePlot p = curves(50);
        List<XYPlot> subplots = ((CombinedDomainXYPlot) p.chart().getXYPlot()).getSubplots();
        Range temp = subplots.get(1).getRangeAxis().getRange();
        assertTrue(temp.getLength() >= 2 && temp.contains(21.704) && temp.contains(21.726), "temperature axis " + temp);
        Range loss = subplots.get(0).getRangeAxis().getRange();
        assertTrue(loss.getLength() < 5 && loss.getLowerBound() >= 0, "a loss axis follows the data: " + loss);
        Range lr = subplots.get(2).getRangeAxis().getRange();
        assertTrue(lr.getLowerBound() >= 0 && lr.contains(1e-4), "a learning rate axis does not go negative: " + lr);
        assertEquals(new Range(0, 1), subplots.get(3).getRangeAxis().getRange());
        assertArrayEquals(new double[] {0, 1}, JFreeCharts.limits(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
        assertTrue(JFreeCharts.limits(-5, -5)[1] - JFreeCharts.limits(-5, -5)[0] >= 0.5);
    }

    @Test
    void rejectsBadInput() {
        LinePlot p = new LinePlot("t", "step");
        assertThrows(LitException.class, () -> p.panel("a").line("x", new double[2], new double[3]));
        assertThrows(LitException.class, () -> p.panel("b").smoothed("x", null, new double[3]));
        assertThrows(LitException.class, () -> p.panel("c").range(1, 1));
    }
}

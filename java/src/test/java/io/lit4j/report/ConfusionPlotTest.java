package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.data.xy.DefaultXYZDataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfusionPlotTest {
    @TempDir
    Path dir;

    static List<String> names(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("class " + i);
        }
        return out;
    }

    /** 64 classes, images only for classes 10..17; two of them partly predicted as classes 40 and 3. */
    static long[][] heldOut() {
        long[][] m = new long[64][64];
        for (int t = 10; t < 18; t++) {
            m[t][t] = 20;
        }
        m[11][40] = 5;
        m[15][3] = 30;
        return m;
    }

    @Test
    void heldOutSplitShowsOnlyTheRowsWithImages() throws IOException {
        ConfusionPlot plot = new ConfusionPlot("held-out", names(64), heldOut());
        List<String> rows = names(64).subList(10, 18);
        assertEquals(rows, plot.rowNames());
        // the same classes first (the diagonal stays the diagonal), then the others predicted, in class order
        List<String> cols = new ArrayList<>(rows);
        cols.addAll(List.of("class 3", "class 40"));
        assertEquals(cols, plot.columnNames());
        assertEquals(160.0 / 195, plot.accuracy(), 1e-12);

        JFreeChart chart = plot.chart();
        XYPlot xy = chart.getXYPlot();
        DefaultXYZDataset data = (DefaultXYZDataset) xy.getDataset();
        assertEquals(8 * 10, data.getItemCount(0), "one cell per row and column shown");
        assertEquals(rows, List.of(((SymbolAxis) xy.getRangeAxis()).getSymbols()));
        assertEquals(cols, List.of(((SymbolAxis) xy.getDomainAxis()).getSymbols()));
        // row 5 is class 15: 20 right, 30 taken for class 3 (column 8)
        assertEquals(20.0 / 50, share(data, 5, 5), 1e-12);
        assertEquals(30.0 / 50, share(data, 8, 5), 1e-12);
        assertEquals(1.0, share(data, 0, 0), 1e-12);
        assertTrue(chart.getSubtitles().stream().anyMatch(t -> t instanceof PaintScaleLegend), "no colour bar");
        long texts = xy.getAnnotations().stream().filter(a -> a instanceof XYTextAnnotation).count();
        assertEquals(80, texts, "a count in every cell");

        Path png = dir.resolve("cm.png");
        plot.save(png);
        BufferedImage img = Pixels.read(png, plot.width(), plot.height());
        assertTrue(Pixels.distinctColours(img) > 40, "looks blank");
        assertTrue(Pixels.count(img, ConfusionPlot.blues(1), 3) > 1000, "no dark diagonal cell");
        Pixels.assertNoTempFiles(dir);
    }

    static double share(DefaultXYZDataset d, int col, int row) {
        for (int i = 0; i < d.getItemCount(0); i++) {
            if (d.getXValue(0, i) == col && d.getYValue(0, i) == row) {
                return d.getZValue(0, i);
            }
        }
        throw new AssertionError("no cell " + col + "," + row);
    }

    @Test
    void everyClassWithImagesKeepsTheFullSquareAndColoursAreRowShares() {
        long[][] m = {{900, 100}, {1, 9}};
        ConfusionPlot plot = new ConfusionPlot("rows", List.of("big", "small"), m);
        assertEquals(List.of("big", "small"), plot.rowNames());
        assertEquals(List.of("big", "small"), plot.columnNames());
        DefaultXYZDataset d = plot.dataset();
        assertEquals(share(d, 0, 0), share(d, 1, 1), 1e-12, "90 % right reads the same for 1000 and 10 images");
        assertEquals(909.0 / 1010, plot.accuracy(), 1e-12);
    }

    @Test
    void manyClassesDropTheCountsAndGrowTheImage() {
        int n = 200;
        long[][] m = new long[n][n];
        for (int i = 0; i < n; i++) {
            m[i][i] = 3;
        }
        ConfusionPlot big = new ConfusionPlot("200", names(n), m);
        ConfusionPlot small = new ConfusionPlot("2", List.of("a", "b"), new long[][] {{1, 0}, {0, 1}});
        assertTrue(big.width() > small.width() && big.height() > small.height());
        assertTrue(big.chart().getXYPlot().getAnnotations().isEmpty(), "200 x 200 cells are too small for numbers");
        BufferedImage img = JFreeCharts.render(big.chart(), big.width(), big.height());
        assertTrue(Pixels.count(img, ConfusionPlot.blues(1), 3) > 200, "the diagonal is drawn");
    }

    @Test
    void noImagesStillRenders() {
        ConfusionPlot plot = new ConfusionPlot("empty", List.of("a", "b"), new long[2][2]);
        assertTrue(Double.isNaN(plot.accuracy()));
        assertEquals(List.of("a", "b"), plot.rowNames());
        assertEquals(plot.width(), JFreeCharts.render(plot.chart(), plot.width(), plot.height()).getWidth());
    }

    @Test
    void rejectsBadInput() {
        assertThrows(LitException.class, () -> new ConfusionPlot("x", List.of("a", "b"), new long[][] {{1, 2}}));
        assertThrows(LitException.class, () -> new ConfusionPlot("x", List.of("a"), new long[][] {{1, 2}}));
        assertThrows(LitException.class, () -> new ConfusionPlot("x", List.of("a"), new long[][] {{-1}}));
        assertThrows(LitException.class, () -> new ConfusionPlot("x", List.of(), new long[0][]));
    }
}

package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfusionMatrixChartTest {
    @TempDir
    Path dir;

    static List<String> names(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("class " + i);
        }
        return out;
    }

    static long[][] diagonal(int n, long count) {
        long[][] m = new long[n][n];
        for (int i = 0; i < n; i++) {
            m[i][i] = count + i;
        }
        return m;
    }

    static int sample(BufferedImage img, Rectangle2D cell, double fx, double fy) {
        return img.getRGB((int) (cell.getX() + fx * cell.getWidth()), (int) (cell.getY() + fy * cell.getHeight()));
    }

    @Test
    void perfectDiagonalIsDarkestOnTheDiagonal() throws IOException {
        int n = 6;
        ConfusionMatrixChart chart = new ConfusionMatrixChart("perfect", names(n), diagonal(n, 40))
                .cellText(ConfusionMatrixChart.CellText.NONE);
        assertEquals(1.0, chart.accuracy());
        Path png = dir.resolve("cm.png");
        chart.save(png, 700, 600);
        BufferedImage img = Pixels.read(png, 700, 600);
        double darkestOff = 255;
        double lightestDiag = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double lum = Pixels.luminance(sample(img, chart.cell(i, j, 700, 600), 0.5, 0.5));
                if (i == j) {
                    lightestDiag = Math.max(lightestDiag, lum);
                } else {
                    darkestOff = Math.min(darkestOff, lum);
                }
            }
        }
        assertTrue(lightestDiag + 100 < darkestOff, "diagonal " + lightestDiag + " vs off-diagonal " + darkestOff);
        // the diagonal is the darkest colour of the map, the rest the lightest
        int centre = sample(img, chart.cell(2, 2, 700, 600), 0.5, 0.5);
        assertTrue(Pixels.distance(centre, ConfusionMatrixChart.blues(1)) < 3);
        assertTrue(Pixels.distance(sample(img, chart.cell(2, 3, 700, 600), 0.5, 0.5), ConfusionMatrixChart.blues(0)) < 3);
    }

    @Test
    void countsPrintedAndColoursStillRight() throws IOException {
        int n = 4;
        ConfusionMatrixChart chart = new ConfusionMatrixChart("counts", names(n), diagonal(n, 7));
        Path png = dir.resolve("counts.png");
        chart.save(png);
        int w = chart.defaultWidth();
        int h = chart.defaultHeight();
        BufferedImage img = Pixels.read(png, w, h);
        assertTrue(Pixels.distinctColours(img) > 40);
        for (int i = 0; i < n; i++) {
            Rectangle2D cell = chart.cell(i, i, w, h);
            // a corner of the cell, away from the number in its middle
            assertTrue(Pixels.distance(sample(img, cell, 0.15, 0.15), ConfusionMatrixChart.blues(1)) < 3);
            // the number itself is drawn in white on the dark cell
            assertTrue(Pixels.count(img, java.awt.Color.WHITE, 40, (int) cell.getX(), (int) cell.getY(),
                    (int) cell.getMaxX(), (int) cell.getMaxY()) > 5, "no count printed in cell " + i);
        }
    }

    @Test
    void coloursAreRowNormalised() {
        // 90 % of class 0 and 90 % of class 1 are right, with very different counts
        long[][] m = {{900, 100}, {1, 9}};
        ConfusionMatrixChart chart = new ConfusionMatrixChart("rows", List.of("big", "small"), m)
                .cellText(ConfusionMatrixChart.CellText.NONE);
        BufferedImage img = chart.render(500, 400);
        int a = sample(img, chart.cell(0, 0, 500, 400), 0.5, 0.5);
        int b = sample(img, chart.cell(1, 1, 500, 400), 0.5, 0.5);
        assertEquals(a, b);
        assertEquals(909.0 / 1010, chart.accuracy(), 1e-12);
    }

    @Test
    void manyClassesAndDefaultSizeScales() throws IOException {
        ConfusionMatrixChart small = new ConfusionMatrixChart("5", names(5), diagonal(5, 3));
        ConfusionMatrixChart big = new ConfusionMatrixChart("200", names(200), diagonal(200, 3));
        assertTrue(big.defaultWidth() > small.defaultWidth());
        assertTrue(big.defaultHeight() > small.defaultHeight());
        Path png = dir.resolve("big.png");
        big.save(png);
        BufferedImage img = Pixels.read(png, big.defaultWidth(), big.defaultHeight());
        Rectangle2D c = big.cell(100, 100, img.getWidth(), img.getHeight());
        assertTrue(Pixels.distance(sample(img, c, 0.5, 0.5), ConfusionMatrixChart.blues(1)) < 3);
        // percentages and an empty row
        long[][] m = {{3, 1, 0}, {0, 0, 0}, {2, 0, 5}};
        new ConfusionMatrixChart("pct", List.of("a", "b", "c"), m)
                .cellText(ConfusionMatrixChart.CellText.PERCENT).save(dir.resolve("pct.png"), 500, 400);
        Pixels.assertNoTempFiles(dir);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(LitException.class, () -> new ConfusionMatrixChart("x", List.of("a", "b"), new long[][] {{1, 2}}));
        assertThrows(LitException.class, () -> new ConfusionMatrixChart("x", List.of("a"), new long[][] {{1, 2}}));
        assertThrows(LitException.class, () -> new ConfusionMatrixChart("x", List.of("a"), new long[][] {{-1}}));
        assertThrows(LitException.class, () -> new ConfusionMatrixChart("x", List.of(), new long[0][]));
        assertTrue(Double.isNaN(new ConfusionMatrixChart("x", List.of("a"), new long[][] {{0}}).accuracy()));
    }
}

package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineChartTest {
    static final Color BLUE = Charts.PALETTE[0];
    static final Color ORANGE = Charts.PALETTE[1];
    static final Color GREEN = Charts.PALETTE[2];

    @TempDir
    Path dir;

    static double[] range(int n, double step) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * step;
        }
        return v;
    }

    static double[] decay(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.8 + 4 * Math.exp(-i / (n / 5.0));
        }
        return v;
    }

    @Test
    void savesANonBlankChartWithTheSeriesColourInThePlotArea() throws IOException {
        double[] x = range(500, 1);
        double[] diagonal = x.clone();
        Path png = dir.resolve("line.png");
        new LineChart("diagonal", "step").yLabel("value").addSeries("y = x", x, diagonal).save(png, 640, 480);
        BufferedImage img = Pixels.read(png, 640, 480);
        assertTrue(Pixels.distinctColours(img) > 40, "looks blank: " + Pixels.distinctColours(img) + " colours");
        // the diagonal crosses the middle of the plot area
        int inMiddle = Pixels.count(img, BLUE, 30, 240, 160, 400, 320);
        assertTrue(inMiddle > 100, "series colour in the plot area: " + inMiddle + " pixels");
        Pixels.assertNoTempFiles(dir);
    }

    @Test
    void twoYAxesBothDraw() throws IOException {
        double[] x = range(300, 10);
        double[] temp = new double[x.length];
        for (int i = 0; i < temp.length; i++) {
            temp[i] = 10 + i * 0.25;
        }
        Path png = dir.resolve("twin.png");
        new LineChart("loss and temperature", "step")
                .yLabel("loss").addSeries("loss", x, decay(x.length), "left")
                .rightYLabel("temperature").addSeries("temperature", x, temp, "RIGHT")
                .save(png, 800, 500);
        BufferedImage img = Pixels.read(png, 800, 500);
        assertTrue(Pixels.count(img, BLUE, 30) > 200);
        assertTrue(Pixels.count(img, ORANGE, 30) > 200);
    }

    @Test
    void stackedPanelsShareTheXAxis() throws IOException {
        double[] x = range(200, 5);
        double[] acc = new double[x.length];
        for (int i = 0; i < acc.length; i++) {
            acc[i] = 0.7 * (1 - Math.exp(-i / 40.0));
        }
        LineChart chart = new LineChart("three panels", "step").yLabel("loss").addSeries("loss", x, decay(x.length));
        chart.addPanel("temperature").addSeries("temperature", x, range(200, 0.5));
        chart.addPanel("accuracy").addSeries("top-1", x, acc).yLimits(0, 1);
        assertEquals(3, chart.panels().size());
        Path png = dir.resolve("panels.png");
        chart.save(png);
        BufferedImage img = Pixels.read(png, chart.defaultWidth(), chart.defaultHeight());
        int h = img.getHeight();
        int w = img.getWidth();
        // each colour sits in its own third of the image
        assertTrue(Pixels.count(img, BLUE, 30, 0, 0, w, h / 3) > 100);
        assertTrue(Pixels.count(img, ORANGE, 30, 0, h / 3, w, 2 * h / 3) > 100);
        assertTrue(Pixels.count(img, GREEN, 30, 0, 2 * h / 3, w, h) > 100);
        assertEquals(0, Pixels.count(img, GREEN, 30, 0, 0, w, h / 3));
    }

    @Test
    void emptyAndNanSeriesAreSkipped() throws IOException {
        double[] x = range(100, 1);
        double[] nan = new double[100];
        java.util.Arrays.fill(nan, Double.NaN);
        double[] gappy = decay(100);
        for (int i = 40; i < 60; i++) {
            gappy[i] = Double.NaN;
        }
        Path png = dir.resolve("nan.png");
        new LineChart("gaps", "step")
                .addSeries("empty", new double[0], new double[0])      // blue: never drawn
                .addSeries("all NaN", x, nan)                         // orange: never drawn
                .addSeries("gappy", x, gappy)                          // green
                .save(png, 640, 480);
        BufferedImage img = Pixels.read(png, 640, 480);
        assertEquals(0, Pixels.count(img, BLUE, 20), "empty series drew something");
        assertEquals(0, Pixels.count(img, ORANGE, 20), "all-NaN series drew something");
        assertTrue(Pixels.count(img, GREEN, 30) > 100);
    }

    @Test
    void emptyChartStillRenders() throws IOException {
        Path png = dir.resolve("empty.png");
        new LineChart("", "").save(png, 320, 240);
        Pixels.read(png, 320, 240);
    }

    @Test
    void logScaleIgnoresNonPositiveValues() throws IOException {
        double[] x = range(100, 1);
        double[] y = decay(100);
        y[3] = 0;
        y[4] = -1;
        Path png = dir.resolve("log.png");
        new LineChart("log", "step").logY(true).logX(false).addSeries("loss", x, y).save(png, 640, 480);
        BufferedImage img = Pixels.read(png, 640, 480);
        assertTrue(Pixels.count(img, BLUE, 30) > 100);
    }

    @Test
    void saveReplacesAnExistingFileAtomically() throws IOException {
        Path png = dir.resolve("again.png");
        Files.writeString(png, "not a png");
        new LineChart("t", "x").addSeries("a", new double[] {1, 2}, new double[] {3, 4}).save(png, 200, 150);
        Pixels.read(png, 200, 150);
        Pixels.assertNoTempFiles(dir);
    }

    @Test
    void rejectsBadInput() {
        LineChart c = new LineChart("bad", "x");
        assertThrows(LitException.class, () -> c.addSeries("s", new double[2], new double[3]));
        assertThrows(LitException.class, () -> c.addSeries("s", new double[2], new double[2], "middle"));
        assertThrows(LitException.class, () -> c.addSeries("s", null, new double[2]));
        assertThrows(LitException.class, () -> c.render(0, 100));
        assertThrows(LitException.class, () -> c.save(dir.resolve("missing-folder/x.png"), 100, 100));
    }

    @Test
    void seriesArraysAreCopied() throws IOException {
        double[] x = {0, 1, 2};
        double[] y = {0, 1, 2};
        LineChart c = new LineChart("copy", "x").addSeries("s", x, y);
        y[1] = Double.NaN;
        x[0] = Double.NaN;
        BufferedImage img = c.render(300, 200);
        assertTrue(Pixels.count(img, BLUE, 30) > 30);
    }
}

package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BarChartTest {
    @TempDir
    Path dir;

    static BarChart benchmark() {
        return new BarChart("throughput", "images / s")
                .categories("ViT-B/16 batch 32", "ViT-B/16 batch 256", "ViT-L/16 batch 32")
                .addSeries("lit4j fp32", 412.5, 468.1, 121.3)
                .addSeries("lit4j bf16", 903.2, Double.NaN, 288.4)
                .addSeries("PyTorch", 455.0, 520.3)
                .addSeries("ONNX Runtime", 480.9, 560.2, 130.0);
    }

    @Test
    void horizontalBarsInEveryColour() throws IOException {
        Path png = dir.resolve("h.png");
        benchmark().orientation(BarChart.Orientation.HORIZONTAL).save(png, 900, 600);
        BufferedImage img = Pixels.read(png, 900, 600);
        assertTrue(Pixels.distinctColours(img) > 40);
        for (int s = 0; s < 4; s++) {
            assertTrue(Pixels.count(img, Charts.PALETTE[s], 2) > 500, "series " + s + " bars missing");
        }
        Pixels.assertNoTempFiles(dir);
    }

    @Test
    void verticalBarsAndDefaultSize() throws IOException {
        BarChart chart = new BarChart("ablation", "top-1 (%)")
                .categories("locked", "unlocked", "scratch")
                .addSeries("ImageNet", 70.2, 64.1, 55.3)
                .addSeries("CIFAR-100", 61.8, 58.0, 40.2);
        Path png = dir.resolve("v.png");
        chart.save(png);
        BufferedImage img = Pixels.read(png, chart.defaultWidth(), chart.defaultHeight());
        // upright bars: the blue ones are taller than wide, so there is blue in the lower half
        int h = img.getHeight();
        assertTrue(Pixels.count(img, Charts.PALETTE[0], 2, 0, h / 2, img.getWidth(), h) > 1000);
        assertTrue(Pixels.count(img, Charts.PALETTE[1], 2) > 1000);
    }

    @Test
    void missingAndNegativeValuesAreFine() throws IOException {
        BarChart chart = new BarChart("delta", "Δ loss")
                .set("no warmup", "Δ", 0.12).set("lr ×2", "Δ", -0.05).set("fp16", "Δ", Double.NaN);
        assertTrue(Double.isNaN(chart.value("fp16", "Δ")));
        assertTrue(Double.isNaN(chart.value("never set", "Δ")));
        assertEquals(-0.05, chart.value("lr ×2", "Δ"));
        for (BarChart.Orientation o : BarChart.Orientation.values()) {
            Path png = dir.resolve(o + ".png");
            chart.orientation(o).save(png, 640, 400);
            BufferedImage img = Pixels.read(png, 640, 400);
            assertTrue(Pixels.count(img, Charts.PALETTE[0], 2) > 300, o.toString());
        }
    }

    @Test
    void allMissingOrEmptyStillRenders() throws IOException {
        new BarChart("nothing", "").save(dir.resolve("empty.png"), 400, 300);
        new BarChart("nothing", "ms").set("a", "s", Double.NaN).save(dir.resolve("nan.png"), 400, 300);
        Pixels.read(dir.resolve("nan.png"), 400, 300);
    }

    @Test
    void rejectsBadInput() {
        BarChart c = new BarChart("bad", "ms").categories("a", "b");
        assertThrows(LitException.class, () -> c.addSeries("s", 1, 2, 3));
        c.addSeries("s", 1, 2);
        assertThrows(LitException.class, () -> c.addSeries("s", 1));
        assertThrows(LitException.class, () -> c.valueFormat("%d"));
        assertThrows(LitException.class, () -> c.render(10, 10));
        c.valueFormat("%.1f ms");
        c.render(400, 300);
    }
}

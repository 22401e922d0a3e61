package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Marker;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.ui.Layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BarPlotTest {
    @TempDir
    Path dir;

    static BarPlot ablation() {
        return new BarPlot("LiT setups", "setup", "zero-shot top-1", List.of("Lu", "Uu", "uu", "LU", "LL"))
                .series("zero-shot top-1 on fashion-test", 0.62, 0.55, 0.21, Double.NaN, 0.4)
                .line("chance: 1 of 10 classes", 0.1);
    }

    @Test
    void ablationHasALegendAxisLabelsAndAChanceLine() throws IOException {
        BarPlot bars = ablation();
        JFreeChart chart = bars.chart();
        CategoryPlot plot = chart.getCategoryPlot();
        assertEquals("setup", plot.getDomainAxis().getLabel());
        assertEquals("zero-shot top-1", plot.getRangeAxis().getLabel());
        LegendItemCollection legend = plot.getLegendItems();
        assertEquals(List.of("zero-shot top-1 on fashion-test", "chance: 1 of 10 classes"),
                IntStream.range(0, legend.getItemCount()).mapToObj(i -> legend.get(i).getLabel()).toList());
        @SuppressWarnings("unchecked")
        List<Marker> markers = List.copyOf(plot.getRangeMarkers(Layer.FOREGROUND));
        assertEquals(0.1, ((ValueMarker) markers.getFirst()).getValue());
        assertEquals(PlotOrientation.VERTICAL, plot.getOrientation(), "short setup names stand upright");
        assertTrue(plot.getRangeAxis().getRange().contains(0.62 * 1.1), "room above the highest bar for its label");
        assertNull(bars.dataset().getValue("zero-shot top-1 on fashion-test", "LU"), "not measured is a gap, not 0");

        Path png = dir.resolve("ablation.png");
        bars.save(png);
        BufferedImage img = Pixels.read(png, bars.width(), bars.height());
        assertTrue(Pixels.distinctColours(img) > 40, "looks blank");
        assertTrue(Pixels.count(img, JFreeCharts.PALETTE[0], 3) > 2000, "no bars");
        Pixels.assertNoTempFiles(dir);
    }

    @Test
    void longNamesLieFlatAndSeriesGetTheirOwnColours() {
        BarPlot bench = new BarPlot("bench", "workload", "speed relative to lit4j fp32",
                List.of("ViT smoke image, batch 1", "LiT step (BERT tiny text tower, AdamW), 16 x 16"))
                .series("lit4j fp32", 1, 1).series("lit4j bf16", 1.4, 0.8).line("lit4j fp32 = 1", 1);
        CategoryPlot plot = bench.chart().getCategoryPlot();
        assertEquals(PlotOrientation.HORIZONTAL, plot.getOrientation());
        assertEquals(JFreeCharts.PALETTE[1], plot.getRenderer().getSeriesPaint(1));
        BufferedImage img = JFreeCharts.render(bench.chart(), bench.width(), bench.height());
        assertTrue(Pixels.count(img, JFreeCharts.PALETTE[1], 3) > 500, "no orange bars");
    }

    @Test
    void rejectsBadInput() {
        assertThrows(LitException.class, () -> new BarPlot("t", "c", "v", List.of()));
        assertThrows(LitException.class, () -> new BarPlot("t", "c", "v", List.of("a", "a")));
        BarPlot b = new BarPlot("t", "c", "v", List.of("a", "b")).series("s", 1, 2);
        assertThrows(LitException.class, () -> b.series("s", 1, 2));
        assertThrows(LitException.class, () -> b.series("u", 1));
        assertThrows(LitException.class, () -> b.line("l", Double.NaN));
    }
}

package io.lit4j.report;

import io.lit4j.LitException;
import io.lit4j.io.AtomicFile;
import io.lit4j.io.Png;

import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.plot.DefaultDrawingSupplier;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;

/**
 * What the charts share: the look (white plot, light grid, matplotlib's colours, sans-serif text),
 * sane value-axis limits, and the headless render to a PNG written atomically. The charts
 * ({@link LinePlot}, {@link BarPlot}, {@link ConfusionPlot}) build JFreeChart objects; only this
 * class turns them into files. The PNG goes through {@link Png}, so the same chart gives the same
 * bytes.
 */
final class JFreeCharts {
    /** matplotlib's default colour cycle ("tab10"). */
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf),
    };
    static final Color TEXT = new Color(0x1a1a1a);
    static final Color MUTED = new Color(0x6b6b6b);
    static final Color GRID = new Color(0xdddddd);

    /** Largest side accepted for a chart, in pixels (a 16k × 16k RGB image is 1 GiB). */
    static final int MAX_SIDE = 16_384;

    /** A value axis spans at least this share of the largest |value| it shows (see {@link #limits}). */
    static final double MIN_RELATIVE_SPAN = 0.1;

    static {
        // charts are drawn off screen; never ask for a display
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private JFreeCharts() {
    }

    static Color color(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    /** {@code c} mixed with white: {@code share} 0 is white, 1 is {@code c}. */
    static Color light(Color c, double share) {
        return new Color((int) Math.round(255 + share * (c.getRed() - 255)),
                (int) Math.round(255 + share * (c.getGreen() - 255)), (int) Math.round(255 + share * (c.getBlue() - 255)));
    }

    static Font font(float px, boolean bold) {
        return new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 12).deriveFont(px);
    }

    /** Title, fonts and colours for a chart whose plot is already built; call before setting series colours. */
    static JFreeChart styled(JFreeChart chart) {
        StandardChartTheme theme = new StandardChartTheme("lit4j");
        theme.setExtraLargeFont(font(18, false));
        theme.setLargeFont(font(14, false));
        theme.setRegularFont(font(13, false));
        theme.setSmallFont(font(11, false));
        theme.setTitlePaint(TEXT);
        theme.setSubtitlePaint(MUTED);
        theme.setChartBackgroundPaint(Color.WHITE);
        theme.setPlotBackgroundPaint(Color.WHITE);
        theme.setPlotOutlinePaint(new Color(0x262626));
        theme.setDomainGridlinePaint(GRID);
        theme.setRangeGridlinePaint(GRID);
        theme.setAxisLabelPaint(TEXT);
        theme.setTickLabelPaint(TEXT);
        theme.setLegendBackgroundPaint(Color.WHITE);
        theme.setLegendItemPaint(TEXT);
        theme.setItemLabelPaint(TEXT);
        theme.setBarPainter(new StandardBarPainter());
        theme.setXYBarPainter(new StandardXYBarPainter());
        theme.setShadowVisible(false);
        theme.setDrawingSupplier(new DefaultDrawingSupplier(PALETTE.clone(), DefaultDrawingSupplier.DEFAULT_FILL_PAINT_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_PAINT_SEQUENCE, DefaultDrawingSupplier.DEFAULT_STROKE_SEQUENCE,
                DefaultDrawingSupplier.DEFAULT_OUTLINE_STROKE_SEQUENCE, DefaultDrawingSupplier.DEFAULT_SHAPE_SEQUENCE));
        theme.apply(chart);
        chart.setPadding(new RectangleInsets(8, 8, 8, 16));
        return chart;
    }

    static TextTitle subtitle(String text) {
        TextTitle t = new TextTitle(clean(text), font(13, false));
        t.setPaint(MUTED);
        return t;
    }

    static String clean(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ').strip();
    }

    /**
     * Axis limits for values in [min, max]: 5 % margin on each side, and a span of at least
     * {@link #MIN_RELATIVE_SPAN} of the largest |value|, so that noise in the fourth digit (a
     * temperature going from 21.726 to 21.704) reads as the flat line it is. {@code {0, 1}} when
     * there is no finite value.
     */
    static double[] limits(double min, double max) {
        if (!Double.isFinite(min) || !Double.isFinite(max)) {
            return new double[] {0, 1};
        }
        double mag = Math.max(Math.abs(min), Math.abs(max));
        double span = Math.max(max - min, MIN_RELATIVE_SPAN * mag);
        if (span == 0) {
            span = 1;
        }
        double mid = (min + max) / 2;
        double lo = Math.min(min, mid - span / 2) - 0.05 * span;
        double hi = Math.max(max, mid + span / 2) + 0.05 * span;
        if (min >= 0 && lo < 0) {   // values that cannot be negative get no negative axis
            hi -= lo;
            lo = 0;
        }
        return new double[] {lo, hi};
    }

    static void checkSize(String what, int width, int height) {
        if (width < 16 || height < 16 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new LitException(what + ": image size " + width + "x" + height
                    + " is out of range; each side must be between 16 and " + MAX_SIDE + " pixels");
        }
    }

    /** Draws {@code chart} off screen into an RGB image. */
    static BufferedImage render(JFreeChart chart, int width, int height) {
        checkSize("chart '" + (chart.getTitle() == null ? "" : chart.getTitle().getText()) + "'", width, height);
        try {
            return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
        } catch (LinkageError | InternalError e) {
            throw fontTrouble(e);
        } catch (RuntimeException e) {
            if (fromFontCode(e)) {
                throw fontTrouble(e);
            }
            throw e;
        }
    }

    /** Renders {@code chart} and writes it as a PNG through a temp file in the same folder, then a rename. */
    static void save(JFreeChart chart, Path png, int width, int height) {
        if (png == null) {
            throw new LitException("chart: no output path given");
        }
        BufferedImage img = render(chart, width, height);
        byte[] bytes = Png.encodeRgb(width, height, img.getRGB(0, 0, width, height, null, 0, width));
        try (AtomicFile f = AtomicFile.create(png)) {
            f.stream().write(bytes);
            f.commit();
        } catch (IOException e) {
            throw new LitException("cannot write chart " + png + ": " + e.getMessage(), e);
        }
    }

    private static boolean fromFontCode(Throwable e) {
        for (StackTraceElement el : e.getStackTrace()) {
            String c = el.getClassName();
            if (c.startsWith("sun.font.") || c.startsWith("sun.awt.FontConfiguration")) {
                return true;
            }
        }
        return false;
    }

    private static LitException fontTrouble(Throwable e) {
        return new LitException("Java2D could not load a font to draw the chart (" + e + "); install"
                + " fontconfig and a font package, e.g. apt-get install fontconfig fonts-dejavu-core", e);
    }
}

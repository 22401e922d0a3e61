package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.Color;
import java.awt.Paint;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;

/**
 * A confusion-matrix heat map for zero-shot eval: rows are the true class, columns the predicted
 * one, each cell coloured by the share of its true class (matplotlib's "Blues", so rare and common
 * classes read alike) with its count written in while the grid is at most 30 × 60, a colour bar,
 * and the accuracy under the title.
 *
 * <p>Only what happened is drawn. The rows are the true classes that have images (a held-out
 * split of 8 classes among 64 gives 8 rows, not 64); the columns are those same classes in the
 * same order, so that correct answers stay on the diagonal, followed by every other class that
 * was predicted at least once, in class order. Classes that neither have images nor were ever
 * predicted are left out, and the subtitle says how many rows and columns of how many classes
 * are shown.
 */
public final class ConfusionPlot {
    /** matplotlib's "Blues" colour map (ColorBrewer), from 0 to 1. */
    private static final Color[] BLUES = {
        new Color(0xf7fbff), new Color(0xdeebf7), new Color(0xc6dbef), new Color(0x9ecae1),
        new Color(0x6baed6), new Color(0x4292c6), new Color(0x2171b5), new Color(0x08519c),
        new Color(0x08306b),
    };
    /** Up to this many rows (and twice as many columns) the cells show their counts. */
    private static final int TEXT_LIMIT = 30;
    /** Up to this many columns the empty cells show their 0 too. */
    private static final int ZERO_LIMIT = 15;

    private final String title;
    private final List<String> names;
    private final long[][] counts;
    private final long[] rowSums;
    private final List<Integer> rows = new ArrayList<>();
    private final List<Integer> cols = new ArrayList<>();
    private long total;
    private long correct;

    /**
     * @param classNames one name per class, in index order
     * @param counts     counts[t][p] = how many images of true class t were predicted as p;
     *                   square, non-negative, one row per class (copied)
     */
    public ConfusionPlot(String title, List<String> classNames, long[][] counts) {
        this.title = JFreeCharts.clean(title);
        String where = "confusion matrix '" + this.title + "'";
        if (classNames == null || classNames.isEmpty() || counts == null || counts.length != classNames.size()) {
            throw new LitException(where + ": needs one row of counts per class, got " + (classNames == null ? 0 : classNames.size())
                    + " classes and " + (counts == null ? 0 : counts.length) + " rows");
        }
        int n = classNames.size();
        this.names = classNames.stream().map(JFreeCharts::clean).toList();
        this.counts = new long[n][];
        this.rowSums = new long[n];
        long[] colSums = new long[n];
        for (int i = 0; i < n; i++) {
            if (counts[i] == null || counts[i].length != n) {
                throw new LitException(where + ": row " + i + " ('" + names.get(i) + "') has "
                        + (counts[i] == null ? "no" : counts[i].length) + " counts, expected " + n);
            }
            this.counts[i] = counts[i].clone();
            for (int j = 0; j < n; j++) {
                if (counts[i][j] < 0) {
                    throw new LitException(where + ": count [" + i + "][" + j + "] is negative (" + counts[i][j] + ")");
                }
                rowSums[i] += counts[i][j];
                colSums[j] += counts[i][j];
            }
            total += rowSums[i];
            correct += counts[i][i];
        }
        for (int i = 0; i < n; i++) {
            if (rowSums[i] > 0 || total == 0) {
                rows.add(i);
            }
        }
        cols.addAll(rows);
        for (int j = 0; j < n; j++) {
            if (colSums[j] > 0 && !cols.contains(j)) {
                cols.add(j);
            }
        }
    }

    /** Share of all images on the diagonal; NaN when there are none. */
    public double accuracy() {
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** The classes of the rows drawn, top first. */
    List<String> rowNames() {
        return rows.stream().map(names::get).toList();
    }

    /** The classes of the columns drawn, left first. */
    List<String> columnNames() {
        return cols.stream().map(names::get).toList();
    }

    /** Side of one cell in pixels: large for a few classes, small for hundreds. */
    private int cell() {
        int n = Math.max(rows.size(), cols.size());
        return n <= 4 ? 96 : n <= 10 ? 64 : n <= 20 ? 44 : n <= 30 ? 34 : (int) Math.clamp(2000.0 / n, 4, 22);
    }

    private int longestName() {
        return names.stream().mapToInt(String::length).max().orElse(1);
    }

    private boolean verticalColumnNames() {
        return longestName() * 7 > cell();
    }

    int width() {
        return Math.clamp(cols.size() * (long) cell() + 260 + longestName() * 7L, 640, 4000);
    }

    int height() {
        return Math.clamp(rows.size() * (long) cell() + 220 + (verticalColumnNames() ? longestName() * 7L : 0), 520, 4000);
    }

    public void save(Path png) {
        JFreeCharts.save(chart(), png, width(), height());
    }

    /** The row-normalised share of cell (row, column); 0 for a class without images. */
    private double share(int t, int p) {
        return rowSums[t] == 0 ? 0 : (double) counts[t][p] / rowSums[t];
    }

    /** The cells as JFreeChart gets them: x the column, y the row, z the share of the row's class. */
    DefaultXYZDataset dataset() {
        int cells = rows.size() * cols.size();
        double[][] xyz = new double[3][cells];
        int k = 0;
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < cols.size(); c++) {
                xyz[0][k] = c;
                xyz[1][k] = r;
                xyz[2][k] = share(rows.get(r), cols.get(c));
                k++;
            }
        }
        DefaultXYZDataset d = new DefaultXYZDataset();
        d.addSeries("share of true class", xyz);
        return d;
    }

    /** What the subtitle says about the rows and columns left out. */
    private String shown() {
        int n = names.size();
        int extra = cols.size() - rows.size();
        if (rows.size() == n) {
            return n + " classes";
        }
        if (extra == 0) {
            return String.format(Locale.ROOT, "rows and columns: the %d of %d classes with images (no other class was predicted)",
                    rows.size(), n);
        }
        return String.format(Locale.ROOT, "rows: the %d of %d classes with images  ·  columns: those, then the %d other%s predicted",
                rows.size(), n, extra, extra == 1 ? " class" : " classes");
    }

    JFreeChart chart() {
        SymbolAxis x = new SymbolAxis("predicted class", columnNames().toArray(String[]::new));
        SymbolAxis y = new SymbolAxis("true class", rowNames().toArray(String[]::new));
        for (SymbolAxis a : List.of(x, y)) {
            a.setGridBandsVisible(false);
            a.setAutoRange(false);
        }
        x.setRange(-0.5, cols.size() - 0.5);
        y.setRange(-0.5, rows.size() - 0.5);
        y.setInverted(true);
        x.setVerticalTickLabels(verticalColumnNames());
        XYBlockRenderer r = new XYBlockRenderer();
        PaintScale scale = new Blues();
        r.setPaintScale(scale);
        XYPlot plot = new XYPlot(dataset(), x, y, r);
        JFreeChart chart = JFreeCharts.styled(new JFreeChart(title, JFreeCharts.font(18, false), plot, false));
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        chart.addSubtitle(JFreeCharts.subtitle(total == 0 ? "no images"
                : String.format(Locale.ROOT, "accuracy %.1f%%  ·  %,d of %,d correct", 100.0 * correct / total, correct, total)));
        chart.addSubtitle(JFreeCharts.subtitle(shown()));

        NumberAxis barAxis = new NumberAxis("share of true class");
        barAxis.setRange(0, 1);
        barAxis.setTickUnit(new NumberTickUnit(0.25, new DecimalFormat("0%")));
        barAxis.setLabelFont(JFreeCharts.font(13, false));
        PaintScaleLegend bar = new PaintScaleLegend(scale, barAxis);
        bar.setPosition(RectangleEdge.RIGHT);
        bar.setSubdivisionCount(128);
        bar.setStripWidth(16);
        bar.setAxisOffset(4);
        bar.setStripOutlineVisible(true);
        bar.setFrame(BlockBorder.NONE);
        bar.setMargin(new RectangleInsets(40, 12, 40, 0));
        bar.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(bar);

        if (rows.size() <= TEXT_LIMIT && cols.size() <= 2 * TEXT_LIMIT) {
            float size = (float) Math.clamp(cell() * 0.5, 9, 14);
            boolean zeros = cols.size() <= ZERO_LIMIT;
            Color faint = new Color(0xa8b4c0);
            for (int ri = 0; ri < rows.size(); ri++) {
                for (int ci = 0; ci < cols.size(); ci++) {
                    long n = counts[rows.get(ri)][cols.get(ci)];
                    if (n == 0 && !zeros) {
                        continue;
                    }
                    XYTextAnnotation a = new XYTextAnnotation(Long.toString(n), ci, ri);
                    a.setFont(JFreeCharts.font(size, false));
                    a.setPaint(n == 0 ? faint : share(rows.get(ri), cols.get(ci)) > 0.5 ? Color.WHITE : JFreeCharts.TEXT);
                    plot.addAnnotation(a);
                }
            }
        }
        return chart;
    }

    /** The "Blues" map as a JFreeChart paint scale over [0, 1], interpolated between its nine colours. */
    static final class Blues implements PaintScale {
        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return 1;
        }

        @Override
        public Paint getPaint(double value) {
            return blues(value);
        }
    }

    static Color blues(double v) {
        double t = Math.clamp(Double.isNaN(v) ? 0 : v, 0, 1) * (BLUES.length - 1);
        int i = (int) Math.min(Math.floor(t), BLUES.length - 2);
        double f = t - i;
        Color a = BLUES[i];
        Color b = BLUES[i + 1];
        return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }
}

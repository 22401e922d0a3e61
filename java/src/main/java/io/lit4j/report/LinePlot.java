package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Line panels stacked over one shared x axis, for training curves: each panel has its own y axis
 * (loss, temperature, learning rate, eval accuracy) and the legend below names every line.
 *
 * <pre>{@code
 * LinePlot p = new LinePlot("LiT tuning", "step");
 * p.panel("loss").smoothed("loss", steps, loss);        // raw loss light, its EMA dark
 * p.panel("learning rate").line("lr", steps, lr);
 * p.panel("zero-shot top-1").range(0, 1).line("top-1 on fashion-test", evalSteps, top1);
 * p.save(Path.of("curves.png"));
 * }</pre>
 *
 * <p>A y axis spans the panel's values with a margin, and never less than a tenth of their size
 * ({@link JFreeCharts#limits}). NaN points break a line. Not thread-safe.
 */
public final class LinePlot {
    /** Up to this many points a line also shows a dot at each. */
    private static final int MARKER_LIMIT = 30;

    private final String title;
    private final String xLabel;
    private final List<Panel> panels = new ArrayList<>();
    private int lines;

    public LinePlot(String title, String xLabel) {
        this.title = JFreeCharts.clean(title);
        this.xLabel = JFreeCharts.clean(xLabel);
    }

    /** Adds a panel below the others and returns it. */
    public Panel panel(String yLabel) {
        if (panels.size() >= 8) {
            throw new LitException("line chart '" + title + "': at most 8 panels");
        }
        Panel p = new Panel(JFreeCharts.clean(yLabel));
        panels.add(p);
        return p;
    }

    /** Writes the chart as a PNG: 960 wide, taller with each panel. */
    public void save(Path png) {
        JFreeCharts.save(chart(), png, 960, height());
    }

    int height() {
        int weights = panels.stream().mapToInt(Panel::weight).sum();
        return Math.clamp(220 + 150L * weights, 480, 2400);
    }

    /** The JFreeChart this draws: one XY subplot per panel. */
    JFreeChart chart() {
        NumberAxis x = new NumberAxis(xLabel);
        x.setAutoRangeIncludesZero(false);
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(x);
        plot.setGap(14);
        for (Panel p : panels) {
            plot.add(p.plot(), p.weight());
        }
        JFreeChart chart = JFreeCharts.styled(new JFreeChart(title, JFreeCharts.font(18, false), plot, true));
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setFrame(BlockBorder.NONE);
        for (Panel p : panels) {
            p.colour();
        }
        return chart;
    }

    /**
     * An exponential moving average of {@code y} with TensorBoard's bias correction (the first
     * values are not pulled towards 0); NaN values are skipped and stay NaN.
     */
    static double[] ema(double[] y, double weight) {
        double[] out = new double[y.length];
        double last = 0;
        double decay = 1;
        for (int i = 0; i < y.length; i++) {
            if (Double.isNaN(y[i])) {
                out[i] = Double.NaN;
                continue;
            }
            last = weight * last + (1 - weight) * y[i];
            decay *= weight;
            out[i] = last / (1 - decay);
        }
        return out;
    }

    /** The EMA weight for {@code n} points: averages over about a twentieth of the run (1 to 100 points). */
    static double smoothing(int n) {
        double window = Math.clamp(n / 20.0, 1, 100);
        return 1 - 1 / window;
    }

    /** How a line is drawn: a plain line, or the raw values (light) under their smoothed twin (dark). */
    enum Kind { PLAIN, RAW, SMOOTHED }

    /** One line of a panel. */
    record Line(String name, double[] x, double[] y, Color color, Kind kind) {
    }

    /** One stacked panel with its own y axis. */
    public final class Panel {
        private final String yLabel;
        private final List<Line> drawn = new ArrayList<>();
        private double lo = Double.NaN;
        private double hi = Double.NaN;
        private XYPlot plot;

        private Panel(String yLabel) {
            this.yLabel = yLabel;
        }

        /** Adds a line; {@code x} and {@code y} must have the same length (they are copied). */
        public Panel line(String name, double[] x, double[] y) {
            check(name, x, y);
            drawn.add(new Line(JFreeCharts.clean(name), x.clone(), y.clone(), JFreeCharts.color(lines++), Kind.PLAIN));
            return this;
        }

        /**
         * Adds the raw values as a light line and their moving average ({@link #ema}) as a dark one
         * in the same colour, both in the legend.
         */
        public Panel smoothed(String name, double[] x, double[] y) {
            check(name, x, y);
            Color c = JFreeCharts.color(lines++);
            String n = JFreeCharts.clean(name);
            double w = smoothing(y.length);
            drawn.add(new Line(n, x.clone(), y.clone(), c, Kind.RAW));
            drawn.add(new Line(String.format(Locale.ROOT, "%s, smoothed (EMA %.2f)", n, w), x.clone(), ema(y, w), c, Kind.SMOOTHED));
            return this;
        }

        /** Fixes the y limits (e.g. 0 and 1 for an accuracy). */
        public Panel range(double lo, double hi) {
            if (!(lo < hi)) {
                throw new LitException("line chart '" + title + "', panel '" + yLabel + "': range " + lo + " to " + hi
                        + " is empty");
            }
            this.lo = lo;
            this.hi = hi;
            return this;
        }

        private void check(String name, double[] x, double[] y) {
            if (x == null || y == null || x.length != y.length) {
                throw new LitException("line chart '" + title + "', series '" + name + "': x and y need the same number of"
                        + " values (got " + (x == null ? "none" : x.length) + " and " + (y == null ? "none" : y.length) + ")");
            }
        }

        List<Line> lines() {
            return List.copyOf(drawn);
        }

        private int weight() {
            return drawn.stream().anyMatch(l -> l.kind() == Kind.RAW) ? 2 : 1;
        }

        /** The y limits the panel is drawn with. */
        private double[] yLimits() {
            if (!Double.isNaN(lo)) {
                return new double[] {lo, hi};
            }
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (Line l : drawn) {
                for (double v : l.y()) {
                    if (Double.isFinite(v)) {
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                    }
                }
            }
            return JFreeCharts.limits(min, max);
        }

        private XYPlot plot() {
            XYSeriesCollection data = new XYSeriesCollection();
            for (Line l : drawn) {
                XYSeries s = new XYSeries(l.name(), false, true);
                for (int i = 0; i < l.x().length; i++) {
                    if (Double.isFinite(l.x()[i])) {
                        s.add(l.x()[i], Double.isFinite(l.y()[i]) ? l.y()[i] : Double.NaN);
                    }
                }
                data.addSeries(s);
            }
            NumberAxis y = new NumberAxis(yLabel);
            double[] lim = yLimits();
            y.setRange(lim[0], lim[1]);
            plot = new XYPlot(data, null, y, new XYLineAndShapeRenderer(true, false));
            return plot;
        }

        /** Colours and strokes, set after the theme (which would reset them). */
        private void colour() {
            XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) plot.getRenderer();
            for (int i = 0; i < drawn.size(); i++) {
                Line l = drawn.get(i);
                boolean raw = l.kind() == Kind.RAW;
                r.setSeriesPaint(i, raw ? JFreeCharts.light(l.color(), 0.35) : l.color());
                r.setSeriesStroke(i, new BasicStroke(raw ? 1.2f : 2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                r.setSeriesShapesVisible(i, l.kind() == Kind.PLAIN && l.y().length <= MARKER_LIMIT);
            }
        }
    }
}

package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A PNG line chart for training curves, drawn in matplotlib's default style.
 *
 * <p>A chart has one or more panels stacked vertically that share the x axis (for example loss,
 * temperature and eval accuracy). Each panel has a left y axis and, once a series is put on it, a
 * right y axis. The chart's own {@code addSeries}, {@code yLabel} and friends act on the top panel;
 * {@link #addPanel(String)} returns a further panel to fill.
 *
 * <pre>{@code
 * LineChart chart = new LineChart("LiT ViT-B/16 on CC12M", "step")
 *         .yLabel("loss").addSeries("train loss", steps, loss, "left")
 *         .rightYLabel("temperature").addSeries("temperature", steps, temp, "right");
 * chart.addPanel("zero-shot accuracy").addSeries("ImageNet top-1", evalSteps, top1);
 * chart.save(Path.of("curves.png"), 1200, 900);
 * }</pre>
 *
 * <p>Non-finite points (NaN, ±∞, and values ≤ 0 on a log axis) break a line into pieces; a series
 * without a single drawable point is left out, legend included. Not thread-safe.
 */
public final class LineChart {
    private static final int MARKER_LIMIT = 30;

    private final String title;
    private final String xLabel;
    private final List<Panel> panels = new ArrayList<>();
    private boolean logX;
    private double xMin = Double.NaN;
    private double xMax = Double.NaN;
    private int seriesCount;

    /** A chart with one (empty) panel. Either text may be empty or null. */
    public LineChart(String title, String xLabel) {
        this.title = Charts.clean(title);
        this.xLabel = Charts.clean(xLabel);
        panels.add(new Panel(""));
    }

    /** Adds a series to the top panel on the left y axis. */
    public LineChart addSeries(String name, double[] x, double[] y) {
        top().addSeries(name, x, y, "left");
        return this;
    }

    /** Adds a series to the top panel; {@code axis} is "left" or "right". */
    public LineChart addSeries(String name, double[] x, double[] y, String axis) {
        top().addSeries(name, x, y, axis);
        return this;
    }

    /** Label of the top panel's left y axis. */
    public LineChart yLabel(String label) {
        top().yLabel(label);
        return this;
    }

    /** Label of the top panel's right y axis. */
    public LineChart rightYLabel(String label) {
        top().rightYLabel(label);
        return this;
    }

    /** Log scale (base 10) for the top panel's left y axis. */
    public LineChart logY(boolean log) {
        top().logY(log);
        return this;
    }

    /** Log scale (base 10) for the top panel's right y axis. */
    public LineChart rightLogY(boolean log) {
        top().rightLogY(log);
        return this;
    }

    /** Log scale (base 10) for the shared x axis. */
    public LineChart logX(boolean log) {
        this.logX = log;
        return this;
    }

    /** Fixes the x limits; NaN keeps a limit automatic. */
    public LineChart xLimits(double min, double max) {
        this.xMin = min;
        this.xMax = max;
        return this;
    }

    /** The top panel, the one the chart's own series methods fill. */
    public Panel top() {
        return panels.getFirst();
    }

    /** Adds a panel below the others, sharing their x axis, and returns it. */
    public Panel addPanel(String yLabel) {
        if (panels.size() >= 8) {
            throw new LitException("line chart '" + title + "': at most 8 panels");
        }
        Panel p = new Panel(Charts.clean(yLabel));
        panels.add(p);
        return p;
    }

    /** The panels, top first. */
    public List<Panel> panels() {
        return List.copyOf(panels);
    }

    /** The suggested size: 960 wide, 560 tall for one panel plus 300 for each further panel. */
    public int defaultWidth() {
        return 960;
    }

    public int defaultHeight() {
        return 560 + 300 * (panels.size() - 1);
    }

    /** Saves at {@link #defaultWidth()} × {@link #defaultHeight()}. */
    public void save(Path png) {
        save(png, defaultWidth(), defaultHeight());
    }

    /** Renders and writes a PNG atomically (temp file in the same folder, then a rename). */
    public void save(Path png, int width, int height) {
        Charts.savePng(render(width, height), png);
    }

    /** Renders the chart into a new RGB image. */
    public BufferedImage render(int width, int height) {
        Charts.checkSize("line chart '" + title + "'", width, height);
        return Charts.canvas(width, height, g -> draw(g, width, height));
    }

    /** One stacked panel: its series, y-axis labels and scales. */
    public final class Panel {
        private final List<Series> series = new ArrayList<>();
        private String yLabel;
        private String rightYLabel = "";
        private boolean logY;
        private boolean rightLogY;
        private double yMin = Double.NaN;
        private double yMax = Double.NaN;
        private double rightYMin = Double.NaN;
        private double rightYMax = Double.NaN;

        private Panel(String yLabel) {
            this.yLabel = yLabel;
        }

        /** Adds a series on the left y axis. */
        public Panel addSeries(String name, double[] x, double[] y) {
            return addSeries(name, x, y, "left");
        }

        /**
         * Adds a series. {@code x} and {@code y} must have the same length; they are copied.
         * {@code axis} is "left" or "right" (case-insensitive). Colours follow matplotlib's cycle
         * across the whole chart, so no two series share one.
         */
        public Panel addSeries(String name, double[] x, double[] y, String axis) {
            String where = "line chart '" + title + "', series '" + name + "'";
            if (x == null || y == null) {
                throw new LitException(where + ": x and y must not be null");
            }
            if (x.length != y.length) {
                throw new LitException(where + ": x has " + x.length + " values but y has " + y.length);
            }
            boolean right;
            String a = axis == null ? "" : axis.strip().toLowerCase(Locale.ROOT);
            switch (a) {
                case "left" -> right = false;
                case "right" -> right = true;
                default -> throw new LitException(where + ": axis must be \"left\" or \"right\", not \"" + axis + "\"");
            }
            series.add(new Series(Charts.clean(name), x.clone(), y.clone(), right, Charts.color(seriesCount++)));
            return this;
        }

        public Panel yLabel(String label) {
            this.yLabel = Charts.clean(label);
            return this;
        }

        public Panel rightYLabel(String label) {
            this.rightYLabel = Charts.clean(label);
            return this;
        }

        public Panel logY(boolean log) {
            this.logY = log;
            return this;
        }

        public Panel rightLogY(boolean log) {
            this.rightLogY = log;
            return this;
        }

        /** Fixes the left y limits (e.g. 0 and 1 for accuracy); NaN keeps a limit automatic. */
        public Panel yLimits(double min, double max) {
            this.yMin = min;
            this.yMax = max;
            return this;
        }

        /** Fixes the right y limits; NaN keeps a limit automatic. */
        public Panel rightYLimits(double min, double max) {
            this.rightYMin = min;
            this.rightYMax = max;
            return this;
        }
    }

    private record Series(String name, double[] x, double[] y, boolean right, Color color) {
    }

    // ------------------------------------------------------------------ drawing

    /** Per-panel layout worked out while drawing. */
    private static final class Frame {
        Panel panel;
        List<Series> drawn;
        Axis left;
        Axis right;
        double top;
        double height;
        Color leftColor = Charts.TEXT;
        Color rightColor = Charts.TEXT;
    }

    private boolean drawable(double x, double y, boolean logY) {
        return Double.isFinite(x) && Double.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
    }

    private boolean hasPoints(Series s, Panel p) {
        boolean log = s.right() ? p.rightLogY : p.logY;
        for (int i = 0; i < s.x().length; i++) {
            if (drawable(s.x()[i], s.y()[i], log)) {
                return true;
            }
        }
        return false;
    }

    private Axis yAxis(Panel p, List<Series> drawn, boolean right) {
        boolean log = right ? p.rightLogY : p.logY;
        double min = Double.NaN;
        double max = Double.NaN;
        for (Series s : drawn) {
            if (s.right() != right) {
                continue;
            }
            for (int i = 0; i < s.y().length; i++) {
                if (drawable(s.x()[i], s.y()[i], log)) {
                    double v = s.y()[i];
                    min = Double.isNaN(min) ? v : Math.min(min, v);
                    max = Double.isNaN(max) ? v : Math.max(max, v);
                }
            }
        }
        return right ? Axis.around(min, max, log, 0.05, p.rightYMin, p.rightYMax)
                : Axis.around(min, max, log, 0.05, p.yMin, p.yMax);
    }

    private void draw(Graphics2D g, int width, int height) {
        double s = Charts.scale(width, height);
        Font tickFont = Charts.font(13 * s);
        Font labelFont = Charts.font(14 * s);
        Font titleFont = Charts.font(16.5 * s);
        Font legendFont = Charts.font(12.5 * s);
        double tickLen = 4.5 * s;
        double tickPad = 4 * s;
        double pad = 10 * s;
        double tickH = Charts.lineHeight(g, tickFont);
        double labelH = Charts.lineHeight(g, labelFont);
        double titleH = Charts.lineHeight(g, titleFont);

        // --- which series draw, and the x axis over all of them
        List<Frame> frames = new ArrayList<>();
        double xLo = Double.NaN;
        double xHi = Double.NaN;
        for (Panel p : panels) {
            Frame f = new Frame();
            f.panel = p;
            f.drawn = new ArrayList<>();
            for (Series se : p.series) {
                if (!hasPoints(se, p)) {
                    continue;
                }
                f.drawn.add(se);
                boolean log = se.right() ? p.rightLogY : p.logY;
                for (int i = 0; i < se.x().length; i++) {
                    if (drawable(se.x()[i], se.y()[i], log)) {
                        double v = se.x()[i];
                        xLo = Double.isNaN(xLo) ? v : Math.min(xLo, v);
                        xHi = Double.isNaN(xHi) ? v : Math.max(xHi, v);
                    }
                }
            }
            frames.add(f);
        }
        Axis x = Axis.around(xLo, xHi, logX, 0.03, xMin, xMax);

        // --- vertical layout
        double top = title.isEmpty() ? 1.2 * pad : pad + titleH + pad;
        double bottom = tickLen + tickPad + tickH + (xLabel.isEmpty() ? 0 : tickPad + labelH) + pad;
        double gap = 2.2 * pad;
        int n = frames.size();
        double panelH = (height - top - bottom - gap * (n - 1)) / n;
        if (panelH < 24) {
            throw new LitException("line chart '" + title + "': " + width + "x" + height
                    + " is too small for " + n + " panel(s)");
        }
        boolean anyRight = false;
        boolean anyYLabel = false;
        boolean anyRightLabel = false;
        double leftTickW = 0;
        double rightTickW = 0;
        int yTicks = (int) Charts.clamp(panelH / (36 * s), 3, 10);
        for (int i = 0; i < n; i++) {
            Frame f = frames.get(i);
            f.top = top + i * (panelH + gap);
            f.height = panelH;
            boolean hasRight = f.drawn.stream().anyMatch(Series::right) || !f.panel.rightYLabel.isEmpty();
            f.left = yAxis(f.panel, f.drawn, false);
            f.left.ticks(yTicks);
            for (Axis.Tick t : f.left.major) {
                leftTickW = Math.max(leftTickW, t.label().width(g, tickFont));
            }
            anyYLabel |= !f.panel.yLabel.isEmpty();
            if (hasRight) {
                anyRight = true;
                anyRightLabel |= !f.panel.rightYLabel.isEmpty();
                f.right = yAxis(f.panel, f.drawn, true);
                f.right.ticks(yTicks);
                for (Axis.Tick t : f.right.major) {
                    rightTickW = Math.max(rightTickW, t.label().width(g, tickFont));
                }
                // matplotlib's twin-axis idiom: colour an axis like its only series
                List<Series> l = f.drawn.stream().filter(se -> !se.right()).toList();
                List<Series> r = f.drawn.stream().filter(Series::right).toList();
                if (r.size() == 1) {
                    f.rightColor = r.getFirst().color().darker();
                }
                if (l.size() == 1 && r.size() >= 1) {
                    f.leftColor = l.getFirst().color().darker();
                }
            }
        }
        double left = pad + (anyYLabel ? labelH + tickPad : 0) + leftTickW + tickPad + tickLen;
        double right = anyRight ? pad + (anyRightLabel ? labelH + tickPad : 0) + rightTickW + tickPad + tickLen
                : 2.5 * pad;
        double plotW = width - left - right;
        if (plotW < 24) {
            throw new LitException("line chart '" + title + "': " + width + "x" + height + " is too narrow");
        }
        x.place(left, left + plotW);
        // x ticks: as many as fit without labels touching
        for (int want = (int) Charts.clamp(plotW / (75 * s), 3, 11); ; want--) {
            x.ticks(want);
            double widest = 0;
            for (Axis.Tick t : x.major) {
                widest = Math.max(widest, t.label().width(g, tickFont));
            }
            if (want <= 2 || x.major.size() * (widest + 1.2 * tickH) <= plotW) {
                break;
            }
        }

        // --- title, centred over the plot area
        if (!title.isEmpty()) {
            Charts.text(g, titleFont, Charts.TEXT, Charts.fit(g, titleFont, title, width - 2 * pad),
                    Charts.clamp(left + plotW / 2, pad, width - pad), pad, 0.5, 0);
        }

        for (int i = 0; i < n; i++) {
            Frame f = frames.get(i);
            Rectangle2D plot = new Rectangle2D.Double(left, f.top, plotW, f.height);
            f.left.place(f.top + f.height, f.top);
            if (f.right != null) {
                f.right.place(f.top + f.height, f.top);
            }
            boolean onlyRight = !f.drawn.isEmpty() && f.drawn.stream().allMatch(Series::right);
            drawGrid(g, plot, x, onlyRight ? f.right : f.left, s);
            drawSeries(g, plot, x, f, s);
            if (f.drawn.isEmpty()) {
                Charts.text(g, labelFont, Charts.MUTED, "no data", plot.getCenterX(), plot.getCenterY(), 0.5, 0.5);
            }
            // spines
            g.setColor(Charts.SPINE);
            g.setStroke(new BasicStroke((float) (0.9 * s)));
            g.draw(plot);
            drawXTicks(g, plot, x, tickFont, tickLen, tickPad, s, i == n - 1);
            drawYTicks(g, plot, f.left, tickFont, tickLen, tickPad, s, false, f.leftColor);
            if (f.right != null) {
                drawYTicks(g, plot, f.right, tickFont, tickLen, tickPad, s, true, f.rightColor);
            }
            // y labels, aligned across panels
            double cy = f.top + f.height / 2;
            if (!f.panel.yLabel.isEmpty()) {
                String t = Charts.fit(g, labelFont, f.panel.yLabel, f.height);
                Charts.rotated(g, labelFont, f.leftColor, t, left - tickLen - tickPad - leftTickW - tickPad,
                        cy, -Math.PI / 2, 0.5, 1);
            }
            if (f.right != null && !f.panel.rightYLabel.isEmpty()) {
                String t = Charts.fit(g, labelFont, f.panel.rightYLabel, f.height);
                Charts.rotated(g, labelFont, f.rightColor, t,
                        left + plotW + tickLen + tickPad + rightTickW + tickPad, cy, -Math.PI / 2, 0.5, 0);
            }
            drawLegend(g, plot, x, f, legendFont, s);
        }
        if (!xLabel.isEmpty()) {
            Charts.text(g, labelFont, Charts.TEXT, Charts.fit(g, labelFont, xLabel, plotW),
                    left + plotW / 2, height - pad, 0.5, 1);
        }
    }

    private static void drawGrid(Graphics2D g, Rectangle2D plot, Axis x, Axis y, double s) {
        g.setColor(Charts.GRID);
        g.setStroke(new BasicStroke((float) (0.8 * s)));
        for (Axis.Tick t : x.major) {
            double px = x.px(t.value());
            g.draw(new Line2D.Double(px, plot.getMinY(), px, plot.getMaxY()));
        }
        for (Axis.Tick t : y.major) {
            double py = y.px(t.value());
            g.draw(new Line2D.Double(plot.getMinX(), py, plot.getMaxX(), py));
        }
    }

    private void drawSeries(Graphics2D g, Rectangle2D plot, Axis x, Frame f, double s) {
        Shape savedClip = g.getClip();
        // a little slack so lines at the limits are not cut in half
        double slack = 2 * s;
        g.clip(new Rectangle2D.Double(plot.getX() - slack, plot.getY() - slack,
                plot.getWidth() + 2 * slack, plot.getHeight() + 2 * slack));
        BasicStroke line = new BasicStroke((float) (1.6 * s), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        double r = 3.2 * s;
        for (Series se : f.drawn) {
            Axis y = se.right() ? f.right : f.left;
            Path2D.Double path = new Path2D.Double();
            List<double[]> dots = new ArrayList<>();
            boolean markers = countDrawable(se, f.panel) <= MARKER_LIMIT;
            int run = 0;
            double lastX = 0;
            double lastY = 0;
            for (int i = 0; i <= se.x().length; i++) {
                double px = i < se.x().length ? x.px(se.x()[i]) : Double.NaN;
                double py = i < se.x().length ? y.px(se.y()[i]) : Double.NaN;
                if (Double.isNaN(px) || Double.isNaN(py)) {
                    if (run == 1 && !markers) {
                        dots.add(new double[] {lastX, lastY});   // a lone point still shows
                    }
                    run = 0;
                    continue;
                }
                if (run == 0) {
                    path.moveTo(px, py);
                } else {
                    path.lineTo(px, py);
                }
                if (markers) {
                    dots.add(new double[] {px, py});
                }
                run++;
                lastX = px;
                lastY = py;
            }
            g.setColor(se.color());
            g.setStroke(line);
            g.draw(path);
            for (double[] d : dots) {
                g.fill(new Ellipse2D.Double(d[0] - r, d[1] - r, 2 * r, 2 * r));
            }
        }
        g.setClip(savedClip);
    }

    private int countDrawable(Series se, Panel p) {
        boolean log = se.right() ? p.rightLogY : p.logY;
        int c = 0;
        for (int i = 0; i < se.x().length; i++) {
            if (drawable(se.x()[i], se.y()[i], log)) {
                c++;
            }
        }
        return c;
    }

    private static void drawXTicks(Graphics2D g, Rectangle2D plot, Axis x, Font font, double len, double pad,
                                   double s, boolean labels) {
        g.setColor(Charts.SPINE);
        g.setStroke(new BasicStroke((float) (0.9 * s)));
        double y0 = plot.getMaxY();
        for (Axis.Tick t : x.major) {
            double px = x.px(t.value());
            g.draw(new Line2D.Double(px, y0, px, y0 + len));
            if (labels) {
                t.label().draw(g, font, Charts.TEXT, px, y0 + len + pad, 0.5, 0);
                g.setColor(Charts.SPINE);
            }
        }
        for (double v : x.minor) {
            double px = x.px(v);
            g.draw(new Line2D.Double(px, y0, px, y0 + len * 0.55));
        }
    }

    private static void drawYTicks(Graphics2D g, Rectangle2D plot, Axis y, Font font, double len, double pad,
                                   double s, boolean right, Color labelColor) {
        g.setStroke(new BasicStroke((float) (0.9 * s)));
        double x0 = right ? plot.getMaxX() : plot.getMinX();
        double dir = right ? 1 : -1;
        for (Axis.Tick t : y.major) {
            double py = y.px(t.value());
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(x0, py, x0 + dir * len, py));
            t.label().draw(g, font, labelColor, x0 + dir * (len + pad), py, right ? 0 : 1, 0.5);
        }
        g.setColor(Charts.SPINE);
        for (double v : y.minor) {
            double py = y.px(v);
            g.draw(new Line2D.Double(x0, py, x0 + dir * len * 0.55, py));
        }
    }

    private void drawLegend(Graphics2D g, Rectangle2D plot, Axis x, Frame f, Font font, double s) {
        boolean both = f.drawn.stream().anyMatch(Series::right) && f.drawn.stream().anyMatch(se -> !se.right());
        List<Charts.LegendEntry> entries = new ArrayList<>();
        for (Series se : f.drawn) {
            if (se.name().isEmpty()) {
                continue;
            }
            String name = both && se.right() ? se.name() + " (right)" : se.name();
            entries.add(new Charts.LegendEntry(name, se.color(), false, countDrawable(se, f.panel) <= MARKER_LIMIT));
        }
        boolean named = !f.panel.yLabel.isEmpty() || !f.panel.rightYLabel.isEmpty();
        if (entries.isEmpty() || (entries.size() == 1 && f.drawn.size() == 1 && named)) {
            return;
        }
        Charts.Legend legend = new Charts.Legend(g, font, entries);
        double margin = 0.5 * font.getSize2D();
        if (legend.width > plot.getWidth() - 2 * margin || legend.height > plot.getHeight() - 2 * margin) {
            return;
        }
        // matplotlib's loc="best": the candidate spot that covers the fewest data points and segments
        double[][] spots = spots(plot, legend.width, legend.height, margin);
        double[] best = spots[0];
        long bestBad = Long.MAX_VALUE;
        for (double[] c : spots) {
            Rectangle2D box = new Rectangle2D.Double(c[0], c[1], legend.width, legend.height);
            long bad = badness(box, x, f, bestBad);
            if (bad < bestBad) {
                bestBad = bad;
                best = c;
            }
        }
        legend.draw(g, best[0], best[1], s);
    }

    private static double[][] spots(Rectangle2D p, double w, double h, double m) {
        double l = p.getMinX() + m;
        double r = p.getMaxX() - m - w;
        double t = p.getMinY() + m;
        double b = p.getMaxY() - m - h;
        double cx = p.getCenterX() - w / 2;
        double cy = p.getCenterY() - h / 2;
        // matplotlib's order: upper right, upper left, lower left, lower right, right, center left,
        // lower center, upper center, center
        return new double[][] {{r, t}, {l, t}, {l, b}, {r, b}, {r, cy}, {l, cy}, {cx, b}, {cx, t}, {cx, cy}};
    }

    private long badness(Rectangle2D box, Axis x, Frame f, long stopAt) {
        long bad = 0;
        for (Series se : f.drawn) {
            Axis y = se.right() ? f.right : f.left;
            int n = se.x().length;
            int stride = Math.max(1, n / 4000);
            double prevX = Double.NaN;
            double prevY = Double.NaN;
            for (int i = 0; i < n; i += stride) {
                double px = x.px(se.x()[i]);
                double py = y.px(se.y()[i]);
                if (Double.isNaN(px) || Double.isNaN(py)) {
                    prevX = Double.NaN;
                    continue;
                }
                if (box.contains(px, py)) {
                    bad += 2;
                } else if (!Double.isNaN(prevX) && box.intersectsLine(prevX, prevY, px, py)) {
                    bad += 1;
                }
                prevX = px;
                prevY = py;
            }
            if (bad >= stopAt) {
                return bad;
            }
        }
        return bad;
    }
}

package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.BasicStroke;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Grouped bars for benchmark results and ablations: one group per category (e.g. "ViT-B/16
 * batch 32"), one bar per series (e.g. "lit4j fp32", "PyTorch") in matplotlib's colours, each bar
 * labelled with its value, and the unit on the value axis.
 *
 * <pre>{@code
 * new BarChart("Image embedding throughput", "images / s")
 *         .categories("ViT-B/16 batch 32", "ViT-L/16 batch 32")
 *         .addSeries("lit4j fp32", 812, 231)
 *         .addSeries("PyTorch", 790, Double.NaN)      // NaN: not measured, drawn as "n/a"
 *         .save(Path.of("bench.png"));
 * }</pre>
 *
 * <p>Missing values (NaN, or never set) leave a gap marked "n/a". Negative values grow the other
 * way from zero. Not thread-safe.
 */
public final class BarChart {
    /** Which way the bars grow. AUTO picks vertical when the category names fit under the groups. */
    public enum Orientation { AUTO, HORIZONTAL, VERTICAL }

    private final String title;
    private final String unit;
    private final List<String> categories = new ArrayList<>();
    private final List<String> series = new ArrayList<>();
    private final Map<String, Double> values = new HashMap<>();
    private Orientation orientation = Orientation.AUTO;
    private String valueFormat;

    /** {@code unit} labels the value axis, e.g. "images / s" or "ms per step". Either may be empty. */
    public BarChart(String title, String unit) {
        this.title = Charts.clean(title);
        this.unit = Charts.clean(unit);
    }

    public BarChart orientation(Orientation o) {
        if (o == null) {
            throw new LitException("bar chart '" + title + "': orientation must not be null");
        }
        this.orientation = o;
        return this;
    }

    /** Declares categories in display order (top to bottom, or left to right); later ones append. */
    public BarChart categories(String... names) {
        for (String n : names) {
            category(n);
        }
        return this;
    }

    /**
     * Adds a series with one value per category, in the order of {@link #categories(String...)};
     * NaN marks a missing value, and missing trailing values may be left off.
     */
    public BarChart addSeries(String name, double... values) {
        String s = Charts.clean(name);
        if (series.contains(s)) {
            throw new LitException("bar chart '" + title + "': series '" + s + "' was already added");
        }
        if (values.length > categories.size()) {
            throw new LitException("bar chart '" + title + "': series '" + s + "' has " + values.length
                    + " values but there are " + categories.size() + " categories; declare them with categories(...)");
        }
        series.add(s);
        for (int i = 0; i < values.length; i++) {
            this.values.put(key(categories.get(i), s), values[i]);
        }
        return this;
    }

    /** Sets one value, adding the category and the series if they are new. */
    public BarChart set(String category, String series, double value) {
        String c = category(category);
        String s = Charts.clean(series);
        if (!this.series.contains(s)) {
            this.series.add(s);
        }
        values.put(key(c, s), value);
        return this;
    }

    /**
     * A {@link String#format} pattern for the value labels, e.g. "%.1f" or "%.0f ms"; the default
     * shows about three significant digits.
     */
    public BarChart valueFormat(String format) {
        if (format != null) {
            try {
                String.format(Locale.ROOT, format, 1.0);
            } catch (IllegalFormatException e) {
                throw new LitException("bar chart '" + title + "': bad value format \"" + format + "\": "
                        + e.getMessage(), e);
            }
        }
        this.valueFormat = format;
        return this;
    }

    /** The value, or NaN when missing. */
    public double value(String category, String series) {
        return values.getOrDefault(key(Charts.clean(category), Charts.clean(series)), Double.NaN);
    }

    private String category(String name) {
        String c = Charts.clean(name);
        if (!categories.contains(c)) {
            categories.add(c);
        }
        return c;
    }

    private static String key(String category, String series) {
        return category + '\u0000' + series;
    }

    private String label(double v) {
        return valueFormat == null ? Charts.value(v).replace('-', '−') : String.format(Locale.ROOT, valueFormat, v);
    }

    // ------------------------------------------------------------------ size

    private int verticalDefaultWidth() {
        int perGroup = Math.max(1, series.size()) * 34 + 30;
        return (int) Charts.clamp(220 + categories.size() * perGroup, 640, 2400);
    }

    private int horizontalDefaultHeight() {
        int perGroup = Math.max(1, series.size()) * 22 + 22;
        int legend = series.size() > 1 ? 40 : 0;
        return (int) Charts.clamp(170 + legend + categories.size() * perGroup, 320, 4000);
    }

    private boolean vertical(Graphics2D g, int width, double s) {
        return switch (orientation) {
            case VERTICAL -> true;
            case HORIZONTAL -> false;
            case AUTO -> {
                if (categories.size() * Math.max(1, series.size()) > 40) {
                    yield false;
                }
                Font f = Charts.font(13 * s);
                double slot = (width - 110 * s) / Math.max(1, categories.size());
                double widest = 0;
                for (String c : categories) {
                    widest = Math.max(widest, Charts.width(g, f, c));
                }
                yield widest <= slot * 0.92;
            }
        };
    }

    private boolean defaultVertical() {
        int w = verticalDefaultWidth();
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = probe.createGraphics();
        try {
            return vertical(g, w, Charts.scale(w, 560));
        } finally {
            g.dispose();
        }
    }

    /** Suggested width: grows with the number of bars when they stand upright. */
    public int defaultWidth() {
        return defaultVertical() ? verticalDefaultWidth() : 900;
    }

    /** Suggested height: grows with the number of bars when they lie flat. */
    public int defaultHeight() {
        return defaultVertical() ? 560 : horizontalDefaultHeight();
    }

    public void save(Path png) {
        save(png, defaultWidth(), defaultHeight());
    }

    /** Renders and writes a PNG atomically (temp file in the same folder, then a rename). */
    public void save(Path png, int width, int height) {
        Charts.savePng(render(width, height), png);
    }

    public BufferedImage render(int width, int height) {
        Charts.checkSize("bar chart '" + title + "'", width, height);
        return Charts.canvas(width, height, g -> draw(g, width, height));
    }

    // ------------------------------------------------------------------ drawing

    private void draw(Graphics2D g, int width, int height) {
        double s = Charts.scale(width, height);
        Font tickFont = Charts.font(13 * s);
        Font labelFont = Charts.font(14 * s);
        Font titleFont = Charts.font(16.5 * s);
        Font legendFont = Charts.font(12.5 * s);
        double pad = 10 * s;
        double tickLen = 4.5 * s;
        double tickPad = 4 * s;
        double tickH = Charts.lineHeight(g, tickFont);
        double labelH = Charts.lineHeight(g, labelFont);
        boolean vertical = vertical(g, width, s);
        int nc = Math.max(1, categories.size());
        int ns = Math.max(1, series.size());

        double top = pad;
        if (!title.isEmpty()) {
            Charts.text(g, titleFont, Charts.TEXT, Charts.fit(g, titleFont, title, width - 2 * pad),
                    width / 2.0, top, 0.5, 0);
            top += Charts.lineHeight(g, titleFont) + 0.6 * pad;
        }
        if (series.size() > 1) {
            top += legendRow(g, legendFont, width, top, pad, s) + 0.6 * pad;
        } else {
            top += 0.4 * pad;
        }

        double vmin = 0;
        double vmax = 0;
        boolean any = false;
        for (Double v : values.values()) {
            if (Double.isFinite(v)) {
                any = true;
                vmin = Math.min(vmin, v);
                vmax = Math.max(vmax, v);
            }
        }
        if (categories.isEmpty() || !any) {
            vmax = 1;
        }
        if (vertical) {
            drawVertical(g, width, height, s, top, tickFont, labelFont, pad, tickLen, tickPad, tickH, labelH,
                    nc, ns, vmin, vmax);
        } else {
            drawHorizontal(g, width, height, s, top, tickFont, labelFont, pad, tickLen, tickPad, tickH, labelH,
                    nc, ns, vmin, vmax);
        }
    }

    /** Draws the series legend as centred rows under the title; returns its height. */
    private double legendRow(Graphics2D g, Font font, int width, double top, double pad, double s) {
        double em = font.getSize2D();
        double rowH = Charts.lineHeight(g, font);
        double handle = 1.4 * em;
        double gap = 1.6 * em;
        List<List<Integer>> rows = new ArrayList<>();
        List<Double> rowWidths = new ArrayList<>();
        List<Integer> row = new ArrayList<>();
        double w = 0;
        double maxW = width - 2 * pad;
        for (int i = 0; i < series.size(); i++) {
            double item = handle + 0.5 * em + Charts.width(g, font, series.get(i));
            if (!row.isEmpty() && w + gap + item > maxW) {
                rows.add(row);
                rowWidths.add(w);
                row = new ArrayList<>();
                w = 0;
            }
            w += (row.isEmpty() ? 0 : gap) + item;
            row.add(i);
        }
        rows.add(row);
        rowWidths.add(w);
        double y = top;
        for (int r = 0; r < rows.size(); r++) {
            double x = (width - rowWidths.get(r)) / 2;
            for (int i : rows.get(r)) {
                Charts.drawHandle(g, new Charts.LegendEntry(series.get(i), Charts.color(i), true, false),
                        x, y + rowH / 2, handle, em, s);
                Charts.text(g, font, Charts.TEXT, series.get(i), x + handle + 0.5 * em, y + rowH / 2, 0, 0.5);
                x += handle + 0.5 * em + Charts.width(g, font, series.get(i)) + gap;
            }
            y += rowH + 0.3 * em;
        }
        return y - top;
    }

    /** Extends [vmin, vmax] so that {@code reserveLo}/{@code reserveHi} pixels stay free for labels. */
    private static Axis valueAxis(double vmin, double vmax, double length, double reserveLo, double reserveHi) {
        double span = vmax - vmin;
        double avail = Math.max(length * 0.3, length - (vmin < 0 ? reserveLo : 0) - (vmax > 0 ? reserveHi : 0));
        double perPx = span / avail;
        double lo = vmin < 0 ? vmin - reserveLo * perPx : vmin;
        double hi = vmax > 0 ? vmax + reserveHi * perPx : vmax;
        return Axis.fixed(lo, hi, false);
    }

    private void drawHorizontal(Graphics2D g, int width, int height, double s, double top, Font tickFont,
                                Font labelFont, double pad, double tickLen, double tickPad, double tickH,
                                double labelH, int nc, int ns, double vmin, double vmax) {
        double maxCat = 0;
        List<String> cats = new ArrayList<>();
        for (String c : categories) {
            String f = Charts.fit(g, tickFont, c, width * 0.38);
            cats.add(f);
            maxCat = Math.max(maxCat, Charts.width(g, tickFont, f));
        }
        double left = pad + maxCat + tickPad + tickLen;
        double right = 2.5 * pad;
        double bottom = tickLen + tickPad + tickH + (unit.isEmpty() ? 0 : tickPad + labelH) + pad;
        Rectangle2D plot = new Rectangle2D.Double(left, top, width - left - right, height - top - bottom);
        if (plot.getWidth() < 24 || plot.getHeight() < 8 * nc) {
            throw new LitException("bar chart '" + title + "': " + width + "x" + height + " is too small for "
                    + nc + " categories");
        }
        double slot = plot.getHeight() / nc;
        double barH = slot * 0.8 / ns;
        Font valueFont = Charts.font(Math.min(11.5 * s, barH * 0.8));
        boolean showValues = valueFont.getSize2D() >= 7;
        double reserveHi = 0;
        double reserveLo = 0;
        for (Map.Entry<String, Double> e : values.entrySet()) {
            double v = e.getValue();
            if (Double.isFinite(v) && showValues) {
                double w = Charts.width(g, valueFont, label(v)) + 0.6 * pad;
                if (v >= 0) {
                    reserveHi = Math.max(reserveHi, w);
                } else {
                    reserveLo = Math.max(reserveLo, w);
                }
            }
        }
        Axis x = valueAxis(vmin, vmax, plot.getWidth(), reserveLo + 0.02 * plot.getWidth(),
                reserveHi + 0.02 * plot.getWidth());
        x.place(plot.getMinX(), plot.getMaxX());
        for (int want = (int) Charts.clamp(plot.getWidth() / (75 * s), 3, 11); ; want--) {
            x.ticks(want);
            double widest = 0;
            for (Axis.Tick t : x.major) {
                widest = Math.max(widest, t.label().width(g, tickFont));
            }
            if (want <= 2 || x.major.size() * (widest + 1.2 * tickH) <= plot.getWidth()) {
                break;
            }
        }
        // grid under the bars
        g.setColor(Charts.GRID);
        g.setStroke(new BasicStroke((float) (0.8 * s)));
        for (Axis.Tick t : x.major) {
            double px = x.px(t.value());
            g.draw(new Line2D.Double(px, plot.getMinY(), px, plot.getMaxY()));
        }
        double zero = x.px(0);
        for (int i = 0; i < categories.size(); i++) {
            double groupTop = plot.getMinY() + i * slot + slot * 0.1;
            for (int j = 0; j < series.size(); j++) {
                double v = value(categories.get(i), series.get(j));
                double y0 = groupTop + j * barH;
                double cy = y0 + barH / 2;
                if (!Double.isFinite(v)) {
                    if (showValues) {
                        Charts.text(g, valueFont, Charts.MUTED, "n/a", zero + 0.4 * pad, cy, 0, 0.5);
                    }
                    continue;
                }
                double end = x.px(v);
                g.setColor(Charts.color(j));
                g.fill(new Rectangle2D.Double(Math.min(zero, end), y0 + barH * 0.04, Math.abs(end - zero),
                        barH * 0.92));
                if (showValues) {
                    Charts.text(g, valueFont, Charts.TEXT, label(v), end + (v >= 0 ? 0.4 : -0.4) * pad, cy,
                            v >= 0 ? 0 : 1, 0.5);
                }
            }
        }
        g.setStroke(new BasicStroke((float) (0.9 * s)));
        if (x.lo < 0) {
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(zero, plot.getMinY(), zero, plot.getMaxY()));
        }
        g.setColor(Charts.SPINE);
        g.draw(plot);
        for (Axis.Tick t : x.major) {
            double px = x.px(t.value());
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(px, plot.getMaxY(), px, plot.getMaxY() + tickLen));
            t.label().draw(g, tickFont, Charts.TEXT, px, plot.getMaxY() + tickLen + tickPad, 0.5, 0);
        }
        for (int i = 0; i < cats.size(); i++) {
            double cy = plot.getMinY() + (i + 0.5) * slot;
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(plot.getMinX() - tickLen, cy, plot.getMinX(), cy));
            Charts.text(g, tickFont, Charts.TEXT, cats.get(i), plot.getMinX() - tickLen - tickPad, cy, 1, 0.5);
        }
        if (!unit.isEmpty()) {
            Charts.text(g, labelFont, Charts.TEXT, Charts.fit(g, labelFont, unit, plot.getWidth()),
                    plot.getCenterX(), height - pad, 0.5, 1);
        }
    }

    private void drawVertical(Graphics2D g, int width, int height, double s, double top, Font tickFont,
                              Font labelFont, double pad, double tickLen, double tickPad, double tickH,
                              double labelH, int nc, int ns, double vmin, double vmax) {
        // category labels: flat when they fit under their group, else slanted
        double estPlotW = width - 110 * s;
        double slotEst = estPlotW / nc;
        double maxCat = 0;
        for (String c : categories) {
            maxCat = Math.max(maxCat, Charts.width(g, tickFont, c));
        }
        boolean slant = maxCat > slotEst * 0.95;
        double angle = Math.toRadians(35);
        List<String> cats = new ArrayList<>();
        double catBlock = tickH;
        for (String c : categories) {
            cats.add(slant ? Charts.fit(g, tickFont, c, height * 0.3 / Math.sin(angle)) : c);
        }
        if (slant) {
            double widest = 0;
            for (String c : cats) {
                widest = Math.max(widest, Charts.width(g, tickFont, c));
            }
            catBlock = widest * Math.sin(angle) + tickH * Math.cos(angle);
        }
        double bottom = tickLen + tickPad + catBlock + pad;
        double plotH = height - top - bottom;
        if (plotH < 24) {
            throw new LitException("bar chart '" + title + "': " + width + "x" + height + " is too small");
        }
        // value axis (y); its tick labels set the left margin, so work them out on a first guess
        double slot0 = estPlotW / nc;
        double barW0 = slot0 * 0.8 / ns;
        Font valueFont = Charts.font(Charts.clamp(barW0 * 0.45, 7, 11.5 * s));
        double reserveHi = 0;
        double reserveLo = 0;
        boolean rotate = false;
        double valueH = Charts.lineHeight(g, valueFont);
        for (Double v : values.values()) {
            if (Double.isFinite(v) && Charts.width(g, valueFont, label(v)) > barW0 * 1.15) {
                rotate = true;
            }
        }
        for (Double v : values.values()) {
            if (Double.isFinite(v)) {
                double need = (rotate ? Charts.width(g, valueFont, label(v)) : valueH) + 0.5 * pad;
                if (v >= 0) {
                    reserveHi = Math.max(reserveHi, need);
                } else {
                    reserveLo = Math.max(reserveLo, need);
                }
            }
        }
        Axis y = valueAxis(vmin, vmax, plotH, reserveLo + 0.02 * plotH, reserveHi + 0.02 * plotH);
        y.ticks((int) Charts.clamp(plotH / (40 * s), 3, 10));
        double tickW = 0;
        for (Axis.Tick t : y.major) {
            tickW = Math.max(tickW, t.label().width(g, tickFont));
        }
        double left = pad + (unit.isEmpty() ? 0 : labelH + tickPad) + tickW + tickPad + tickLen;
        if (slant && !cats.isEmpty()) {
            // the first slanted name reaches left of its group
            double reach = Charts.width(g, tickFont, cats.getFirst()) * Math.cos(angle) - slot0 / 2;
            left = Math.max(left, pad + reach);
        }
        double right = 2.5 * pad;
        Rectangle2D plot = new Rectangle2D.Double(left, top, width - left - right, plotH);
        if (plot.getWidth() < 4 * nc) {
            throw new LitException("bar chart '" + title + "': " + width + "x" + height + " is too narrow for "
                    + nc + " categories");
        }
        y.place(plot.getMaxY(), plot.getMinY());
        double slot = plot.getWidth() / nc;
        double barW = slot * 0.8 / ns;

        g.setColor(Charts.GRID);
        g.setStroke(new BasicStroke((float) (0.8 * s)));
        for (Axis.Tick t : y.major) {
            double py = y.px(t.value());
            g.draw(new Line2D.Double(plot.getMinX(), py, plot.getMaxX(), py));
        }
        double zero = y.px(0);
        for (int i = 0; i < categories.size(); i++) {
            double groupLeft = plot.getMinX() + i * slot + slot * 0.1;
            for (int j = 0; j < series.size(); j++) {
                double v = value(categories.get(i), series.get(j));
                double x0 = groupLeft + j * barW;
                double cx = x0 + barW / 2;
                if (!Double.isFinite(v)) {
                    Charts.rotated(g, valueFont, Charts.MUTED, "n/a", cx, zero - 0.4 * pad, -Math.PI / 2, 0, 0.5);
                    continue;
                }
                double end = y.px(v);
                g.setColor(Charts.color(j));
                g.fill(new Rectangle2D.Double(x0 + barW * 0.04, Math.min(zero, end), barW * 0.92,
                        Math.abs(end - zero)));
                String text = label(v);
                double off = 0.4 * pad;
                if (rotate) {
                    Charts.rotated(g, valueFont, Charts.TEXT, text, cx, v >= 0 ? end - off : end + off,
                            -Math.PI / 2, v >= 0 ? 0 : 1, 0.5);
                } else {
                    Charts.text(g, valueFont, Charts.TEXT, text, cx, v >= 0 ? end - off : end + off, 0.5,
                            v >= 0 ? 1 : 0);
                }
            }
        }
        g.setStroke(new BasicStroke((float) (0.9 * s)));
        g.setColor(Charts.SPINE);
        if (y.lo < 0) {
            g.draw(new Line2D.Double(plot.getMinX(), zero, plot.getMaxX(), zero));
        }
        g.draw(plot);
        for (Axis.Tick t : y.major) {
            double py = y.px(t.value());
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(plot.getMinX() - tickLen, py, plot.getMinX(), py));
            t.label().draw(g, tickFont, Charts.TEXT, plot.getMinX() - tickLen - tickPad, py, 1, 0.5);
        }
        for (int i = 0; i < cats.size(); i++) {
            double cx = plot.getMinX() + (i + 0.5) * slot;
            double y0 = plot.getMaxY();
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(cx, y0, cx, y0 + tickLen));
            if (slant) {
                Charts.rotated(g, tickFont, Charts.TEXT, cats.get(i), cx, y0 + tickLen + tickPad, -angle, 1, 0);
            } else {
                Charts.text(g, tickFont, Charts.TEXT, cats.get(i), cx, y0 + tickLen + tickPad, 0.5, 0);
            }
        }
        if (!unit.isEmpty()) {
            Charts.rotated(g, labelFont, Charts.TEXT, Charts.fit(g, labelFont, unit, plot.getHeight()),
                    plot.getMinX() - tickLen - tickPad - tickW - tickPad, plot.getCenterY(), -Math.PI / 2, 0.5, 1);
        }
    }
}

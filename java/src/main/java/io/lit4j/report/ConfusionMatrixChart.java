package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A confusion-matrix heat map for classification eval: rows are the true class, columns the
 * predicted one. Colours are row-normalised (the share of each true class predicted as each class,
 * in matplotlib's "Blues"), so rare and common classes read alike; the cells show the counts (or
 * the row percentages) while there are at most 30 classes, and the title area gives the overall
 * accuracy.
 */
public final class ConfusionMatrixChart {
    /** What each cell shows. AUTO: counts up to 30 classes, nothing beyond. */
    public enum CellText { AUTO, COUNT, PERCENT, NONE }

    /** matplotlib's "Blues" colour map (ColorBrewer), from 0 to 1. */
    private static final Color[] BLUES = {
        new Color(0xf7fbff), new Color(0xdeebf7), new Color(0xc6dbef), new Color(0x9ecae1),
        new Color(0x6baed6), new Color(0x4292c6), new Color(0x2171b5), new Color(0x08519c),
        new Color(0x08306b),
    };
    private static final int TEXT_LIMIT = 30;

    private final String title;
    private final List<String> names;
    private final long[][] counts;
    private final long[] rowSums;
    private final long total;
    private final long correct;
    private CellText cellText = CellText.AUTO;

    /**
     * @param classNames one name per class, in index order
     * @param counts     counts[t][p] = how many examples of true class t were predicted as p;
     *                   square, non-negative, one row per class (copied)
     */
    public ConfusionMatrixChart(String title, List<String> classNames, long[][] counts) {
        this.title = Charts.clean(title);
        String where = "confusion matrix '" + this.title + "'";
        if (classNames == null || counts == null) {
            throw new LitException(where + ": class names and counts must not be null");
        }
        int n = classNames.size();
        if (n == 0) {
            throw new LitException(where + ": needs at least one class");
        }
        if (counts.length != n) {
            throw new LitException(where + ": " + n + " class names but " + counts.length + " rows of counts");
        }
        this.names = new ArrayList<>(n);
        for (String c : classNames) {
            names.add(Charts.clean(c));
        }
        this.counts = new long[n][];
        this.rowSums = new long[n];
        long t = 0;
        long ok = 0;
        for (int i = 0; i < n; i++) {
            if (counts[i] == null || counts[i].length != n) {
                throw new LitException(where + ": row " + i + " ('" + names.get(i) + "') has "
                        + (counts[i] == null ? "no" : counts[i].length) + " counts, expected " + n);
            }
            this.counts[i] = counts[i].clone();
            for (int j = 0; j < n; j++) {
                long c = counts[i][j];
                if (c < 0) {
                    throw new LitException(where + ": count [" + i + "][" + j + "] is negative (" + c + ")");
                }
                rowSums[i] += c;
            }
            t += rowSums[i];
            ok += counts[i][i];
        }
        this.total = t;
        this.correct = ok;
    }

    public ConfusionMatrixChart cellText(CellText mode) {
        if (mode == null) {
            throw new LitException("confusion matrix '" + title + "': cell text mode must not be null");
        }
        this.cellText = mode;
        return this;
    }

    /** Share of all examples on the diagonal; NaN when there are none. */
    public double accuracy() {
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    private int cellPixels() {
        int n = names.size();
        if (n <= 4) {
            return 96;
        }
        if (n <= 10) {
            return 64;
        }
        if (n <= 20) {
            return 44;
        }
        if (n <= 30) {
            return 34;
        }
        return (int) Charts.clamp(2000.0 / n, 2, 22);
    }

    /** Suggested width: the cells plus room for names and the colour bar. */
    public int defaultWidth() {
        return (int) Charts.clamp(names.size() * cellPixels() + 330, 640, 4000);
    }

    public int defaultHeight() {
        return (int) Charts.clamp(names.size() * cellPixels() + 270, 560, 4000);
    }

    public void save(Path png) {
        save(png, defaultWidth(), defaultHeight());
    }

    /** Renders and writes a PNG atomically (temp file in the same folder, then a rename). */
    public void save(Path png, int width, int height) {
        Charts.savePng(render(width, height), png);
    }

    public BufferedImage render(int width, int height) {
        Charts.checkSize("confusion matrix '" + title + "'", width, height);
        return Charts.canvas(width, height, g -> draw(g, layout(g, width, height)));
    }

    /** Where cell (row, col) lands in a {@code width} × {@code height} rendering (for tests and overlays). */
    Rectangle2D cell(int row, int col, int width, int height) {
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = probe.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            Layout l = layout(g, width, height);
            return new Rectangle2D.Double(l.edgeX(col), l.edgeY(row), l.edgeX(col + 1) - l.edgeX(col),
                    l.edgeY(row + 1) - l.edgeY(row));
        } finally {
            g.dispose();
        }
    }

    /** Row-normalised share in [0, 1]; 0 for a class without examples. */
    private double share(int row, int col) {
        return rowSums[row] == 0 ? 0 : (double) counts[row][col] / rowSums[row];
    }

    static Color blues(double v) {
        double t = Charts.clamp(Double.isNaN(v) ? 0 : v, 0, 1) * (BLUES.length - 1);
        int i = (int) Math.min(Math.floor(t), BLUES.length - 2);
        double f = t - i;
        Color a = BLUES[i];
        Color b = BLUES[i + 1];
        return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }

    // ------------------------------------------------------------------ layout

    private static final class Layout {
        double s;
        double pad;
        double tickLen;
        double tickPad;
        Font titleFont;
        Font subFont;
        Font tickFont;
        Font labelFont;
        double x0;
        double y0;
        double cell;
        int n;
        double xAngle;         // 0 for flat names, else radians
        int yEvery;            // label every k-th class
        int xEvery;
        List<String> yNames;
        List<String> xNames;
        double yNameW;
        double titleY;
        double cbX;
        double cbW;

        double edgeX(int i) {
            return Math.round(x0 + i * cell);
        }

        double edgeY(int i) {
            return Math.round(y0 + i * cell);
        }
    }

    private Layout layout(Graphics2D g, int width, int height) {
        Layout l = new Layout();
        int n = names.size();
        l.n = n;
        double s = Charts.clamp(Math.min(width / 640.0, height / 480.0), 0.8, 2.5);
        l.s = s;
        l.pad = 10 * s;
        l.tickLen = 4 * s;
        l.tickPad = 4 * s;
        l.titleFont = Charts.font(16.5 * s);
        l.subFont = Charts.font(13 * s);
        l.labelFont = Charts.font(14 * s);
        l.tickFont = Charts.font(n > 60 ? 11 * s : 12.5 * s);
        double tickH = Charts.lineHeight(g, l.tickFont);
        double labelH = Charts.lineHeight(g, l.labelFont);

        double top = l.pad;
        l.titleY = top;
        if (!title.isEmpty()) {
            top += Charts.lineHeight(g, l.titleFont) + 0.2 * l.pad;
        }
        top += Charts.lineHeight(g, l.subFont) + 1.2 * l.pad;

        double maxName = Math.min(width, height) * 0.28;
        l.yNames = new ArrayList<>();
        l.xNames = new ArrayList<>();
        double yw = 0;
        double xw = 0;
        for (String c : names) {
            String f = Charts.fit(g, l.tickFont, c, maxName);
            l.yNames.add(f);
            l.xNames.add(f);
            yw = Math.max(yw, Charts.width(g, l.tickFont, f));
            xw = yw;
        }
        l.yNameW = yw;
        l.cbW = Charts.clamp(0.035 * Math.min(width, height), 10 * s, 22 * s);
        double cbTicksW = Charts.width(g, l.tickFont, "100%");
        double right = 1.6 * l.pad + l.cbW + l.tickLen + l.tickPad + cbTicksW + l.tickPad + labelH + l.pad;
        double left = l.pad + labelH + l.tickPad + yw + l.tickPad + l.tickLen;
        double availW = width - left - right;
        double xLabelsH = tickH;
        double bottomFixed = l.tickLen + l.tickPad + l.tickPad + labelH + l.pad;
        double cell = Math.min(availW / n, (height - top - bottomFixed - xLabelsH) / n);
        if (xw > cell * 0.92) {
            l.xAngle = Math.toRadians(n <= TEXT_LIMIT ? 45 : 90);
            xLabelsH = xw * Math.sin(l.xAngle) + tickH * Math.cos(l.xAngle);
            cell = Math.min(availW / n, (height - top - bottomFixed - xLabelsH) / n);
        }
        if (cell < 1) {
            throw new LitException("confusion matrix '" + title + "': " + width + "x" + height
                    + " is too small for " + n + " classes; try save(path) for the default size");
        }
        l.cell = cell;
        l.yEvery = Math.max(1, (int) Math.ceil(tickH * 1.05 / cell));
        l.xEvery = l.xAngle == 0 ? 1 : l.yEvery;
        double matrixW = n * cell;
        double matrixH = n * cell;
        double extraW = availW - matrixW;
        double extraH = height - top - bottomFixed - xLabelsH - matrixH;
        l.x0 = left + extraW / 2;
        l.y0 = top + extraH / 2;
        l.cbX = l.x0 + matrixW + 1.6 * l.pad;
        return l;
    }

    // ------------------------------------------------------------------ drawing

    private void draw(Graphics2D g, Layout l) {
        int n = l.n;
        double s = l.s;
        double matrixW = l.edgeX(n) - l.edgeX(0);
        double cx = l.x0 + matrixW / 2;

        // title and accuracy
        double y = l.titleY;
        if (!title.isEmpty()) {
            Charts.text(g, l.titleFont, Charts.TEXT, title, cx, y, 0.5, 0);
            y += Charts.lineHeight(g, l.titleFont) + 0.2 * l.pad;
        }
        String acc = total == 0 ? "no examples"
                : String.format(Locale.ROOT, "accuracy %.1f%%  ·  %,d of %,d correct  ·  %d classes",
                        100.0 * correct / total, correct, total, n);
        Charts.text(g, l.subFont, Charts.MUTED, acc, cx, y, 0.5, 0);

        // cells, crisp edges
        Object aa = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                g.setColor(blues(share(i, j)));
                g.fill(new Rectangle2D.Double(l.edgeX(j), l.edgeY(i), l.edgeX(j + 1) - l.edgeX(j),
                        l.edgeY(i + 1) - l.edgeY(i)));
            }
        }
        // colour bar
        double cbTop = l.edgeY(0);
        double cbH = l.edgeY(n) - cbTop;
        for (int py = 0; py < (int) Math.ceil(cbH); py++) {
            g.setColor(blues(1 - (py + 0.5) / cbH));
            g.fill(new Rectangle2D.Double(l.cbX, cbTop + py, l.cbW, Math.min(1, cbH - py)));
        }
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, aa);

        drawCellText(g, l);

        g.setColor(Charts.SPINE);
        g.setStroke(new BasicStroke((float) (0.9 * s)));
        g.draw(new Rectangle2D.Double(l.edgeX(0), l.edgeY(0), matrixW, l.edgeY(n) - l.edgeY(0)));
        g.draw(new Rectangle2D.Double(l.cbX, cbTop, l.cbW, cbH));
        for (int k = 0; k <= 4; k++) {
            double py = cbTop + cbH * (1 - k / 4.0);
            double x1 = l.cbX + l.cbW;
            g.setColor(Charts.SPINE);
            g.draw(new Line2D.Double(x1, py, x1 + l.tickLen, py));
            Charts.text(g, l.tickFont, Charts.TEXT, (25 * k) + "%", x1 + l.tickLen + l.tickPad, py, 0, 0.5);
        }
        double cbLabelX = l.cbX + l.cbW + l.tickLen + l.tickPad + Charts.width(g, l.tickFont, "100%") + l.tickPad;
        Charts.rotated(g, l.labelFont, Charts.TEXT, Charts.fit(g, l.labelFont, "share of true class", cbH),
                cbLabelX, cbTop + cbH / 2, -Math.PI / 2, 0.5, 0);

        // class names
        double matrixBottom = l.edgeY(n);
        for (int i = 0; i < n; i++) {
            double mid = (l.edgeY(i) + l.edgeY(i + 1)) / 2;
            if (i % l.yEvery == 0) {
                g.setColor(Charts.SPINE);
                g.draw(new Line2D.Double(l.edgeX(0) - l.tickLen, mid, l.edgeX(0), mid));
                Charts.text(g, l.tickFont, Charts.TEXT, l.yNames.get(i), l.edgeX(0) - l.tickLen - l.tickPad, mid,
                        1, 0.5);
            }
            double midX = (l.edgeX(i) + l.edgeX(i + 1)) / 2;
            if (i % l.xEvery == 0) {
                g.setColor(Charts.SPINE);
                g.draw(new Line2D.Double(midX, matrixBottom, midX, matrixBottom + l.tickLen));
                double ty = matrixBottom + l.tickLen + l.tickPad;
                if (l.xAngle == 0) {
                    Charts.text(g, l.tickFont, Charts.TEXT, l.xNames.get(i), midX, ty, 0.5, 0);
                } else if (l.xAngle > Math.toRadians(80)) {
                    Charts.rotated(g, l.tickFont, Charts.TEXT, l.xNames.get(i), midX, ty, -l.xAngle, 1, 0.5);
                } else {
                    Charts.rotated(g, l.tickFont, Charts.TEXT, l.xNames.get(i), midX + 0.3 * l.tickPad, ty,
                            -l.xAngle, 1, 0.5);
                }
            }
        }
        double xLabelsH = 0;
        for (String name : l.xNames) {
            double w = Charts.width(g, l.tickFont, name);
            xLabelsH = Math.max(xLabelsH, l.xAngle == 0 ? Charts.lineHeight(g, l.tickFont)
                    : w * Math.sin(l.xAngle) + Charts.lineHeight(g, l.tickFont) * Math.cos(l.xAngle));
        }
        Charts.text(g, l.labelFont, Charts.TEXT, "predicted class", l.x0 + matrixW / 2,
                matrixBottom + l.tickLen + l.tickPad + xLabelsH + l.tickPad, 0.5, 0);
        Charts.rotated(g, l.labelFont, Charts.TEXT, "true class",
                l.edgeX(0) - l.tickLen - l.tickPad - l.yNameW - l.tickPad, (l.edgeY(0) + matrixBottom) / 2,
                -Math.PI / 2, 0.5, 1);
    }

    private void drawCellText(Graphics2D g, Layout l) {
        int n = l.n;
        CellText mode = cellText == CellText.AUTO ? (n <= TEXT_LIMIT ? CellText.COUNT : CellText.NONE) : cellText;
        if (mode == CellText.NONE) {
            return;
        }
        String[][] text = new String[n][n];
        String widest = "";
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                text[i][j] = mode == CellText.COUNT ? Long.toString(counts[i][j]) : percent(share(i, j));
                if (text[i][j].length() > widest.length()) {
                    widest = text[i][j];
                }
            }
        }
        double size = Math.min(14 * l.s, l.cell * 0.36);
        Font f = Charts.font(size);
        double w = Charts.width(g, f, widest);
        if (w > l.cell * 0.86) {
            size *= l.cell * 0.86 / w;
            f = Charts.font(size);
        }
        if (size < 6.5) {
            return;
        }
        Color faint = new Color(0xa8b4c0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = share(i, j);
                Color c = counts[i][j] == 0 ? faint : v > 0.5 ? Color.WHITE : Charts.TEXT;
                Charts.text(g, f, c, text[i][j], (l.edgeX(j) + l.edgeX(j + 1)) / 2,
                        (l.edgeY(i) + l.edgeY(i + 1)) / 2, 0.5, 0.5);
            }
        }
    }

    private static String percent(double v) {
        if (v == 0) {
            return "0";
        }
        double p = 100 * v;
        return p >= 9.95 ? String.format(Locale.ROOT, "%.0f%%", p) : String.format(Locale.ROOT, "%.1f%%", p);
    }
}

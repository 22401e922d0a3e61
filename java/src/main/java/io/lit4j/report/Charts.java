package io.lit4j.report;

import io.lit4j.LitException;
import io.lit4j.io.AtomicFile;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Composite;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/**
 * Drawing helpers shared by the charts: the colour cycle, fonts, text placement, legends and the
 * atomic PNG write. Everything draws into a {@link BufferedImage}, so it works headless.
 */
final class Charts {
    /** matplotlib's default colour cycle ("tab10"). */
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf),
    };
    static final Color TEXT = new Color(0x1a1a1a);
    static final Color MUTED = new Color(0x6b6b6b);
    static final Color SPINE = new Color(0x262626);
    static final Color GRID = new Color(0xe3e3e3);
    static final Color LEGEND_EDGE = new Color(0xcccccc);

    /** Largest side accepted for a chart, in pixels (a 16k × 16k RGB image is 1 GiB). */
    static final int MAX_SIDE = 16_384;

    private Charts() {
    }

    static Color color(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    static void checkSize(String what, int width, int height) {
        if (width < 16 || height < 16 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new LitException(what + ": image size " + width + "x" + height
                    + " is out of range; each side must be between 16 and " + MAX_SIDE + " pixels");
        }
    }

    /** Font size multiplier: 1 at matplotlib's default 640×480 figure. */
    static double scale(int width, int height) {
        return clamp(Math.min(width / 640.0, height / 480.0), 0.6, 4.0);
    }

    static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    static Font font(double px) {
        return new Font(Font.SANS_SERIF, Font.PLAIN, 12).deriveFont((float) px);
    }

    static Font bold(double px) {
        return new Font(Font.SANS_SERIF, Font.BOLD, 12).deriveFont((float) px);
    }

    /** A white RGB canvas with antialiasing for shapes and text. */
    static BufferedImage canvas(int width, int height, Consumer<Graphics2D> painter) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setRenderingHint(RenderingHints.KEY_COLOR_RENDERING, RenderingHints.VALUE_COLOR_RENDER_QUALITY);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            painter.accept(g);
        } catch (LinkageError | InternalError e) {
            throw fontTrouble(e);
        } catch (RuntimeException e) {
            if (fromFontCode(e)) {
                throw fontTrouble(e);
            }
            throw e;
        } finally {
            g.dispose();
        }
        return img;
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

    /** Writes {@code img} as PNG through a temp file in the same folder, then an atomic rename. */
    static void savePng(BufferedImage img, Path png) {
        if (png == null) {
            throw new LitException("chart: no output path given");
        }
        try (AtomicFile f = AtomicFile.create(png)) {
            if (!ImageIO.write(img, "png", f.stream())) {
                throw new LitException("cannot write " + png + ": this JDK has no PNG writer");
            }
            f.commit();
        } catch (IOException e) {
            throw new LitException("cannot write chart " + png + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ text

    static double width(Graphics2D g, Font f, String s) {
        return s.isEmpty() ? 0 : f.getStringBounds(s, g.getFontRenderContext()).getWidth();
    }

    /** Height of a text line: ascent plus descent. */
    static double lineHeight(Graphics2D g, Font f) {
        FontMetrics fm = g.getFontMetrics(f);
        return fm.getAscent() + fm.getDescent();
    }

    /**
     * Draws {@code s} with its box anchored at (x, y): {@code ha} 0 = left, 0.5 = centre, 1 = right;
     * {@code va} 0 = top, 0.5 = middle, 1 = bottom of the ascent+descent box.
     */
    static void text(Graphics2D g, Font f, Color c, String s, double x, double y, double ha, double va) {
        if (s.isEmpty()) {
            return;
        }
        FontMetrics fm = g.getFontMetrics(f);
        double w = width(g, f, s);
        double baseline = y - va * (fm.getAscent() + fm.getDescent()) + fm.getAscent();
        g.setFont(f);
        g.setColor(c);
        g.drawString(s, (float) (x - ha * w), (float) baseline);
    }

    /** Like {@link #text} but rotated by {@code angle} radians about the anchor (negative = counter-clockwise). */
    static void rotated(Graphics2D g, Font f, Color c, String s, double x, double y, double angle,
                        double ha, double va) {
        AffineTransform saved = g.getTransform();
        g.translate(x, y);
        g.rotate(angle);
        text(g, f, c, s, 0, 0, ha, va);
        g.setTransform(saved);
    }

    /** Shortens {@code s} with an ellipsis so it is at most {@code max} pixels wide. */
    static String fit(Graphics2D g, Font f, String s, double max) {
        if (width(g, f, s) <= max) {
            return s;
        }
        int[] cps = s.codePoints().toArray();
        int lo = 0;
        int hi = cps.length;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (width(g, f, new String(cps, 0, mid) + "…") <= max) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return new String(cps, 0, lo).stripTrailing() + "…";
    }

    static String clean(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ').strip();
    }

    // ------------------------------------------------------------------ tick labels

    /** A tick label: plain text, optionally followed by a superscript (for 10ⁿ on log axes). */
    record Label(String text, String sup) {
        static Label of(String text) {
            return new Label(text, "");
        }

        double width(Graphics2D g, Font f) {
            return Charts.width(g, f, text) + (sup.isEmpty() ? 0 : Charts.width(g, supFont(f), sup) + 1);
        }

        static Font supFont(Font f) {
            return f.deriveFont(f.getSize2D() * 0.72f);
        }

        void draw(Graphics2D g, Font f, Color c, double x, double y, double ha, double va) {
            if (sup.isEmpty()) {
                Charts.text(g, f, c, text, x, y, ha, va);
                return;
            }
            FontMetrics fm = g.getFontMetrics(f);
            double w = width(g, f);
            double left = x - ha * w;
            double baseline = y - va * (fm.getAscent() + fm.getDescent()) + fm.getAscent();
            g.setColor(c);
            g.setFont(f);
            g.drawString(text, (float) left, (float) baseline);
            Font sf = supFont(f);
            g.setFont(sf);
            g.drawString(sup, (float) (left + Charts.width(g, f, text) + 1),
                    (float) (baseline - f.getSize2D() * 0.42));
        }
    }

    /** Formats {@code v} with {@code decimals} places, never printing "-0". */
    static String fixed(double v, int decimals) {
        String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
        if (s.startsWith("-") && s.chars().noneMatch(ch -> ch >= '1' && ch <= '9')) {
            s = s.substring(1);
        }
        return s;
    }

    /** A value for a label: about three significant digits, integers kept whole ("812", "2.31", "0.0123"). */
    static String value(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "∞" : "-∞";
        }
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e9 || a < 1e-4) {
            return String.format(Locale.ROOT, "%.2e", v).replace("e+0", "e").replace("e+", "e")
                    .replace("e-0", "e-");
        }
        if (a >= 100) {
            return fixed(v, 0);
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(3, RoundingMode.HALF_EVEN)).stripTrailingZeros();
        return d.toPlainString();
    }

    // ------------------------------------------------------------------ legend

    /** One legend entry: a line sample (with optional marker) or a filled patch. */
    record LegendEntry(String name, Color color, boolean patch, boolean marker) {
    }

    /** Legend geometry in matplotlib's proportions (all in units of the font size). */
    static final class Legend {
        final List<LegendEntry> entries;
        final Font font;
        final double em;
        final double rowH;
        final double width;
        final double height;

        Legend(Graphics2D g, Font font, List<LegendEntry> entries) {
            this.entries = entries;
            this.font = font;
            this.em = font.getSize2D();
            this.rowH = lineHeight(g, font);
            double maxW = 0;
            for (LegendEntry e : entries) {
                maxW = Math.max(maxW, Charts.width(g, font, e.name()));
            }
            this.width = em * 0.5 + handle() + em * 0.8 + maxW + em * 0.6;
            this.height = em * 0.4 * 2 + rowH * entries.size() + em * 0.3 * (entries.size() - 1);
        }

        double handle() {
            return em * 2.0;
        }

        void draw(Graphics2D g, double x, double y, double s) {
            Composite saved = g.getComposite();
            g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.85f));
            RoundRectangle2D box = new RoundRectangle2D.Double(x, y, width, height, em * 0.5, em * 0.5);
            g.setColor(Color.WHITE);
            g.fill(box);
            g.setComposite(saved);
            g.setColor(LEGEND_EDGE);
            g.setStroke(new BasicStroke((float) (0.8 * s)));
            g.draw(box);
            double cy = y + em * 0.4 + rowH / 2;
            for (LegendEntry e : entries) {
                double hx = x + em * 0.5;
                drawHandle(g, e, hx, cy, handle(), em, s);
                text(g, font, TEXT, e.name(), hx + handle() + em * 0.8, cy, 0, 0.5);
                cy += rowH + em * 0.3;
            }
        }
    }

    static void drawHandle(Graphics2D g, LegendEntry e, double x, double cy, double len, double em, double s) {
        g.setColor(e.color());
        if (e.patch()) {
            double h = em * 0.7;
            double w = Math.min(len, em * 1.4);
            g.fill(new Rectangle2D.Double(x + (len - w) / 2, cy - h / 2, w, h));
            return;
        }
        g.setStroke(new BasicStroke((float) (1.8 * s), BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND));
        g.draw(new Line2D.Double(x, cy, x + len, cy));
        if (e.marker()) {
            double r = 3.2 * s;
            g.fill(new Ellipse2D.Double(x + len / 2 - r, cy - r, 2 * r, 2 * r));
        }
    }
}

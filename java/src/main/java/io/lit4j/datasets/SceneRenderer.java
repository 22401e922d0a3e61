package io.lit4j.datasets;

import io.lit4j.datasets.Scenes.Background;
import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Scene;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/** Java2D drawing of {@link Scene}s: background pixels first, then antialiased flat shapes. */
final class SceneRenderer {
    private SceneRenderer() {
    }

    static BufferedImage render(Scene scene) {
        int n = scene.size();
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, n, n, background(scene.background(), n), 0, n);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            for (Item it : scene.items()) {
                g.setColor(new Color(it.rgb()));
                g.fill(outline(it.shape(), it.cx(), it.cy(), it.diameter()));
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static int[] background(Background bg, int n) {
        int[] px = new int[n * n];
        int br = (bg.rgb() >> 16) & 0xFF;
        int bgc = (bg.rgb() >> 8) & 0xFF;
        int bb = bg.rgb() & 0xFF;
        SplittableRandom rng = new SplittableRandom(bg.textureSeed());
        boolean vertical = rng.nextBoolean();
        int sign = rng.nextBoolean() ? 1 : -1;
        int period = 6 + rng.nextInt(7);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int d = switch (bg.texture()) {
                    case PLAIN -> 0;
                    case GRADIENT -> (int) Math.round(sign * 10.0 * ((vertical ? y : x) / (double) (n - 1) - 0.5) * 2);
                    case STRIPES -> ((x + (vertical ? 0 : y)) / (period / 2)) % 2 == 0 ? 4 : -4;
                    case NOISE -> rng.nextInt(-5, 6);
                };
                px[y * n + x] = (Scenes.clamp(br + d) << 16) | (Scenes.clamp(bgc + d) << 8) | Scenes.clamp(bb + d);
            }
        }
        return px;
    }

    /** The outline of a shape centred at (cx, cy) that fits a circle of diameter d. */
    static Shape outline(Scenes.Shape shape, double cx, double cy, double d) {
        double r = d / 2;
        return switch (shape) {
            case CIRCLE -> new Ellipse2D.Double(cx - r, cy - r, d, d);
            case SQUARE -> {
                double s = 0.84 * d;
                yield new Rectangle2D.Double(cx - s / 2, cy - s / 2, s, s);
            }
            case TRIANGLE -> polygon(new double[] {cx, cx + 0.52 * d, cx - 0.52 * d},
                    new double[] {cy - 0.5 * d, cy + 0.4 * d, cy + 0.4 * d});
            case STAR -> {
                double[] xs = new double[10];
                double[] ys = new double[10];
                double cyS = cy + 0.05 * d; // a star's visual centre sits above its circumcentre
                for (int i = 0; i < 10; i++) {
                    double rad = (i % 2 == 0 ? 0.54 : 0.23) * d;
                    double a = -Math.PI / 2 + i * Math.PI / 5;
                    xs[i] = cx + rad * Math.cos(a);
                    ys[i] = cyS + rad * Math.sin(a);
                }
                yield polygon(xs, ys);
            }
            case HEART -> {
                Path2D.Double p = new Path2D.Double();
                double top = cy - 0.28 * d;
                p.moveTo(cx, top);
                p.curveTo(cx + 0.05 * d, cy - 0.52 * d, cx + 0.52 * d, cy - 0.56 * d, cx + 0.52 * d, cy - 0.18 * d);
                p.curveTo(cx + 0.52 * d, cy + 0.08 * d, cx + 0.2 * d, cy + 0.26 * d, cx, cy + 0.48 * d);
                p.curveTo(cx - 0.2 * d, cy + 0.26 * d, cx - 0.52 * d, cy + 0.08 * d, cx - 0.52 * d, cy - 0.18 * d);
                p.curveTo(cx - 0.52 * d, cy - 0.56 * d, cx - 0.05 * d, cy - 0.52 * d, cx, top);
                p.closePath();
                yield p;
            }
            case CROSS -> {
                double w = 0.34 * d;
                Area a = new Area(new Rectangle2D.Double(cx - r, cy - w / 2, d, w));
                a.add(new Area(new Rectangle2D.Double(cx - w / 2, cy - r, w, d)));
                yield a;
            }
            case RING -> {
                Area a = new Area(new Ellipse2D.Double(cx - r, cy - r, d, d));
                double ri = 0.27 * d;
                a.subtract(new Area(new Ellipse2D.Double(cx - ri, cy - ri, 2 * ri, 2 * ri)));
                yield a;
            }
            case DIAMOND -> polygon(new double[] {cx, cx + 0.36 * d, cx, cx - 0.36 * d},
                    new double[] {cy - 0.52 * d, cy, cy + 0.52 * d, cy});
        };
    }

    private static Path2D polygon(double[] xs, double[] ys) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            p.lineTo(xs[i], ys[i]);
        }
        p.closePath();
        return p;
    }
}

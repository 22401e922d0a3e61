package io.lit4j.datasets;

import io.lit4j.datasets.Scenes.Colour;
import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Tone;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The unnamed colours of scenes version 2: saturated, random hues (teal, pink, lime, brown,
 * magenta ...) that are far from every named {@link Colour}, so that no caption or label has a word
 * for them and none reads as a named colour. An object drawn in one shows its shape without a
 * named colour; a tower pretrained on many of them learns shape apart from colour.
 *
 * <p>"Far" is a Euclidean distance in sRGB of at least {@link #MIN_DISTANCE} from each named
 * colour's nominal value (named colours are jittered by at most ±10 per channel, under 18 units),
 * so in particular no unnamed colour on a triangle is a near-red.
 */
final class UnnamedColour {
    private UnnamedColour() {
    }

    /** The least sRGB distance from an unnamed colour to any named colour's nominal value. */
    static final double MIN_DISTANCE = 100;

    /** A random unnamed colour, {@code 0xRRGGBB}. */
    static int draw(SplittableRandom rng) {
        for (int attempt = 0; ; attempt++) {
            int rgb = hsv(rng.nextDouble(360), rng.nextDouble(0.55, 1.0), rng.nextDouble(0.45, 1.0));
            if (nearestNamedDistance(rgb) >= MIN_DISTANCE) {
                return rgb;
            }
            if (attempt > 10_000) { // cannot happen: a third of the hue circle is far from every named colour
                throw new IllegalStateException("no unnamed colour found");
            }
        }
    }

    /** The sRGB distance from {@code rgb} to the nearest named colour. */
    static double nearestNamedDistance(int rgb) {
        double best = Double.POSITIVE_INFINITY;
        for (Colour c : Colour.values()) {
            double dr = ((rgb >> 16) & 0xFF) - ((c.rgb() >> 16) & 0xFF);
            double dg = ((rgb >> 8) & 0xFF) - ((c.rgb() >> 8) & 0xFF);
            double db = (rgb & 0xFF) - (c.rgb() & 0xFF);
            best = Math.min(best, Math.sqrt(dr * dr + dg * dg + db * db));
        }
        return best;
    }

    /** Each object, with probability {@code p}, redrawn in an unnamed colour (colour null). */
    static List<Item> recolour(SplittableRandom rng, List<Item> items, double p) {
        List<Item> out = new ArrayList<>(items.size());
        for (Item it : items) {
            out.add(rng.nextDouble() < p ? it.recoloured(null, draw(rng)) : it);
        }
        return List.copyOf(out);
    }

    /**
     * Whether an object of fill {@code rgb} stays visible on {@code tone}, by its luma (ITU-R
     * BT.601); mid-grey shows every unnamed colour, which are all saturated. The thresholds agree
     * with {@link Tone#shows} on the named colours.
     */
    static boolean shows(Tone tone, int rgb) {
        double luma = 0.299 * ((rgb >> 16) & 0xFF) + 0.587 * ((rgb >> 8) & 0xFF) + 0.114 * (rgb & 0xFF);
        return switch (tone) {
            case LIGHT -> luma < 160;
            case MID -> true;
            case DARK -> luma > 90;
        };
    }

    private static int hsv(double h, double s, double v) {
        double c = v * s;
        double x = c * (1 - Math.abs((h / 60) % 2 - 1));
        double m = v - c;
        double r;
        double g;
        double b;
        switch ((int) (h / 60)) {
            case 0 -> { r = c; g = x; b = 0; }
            case 1 -> { r = x; g = c; b = 0; }
            case 2 -> { r = 0; g = c; b = x; }
            case 3 -> { r = 0; g = x; b = c; }
            case 4 -> { r = x; g = 0; b = c; }
            default -> { r = c; g = 0; b = x; }
        }
        int ri = Scenes.clamp((int) Math.round((r + m) * 255));
        int gi = Scenes.clamp((int) Math.round((g + m) * 255));
        int bi = Scenes.clamp((int) Math.round((b + m) * 255));
        return (ri << 16) | (gi << 8) | bi;
    }
}

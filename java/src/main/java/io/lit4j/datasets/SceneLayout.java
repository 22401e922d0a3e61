package io.lit4j.datasets;

import io.lit4j.LitException;
import io.lit4j.datasets.Scenes.Background;
import io.lit4j.datasets.Scenes.Colour;
import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Position;
import io.lit4j.datasets.Scenes.Shape;
import io.lit4j.datasets.Scenes.Size;
import io.lit4j.datasets.Scenes.Texture;
import io.lit4j.datasets.Scenes.Tone;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Where a scene's objects go and what they stand on: how many objects, their sizes and places
 * (a lone object at its named position, several without overlapping), their colour jitter, and a
 * background whose tone shows every object. All from the scene's own random stream, so a scene
 * is a function of (seed, split, index).
 */
final class SceneLayout {
    private SceneLayout() {
    }

    static int objectCount(SplittableRandom rng, int max) {
        if (max == 1) {
            return 1;
        }
        if (rng.nextDouble() < 0.4) {
            return 1;
        }
        return 2 + rng.nextInt(max - 1);
    }

    static int jitterColour(SplittableRandom rng, Colour c) {
        int r = Scenes.clamp(((c.rgb() >> 16) & 0xFF) + rng.nextInt(-10, 11));
        int g = Scenes.clamp(((c.rgb() >> 8) & 0xFF) + rng.nextInt(-10, 11));
        int b = Scenes.clamp((c.rgb() & 0xFF) + rng.nextInt(-10, 11));
        return (r << 16) | (g << 8) | b;
    }

    /** Diameter as a fraction of the image side: lone objects are bigger than objects in a group. */
    static double diameter(Size s, boolean alone, int size) {
        double f = alone ? (s == Size.LARGE ? 0.5 : 0.27) : (s == Size.LARGE ? 0.36 : 0.22);
        return f * size;
    }

    static Item placeSingle(SplittableRandom rng, Colour c, Shape s, Size sz, Position pos, int size) {
        double d = diameter(sz, true, size);
        double r = d / 2;
        double m = Math.max(1.5, 0.03 * size);
        double lo = r + m;
        double hi = size - r - m;
        double mid = size / 2.0;
        double j = 0.05 * size;
        double edge = 0.27 * size; // centre of an off-centre object, unless its size pushes it in
        double cx = mid + rng.nextDouble(-j, j);
        double cy = mid + rng.nextDouble(-j, j);
        switch (pos) {
            case TOP -> cy = Math.max(lo, edge + rng.nextDouble(-j, 0.5 * j));
            case BOTTOM -> cy = Math.min(hi, size - edge + rng.nextDouble(-0.5 * j, j));
            case LEFT -> cx = Math.max(lo, edge + rng.nextDouble(-j, 0.5 * j));
            case RIGHT -> cx = Math.min(hi, size - edge + rng.nextDouble(-0.5 * j, j));
            case CENTER -> {
                // near the middle already
            }
        }
        cx = Math.max(lo, Math.min(hi, cx));
        cy = Math.max(lo, Math.min(hi, cy));
        return new Item(s, c, sz, cx, cy, d, jitterColour(rng, c));
    }

    static List<Item> placeSeveral(SplittableRandom rng, List<int[]> pairs, int size) {
        int k = pairs.size();
        Size[] sizes = new Size[k];
        for (int i = 0; i < k; i++) {
            sizes[i] = Scenes.pick(rng, Size.values());
        }
        double m = Math.max(1.5, 0.03 * size);
        double gap = 0.06 * size;
        for (int round = 0; ; round++) {
            if (round == 1) {
                // did not fit: make every object small (three small ones always fit)
                for (int i = 0; i < k; i++) {
                    sizes[i] = Size.SMALL;
                }
            }
            double[] cx = new double[k];
            double[] cy = new double[k];
            double[] d = new double[k];
            for (int i = 0; i < k; i++) {
                d[i] = diameter(sizes[i], false, size);
            }
            boolean placed = true;
            for (int i = 0; i < k && placed; i++) {
                placed = false;
                for (int attempt = 0; attempt < 400 && !placed; attempt++) {
                    double r = d[i] / 2;
                    cx[i] = rng.nextDouble(r + m, size - r - m);
                    cy[i] = rng.nextDouble(r + m, size - r - m);
                    placed = true;
                    for (int o = 0; o < i; o++) {
                        double dist = Math.hypot(cx[i] - cx[o], cy[i] - cy[o]);
                        if (dist < (d[i] + d[o]) / 2 + gap) {
                            placed = false;
                            break;
                        }
                    }
                }
            }
            if (placed) {
                List<Item> items = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    Colour c = Colour.values()[pairs.get(i)[0]];
                    Shape s = Shape.values()[pairs.get(i)[1]];
                    items.add(new Item(s, c, sizes[i], cx[i], cy[i], d[i], jitterColour(rng, c)));
                }
                return List.copyOf(items);
            }
            if (round >= 20) {
                throw new LitException("cannot place " + k + " objects in a " + size + " px image");
            }
        }
    }

    static Background background(SplittableRandom rng, List<Item> items, boolean textured) {
        List<Tone> ok = new ArrayList<>();
        for (Tone t : Tone.values()) {
            boolean shows = true;
            for (Item it : items) {
                shows &= it.colour() == null ? UnnamedColour.shows(t, it.rgb()) : t.shows(it.colour());
            }
            if (shows) {
                ok.add(t);
            }
        }
        Tone tone = Scenes.pick(rng, ok); // MID always shows everything, so ok is never empty
        int level = switch (tone) {
            case LIGHT -> rng.nextInt(188, 213);
            case MID -> rng.nextInt(115, 141);
            case DARK -> rng.nextInt(48, 73);
        };
        int r = Scenes.clamp(level + rng.nextInt(-6, 7));
        int g = Scenes.clamp(level + rng.nextInt(-6, 7));
        int b = Scenes.clamp(level + rng.nextInt(-6, 7));
        Texture tex = textured ? Scenes.pick(rng, Texture.values()) : Texture.PLAIN;
        return new Background(tone, tex, (r << 16) | (g << 8) | b, rng.nextLong());
    }
}

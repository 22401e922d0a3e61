package io.lit4j.datasets;

import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Noun;
import io.lit4j.datasets.Scenes.Position;
import io.lit4j.datasets.Scenes.Size;
import io.lit4j.datasets.Scenes.Tone;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The caption grammar of {@link Scenes}: noun phrases "[article] [size] colour shape" (the colour
 * always right before the shape word, so that a colour × shape pair reads the same in every
 * caption), position phrases for a lone object, relations between two objects, counting of
 * repeated objects, synonyms for shapes, sizes, positions and relations, and varied frames.
 * Every caption mentions the main object, and only what is drawn. An object in an unnamed colour
 * (version 2) is named by its shape alone ("a triangle", "two stars").
 */
final class SceneText {
    private SceneText() {
    }

    /** How object a sits relative to object b. */
    enum Relation {
        LEFT_OF("to the left of", "left of", "on the left of"),
        RIGHT_OF("to the right of", "right of", "on the right of"),
        ABOVE("above", "over"),
        BELOW("below", "under", "beneath"),
        NEAR("next to", "beside", "near");

        final List<String> phrases;

        Relation(String... phrases) {
            this.phrases = List.of(phrases);
        }
    }

    /** Left/right or above/below when one axis clearly dominates, otherwise NEAR. */
    static Relation relation(Item a, Item b) {
        double dx = a.cx() - b.cx();
        double dy = a.cy() - b.cy();
        double ax = Math.abs(dx);
        double ay = Math.abs(dy);
        if (Math.max(ax, ay) < 1.4 * Math.min(ax, ay)) {
            return Relation.NEAR;
        }
        if (ax > ay) {
            return dx < 0 ? Relation.LEFT_OF : Relation.RIGHT_OF;
        }
        return dy < 0 ? Relation.ABOVE : Relation.BELOW;
    }

    static List<String> captions(List<Item> items, Position position, Tone tone, int size, int n,
                                 SplittableRandom rng) {
        Set<String> out = new LinkedHashSet<>();
        for (int attempt = 0; attempt < 40 * n && out.size() < n; attempt++) {
            String c = switch (items.size()) {
                case 1 -> single(items.get(0), position, tone, rng);
                case 2 -> two(items.get(0), items.get(1), tone, rng);
                default -> three(items, size, rng);
            };
            out.add(c);
        }
        return List.copyOf(out);
    }

    // ---- phrases ------------------------------------------------------------------------------

    static String article(String next) {
        return "aeiou".indexOf(Character.toLowerCase(next.charAt(0))) >= 0 ? "an" : "a";
    }

    private static String withArticle(String phrase) {
        return article(phrase) + " " + phrase;
    }

    /** "[size] colour shape" without an article; size included with probability pSize. */
    private static String bare(Item it, double pSize, SplittableRandom rng) {
        Noun noun = Scenes.pick(rng, it.shape().synonyms());
        String s = colourWord(it) + noun.singular();
        if (rng.nextDouble() < pSize) {
            s = Scenes.pick(rng, it.size().words()) + " " + s;
        }
        return s;
    }

    private static String np(Item it, double pSize, SplittableRandom rng) {
        return withArticle(bare(it, pSize, rng));
    }

    /** "red circles" / "red discs". */
    private static String plural(Item it, SplittableRandom rng) {
        return colourWord(it) + Scenes.pick(rng, it.shape().synonyms()).plural();
    }

    /** "red " before the shape word, or nothing for an unnamed colour. */
    private static String colourWord(Item it) {
        return it.colour() == null ? "" : it.colour().word() + " ";
    }

    private static String rel(Relation r, SplittableRandom rng) {
        if (r != Relation.NEAR && rng.nextDouble() < 0.2) {
            return Scenes.pick(rng, Relation.NEAR.phrases);
        }
        return Scenes.pick(rng, r.phrases);
    }

    private static boolean sameClass(Item a, Item b) {
        return a.colour() == b.colour() && a.shape() == b.shape();
    }

    // ---- one object ---------------------------------------------------------------------------

    private static String single(Item a, Position position, Tone tone, SplittableRandom rng) {
        String p = Scenes.pick(rng, position.phrases());
        String bg = Scenes.pick(rng, tone.words());
        return switch (rng.nextInt(16)) {
            case 0 -> np(a, 0.5, rng);
            case 1 -> np(a, 0.5, rng) + " " + p;
            case 2 -> p + ", " + np(a, 0.5, rng);
            case 3 -> "a picture of " + np(a, 0.5, rng);
            case 4 -> "a picture of " + np(a, 0.5, rng) + " " + p;
            case 5 -> "an image of " + np(a, 0.5, rng) + " " + p;
            case 6 -> "there is " + np(a, 0.5, rng) + " " + p;
            case 7 -> p + " there is " + np(a, 0.5, rng);
            case 8 -> np(a, 0.5, rng) + " on a " + bg + " background";
            case 9 -> "a single " + bare(a, 0.5, rng) + " " + p;
            case 10 -> bare(a, 0.5, rng) + " " + p;
            case 11 -> "just one " + bare(a, 0.5, rng);
            case 12 -> np(a, 0.5, rng) + " " + p + ", on a " + bg + " background";
            case 13 -> "a simple scene with " + np(a, 0.5, rng) + " " + p;
            case 14 -> "you can see " + np(a, 0.5, rng) + " " + p;
            default -> np(a, 0.5, rng) + " placed " + p;
        };
    }

    // ---- two objects --------------------------------------------------------------------------

    private static String two(Item a, Item b, Tone tone, SplittableRandom rng) {
        Relation ab = relation(a, b);
        if (sameClass(a, b)) {
            String pl = plural(a, rng);
            boolean differ = a.size() != b.size();
            int k = rng.nextInt(differ ? 6 : 4);
            return switch (k) {
                case 0 -> "two " + pl;
                case 1 -> "a pair of " + pl;
                case 2 -> "there are two " + pl;
                case 3 -> "two " + pl + " " + switch (ab) {
                    case LEFT_OF, RIGHT_OF -> "side by side";
                    case ABOVE, BELOW -> "one above the other";
                    case NEAR -> "close together";
                };
                case 4 -> "two " + pl + ", one " + Scenes.pick(rng, Size.LARGE.words()) + " and one "
                        + Scenes.pick(rng, Size.SMALL.words());
                default -> np(a, 1, rng) + " " + rel(ab, rng) + " " + np(b, 1, rng);
            };
        }
        String bg = Scenes.pick(rng, tone.words());
        return switch (rng.nextInt(8)) {
            case 0 -> np(a, 0.3, rng) + " " + rel(ab, rng) + " " + np(b, 0.3, rng);
            case 1 -> "there is " + np(a, 0.3, rng) + " " + rel(ab, rng) + " " + np(b, 0.3, rng);
            case 2 -> np(a, 0.3, rng) + " and " + np(b, 0.3, rng);
            case 3 -> "a picture of " + np(a, 0.3, rng) + " and " + np(b, 0.3, rng);
            case 4 -> np(b, 0.3, rng) + " " + rel(relation(b, a), rng) + " " + np(a, 0.3, rng);
            case 5 -> "two shapes: " + np(a, 0.3, rng) + " and " + np(b, 0.3, rng);
            case 6 -> np(a, 0.3, rng) + " " + rel(ab, rng) + " " + np(b, 0.3, rng) + " on a " + bg + " background";
            default -> "there is " + np(a, 0.3, rng) + " " + Scenes.pick(rng, Relation.NEAR.phrases)
                    + " " + np(b, 0.3, rng);
        };
    }

    // ---- three objects ------------------------------------------------------------------------

    private static String three(List<Item> items, int size, SplittableRandom rng) {
        Item a = items.get(0);
        Item b = items.get(1);
        Item c = items.get(2);
        boolean ab = sameClass(a, b);
        boolean ac = sameClass(a, c);
        boolean bc = sameClass(b, c);
        if (ab && ac) {
            String pl = plural(a, rng);
            boolean mixed = a.size() != b.size() || a.size() != c.size();
            return switch (rng.nextInt(mixed ? 4 : 3)) {
                case 0 -> "three " + pl;
                case 1 -> "there are three " + pl;
                case 2 -> "a group of three " + pl;
                default -> "three " + pl + " of different sizes";
            };
        }
        if (ab || ac || bc) {
            // one class twice, another once
            Item twice = ab || ac ? a : b;
            Item once = ab ? c : ac ? b : a;
            if (rng.nextDouble() < 0.75) {
                String pl = plural(twice, rng);
                String one = np(once, 0.3, rng);
                return switch (rng.nextInt(4)) {
                    case 0 -> "two " + pl + " and " + one;
                    case 1 -> one + " and two " + pl;
                    case 2 -> "there are two " + pl + " and " + one;
                    default -> "a picture of two " + pl + " and " + one;
                };
            }
            Item other = a == once ? (rng.nextBoolean() ? b : c) : once;
            return np(a, 0.3, rng) + " " + rel(relation(a, other), rng) + " " + np(other, 0.3, rng);
        }
        Item x = rng.nextBoolean() ? b : c;
        List<Item> byX = new ArrayList<>(items);
        byX.sort((p, q) -> Double.compare(p.cx(), q.cx()));
        boolean row = byX.get(1).cx() - byX.get(0).cx() > 0.18 * size && byX.get(2).cx() - byX.get(1).cx() > 0.18 * size;
        int k = rng.nextInt(row ? 7 : 6);
        return switch (k) {
            case 0 -> np(a, 0.3, rng) + ", " + np(b, 0.3, rng) + " and " + np(c, 0.3, rng);
            case 1 -> "three shapes: " + np(a, 0.3, rng) + ", " + np(b, 0.3, rng) + " and " + np(c, 0.3, rng);
            case 2 -> np(a, 0.3, rng) + " " + rel(relation(a, b), rng) + " " + np(b, 0.3, rng) + ", and "
                    + np(c, 0.3, rng);
            case 3 -> np(a, 0.3, rng) + " " + rel(relation(a, x), rng) + " " + np(x, 0.3, rng);
            case 4 -> "a picture of " + np(a, 0.3, rng) + ", " + np(b, 0.3, rng) + " and " + np(c, 0.3, rng);
            case 5 -> "there is " + np(a, 0.3, rng) + " " + rel(relation(a, x), rng) + " " + np(x, 0.3, rng);
            default -> "from left to right: " + np(byX.get(0), 0.3, rng) + ", " + np(byX.get(1), 0.3, rng)
                    + " and " + np(byX.get(2), 0.3, rng);
        };
    }
}

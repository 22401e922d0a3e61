package io.lit4j.datasets;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.Png;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A seeded generator of procedural scenes with captions: 1 to 3 flat shapes (shape × colour ×
 * size × position) on a plain or lightly textured background, each image with several captions
 * from a small grammar with synonyms and word-order variation ("a red circle", "a large blue
 * square at the top", "two green triangles", "there is an orange ring next to a purple heart").
 *
 * <p><b>Held-out pairs.</b> The config names colour × shape pairs ("red triangle") that are never
 * drawn in the training (and validation) split, so no caption there mentions them either, under
 * any synonym. The test split holds single-object images of every class, held-out ones included,
 * with {@code label} = "colour shape": zero-shot classification with "a {colour} {shape}" on the
 * held-out classes is then compositional.
 *
 * <p><b>Determinism.</b> Image i of a split is drawn from its own {@link SplittableRandom} seeded
 * from (seed, split, i), and PNGs go through the fixed {@link Png} encoder: the same config
 * gives byte-identical files, and a scene can be recomputed on its own with {@link #scene}.
 *
 * <p><b>Versions.</b> {@link Config#version()} 1 is the generator as first written; its images
 * never change. Version 2 draws, in the training and validation splits only, each object with
 * probability {@link #UNNAMED_FRACTION} in an <em>unnamed</em> colour ({@link UnnamedColour}: a
 * random hue at least {@link UnnamedColour#MIN_DISTANCE} RGB units from every named colour), and
 * names only its shape ("a triangle at the top", label "triangle"). Shape then varies
 * independently of the named colours, so a tower pretrained on it cannot use "red" as evidence
 * against "triangle". No held-out pair is drawn in its named colour in any version; the test split
 * is the same in both.
 */
public final class Scenes {
    private Scenes() {
    }

    // ---- vocabulary ---------------------------------------------------------------------------

    /** A word with its plural. */
    public record Noun(String singular, String plural) {
    }

    /** The shapes; {@link #synonyms()} are the words captions use (the first is the class name). */
    public enum Shape {
        CIRCLE(new Noun("circle", "circles"), new Noun("disc", "discs"), new Noun("round shape", "round shapes")),
        SQUARE(new Noun("square", "squares"), new Noun("box", "boxes")),
        TRIANGLE(new Noun("triangle", "triangles"), new Noun("triangular shape", "triangular shapes")),
        STAR(new Noun("star", "stars"), new Noun("five-pointed star", "five-pointed stars")),
        HEART(new Noun("heart", "hearts"), new Noun("heart shape", "heart shapes")),
        CROSS(new Noun("cross", "crosses"), new Noun("plus sign", "plus signs")),
        RING(new Noun("ring", "rings"), new Noun("hoop", "hoops")),
        DIAMOND(new Noun("diamond", "diamonds"), new Noun("rhombus", "rhombuses"));

        private final List<Noun> synonyms;

        Shape(Noun... synonyms) {
            this.synonyms = List.of(synonyms);
        }

        /** The class-name word ("circle"). */
        public String word() {
            return synonyms.get(0).singular();
        }

        /** Every way captions name this shape, the class-name word first. */
        public List<Noun> synonyms() {
            return synonyms;
        }
    }

    /** The colours, with the sRGB value they are drawn in (before a small per-object jitter). */
    public enum Colour {
        RED(0xDC1E1E), GREEN(0x1EAA32), BLUE(0x1E46E6), YELLOW(0xFAE11E),
        PURPLE(0x8228B4), ORANGE(0xFA8C14), BLACK(0x0F0F0F), WHITE(0xFAFAFA);

        private final int rgb;

        Colour(int rgb) {
            this.rgb = rgb;
        }

        /** The caption word ("red"). */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The nominal colour, {@code 0xRRGGBB}. */
        public int rgb() {
            return rgb;
        }
    }

    /** Object sizes, as words captions use (the first is the canonical one). */
    public enum Size {
        SMALL("small", "little", "tiny"), LARGE("large", "big");

        private final List<String> words;

        Size(String... words) {
            this.words = List.of(words);
        }

        public List<String> words() {
            return words;
        }
    }

    /** Where a lone object sits, with the phrases captions use for it. */
    public enum Position {
        TOP("at the top", "in the upper part", "near the top", "at the top of the picture"),
        BOTTOM("at the bottom", "in the lower part", "near the bottom", "at the bottom of the picture"),
        LEFT("on the left", "on the left side", "at the left"),
        RIGHT("on the right", "on the right side", "at the right"),
        CENTER("in the center", "in the middle", "in the centre");

        private final List<String> phrases;

        Position(String... phrases) {
            this.phrases = List.of(phrases);
        }

        public List<String> phrases() {
            return phrases;
        }
    }

    /** Background brightness: which object colours it may carry so that every one stays visible. */
    public enum Tone {
        LIGHT(List.of("light", "pale")), MID(List.of("grey", "gray")), DARK(List.of("dark"));

        private final List<String> words;

        Tone(List<String> words) {
            this.words = words;
        }

        public List<String> words() {
            return words;
        }

        /** Whether an object of colour {@code c} stays clearly visible on this tone. */
        public boolean shows(Colour c) {
            return switch (this) {
                case LIGHT -> c != Colour.WHITE && c != Colour.YELLOW;
                case MID -> true;
                case DARK -> c != Colour.BLACK && c != Colour.BLUE && c != Colour.PURPLE;
            };
        }
    }

    /** Light background textures (amplitudes of a few levels, far from any object colour). */
    public enum Texture {
        PLAIN, GRADIENT, STRIPES, NOISE
    }

    /** The splits {@link #generate} writes. */
    public enum Split {
        TRAIN("train"), VAL("val"), TEST("test");

        private final String folder;

        Split(String folder) {
            this.folder = folder;
        }

        /** The subfolder name. */
        public String folder() {
            return folder;
        }
    }

    /** A background: tone, texture, base colour and the seed of its texture. */
    public record Background(Tone tone, Texture texture, int rgb, long textureSeed) {
    }

    /**
     * One drawn object: centre and diameter in pixels, fill colour after jitter. {@code colour} is
     * null for an object in an unnamed colour (version 2), which captions name by its shape alone.
     */
    public record Item(Shape shape, Colour colour, Size size, double cx, double cy, double diameter, int rgb) {
        /** "red circle", or "circle" for an unnamed colour. */
        public String className() {
            return colour == null ? shape.word() : Scenes.className(colour, shape);
        }

        /** The same object in another colour (null: unnamed) drawn as {@code newRgb}. */
        Item recoloured(Colour c, int newRgb) {
            return new Item(shape, c, size, cx, cy, diameter, newRgb);
        }
    }

    /**
     * One image: {@code items.get(0)} is the main object (its class is the label); {@code position}
     * is where a lone object sits, null when there are several.
     */
    public record Scene(Split split, int index, int size, Background background, List<Item> items,
                        Position position, List<String> captions) {
        /** The main object's "colour shape". */
        public String label() {
            return items.get(0).className();
        }
    }

    // ---- config -------------------------------------------------------------------------------

    /** The newest generator version. */
    public static final int LATEST_VERSION = 2;

    /** In version 2's train and val splits, the chance that an object is drawn in an unnamed colour. */
    public static final double UNNAMED_FRACTION = 0.5;

    /** The held-out pairs {@link Config#defaults()} uses: every colour and every shape once. */
    public static final List<String> DEFAULT_HELD_OUT = List.of(
            "red triangle", "green heart", "blue star", "yellow ring",
            "purple square", "orange cross", "black diamond", "white circle");

    /**
     * What to generate. {@code heldOut}: "colour shape" pairs never drawn in train/val;
     * {@code maxObjects}: 1..3 objects per train/val image; {@code textured}: false for plain
     * backgrounds only; {@code version}: 1 or 2 (see the class comment). Counts may be 0 (no folder
     * for that split, except train and test, which are always written).
     */
    public record Config(long seed, int imageSize, int trainCount, int valCount, int testCount,
                         List<String> heldOut, int maxObjects, int captionsPerImage, boolean textured, int version) {
        public Config {
            if (version < 1 || version > LATEST_VERSION) {
                throw new LitException("scenes generator version " + version + " is not 1.." + LATEST_VERSION);
            }
            if (imageSize < 16 || imageSize > 1024) {
                throw new LitException("scene image size " + imageSize + " is out of range 16..1024");
            }
            if (trainCount < 0 || valCount < 0 || testCount < 0) {
                throw new LitException("negative image count (train " + trainCount + ", val " + valCount
                        + ", test " + testCount + ")");
            }
            if (maxObjects < 1 || maxObjects > 3) {
                throw new LitException("maxObjects " + maxObjects + " is out of range 1..3");
            }
            if (captionsPerImage < 1 || captionsPerImage > 8) {
                throw new LitException("captionsPerImage " + captionsPerImage + " is out of range 1..8");
            }
            heldOut = canonicalHeldOut(heldOut);
        }

        /**
         * Seed 0, 64 px, 10000 train / 500 val / 1280 test (20 per class), the
         * {@link #DEFAULT_HELD_OUT} pairs, up to 3 objects, 3 captions, textured backgrounds.
         */
        public static Config defaults() {
            return new Config(0, 64, 10_000, 500, 1_280, DEFAULT_HELD_OUT, 3, 3, true, 1);
        }

        public Config withVersion(int v) {
            return new Config(seed, imageSize, trainCount, valCount, testCount, heldOut, maxObjects, captionsPerImage, textured, v);
        }

        public Config withSeed(long s) {
            return new Config(s, imageSize, trainCount, valCount, testCount, heldOut, maxObjects, captionsPerImage, textured, version);
        }

        public Config withImageSize(int px) {
            return new Config(seed, px, trainCount, valCount, testCount, heldOut, maxObjects, captionsPerImage, textured, version);
        }

        public Config withCounts(int train, int val, int test) {
            return new Config(seed, imageSize, train, val, test, heldOut, maxObjects, captionsPerImage, textured, version);
        }

        public Config withHeldOut(List<String> pairs) {
            return new Config(seed, imageSize, trainCount, valCount, testCount, pairs, maxObjects, captionsPerImage, textured, version);
        }

        public Config withMaxObjects(int n) {
            return new Config(seed, imageSize, trainCount, valCount, testCount, heldOut, n, captionsPerImage, textured, version);
        }

        public Config withCaptionsPerImage(int n) {
            return new Config(seed, imageSize, trainCount, valCount, testCount, heldOut, maxObjects, n, textured, version);
        }

        public Config withTextured(boolean t) {
            return new Config(seed, imageSize, trainCount, valCount, testCount, heldOut, maxObjects, captionsPerImage, t, version);
        }

        /** How many images {@code split} has. */
        public int count(Split split) {
            return switch (split) {
                case TRAIN -> trainCount;
                case VAL -> valCount;
                case TEST -> testCount;
            };
        }
    }

    private static List<String> canonicalHeldOut(List<String> pairs) {
        if (pairs == null) {
            return List.of();
        }
        Set<String> valid = new LinkedHashSet<>(allClassNames());
        Set<String> seen = new LinkedHashSet<>();
        for (String p : pairs) {
            String c = p == null ? "" : p.strip().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
            if (!valid.contains(c)) {
                throw new LitException("held-out pair '" + p + "' is not a \"colour shape\" class; colours: "
                        + words(Colour.values()) + ", shapes: " + words(Shape.values()) + " (e.g. \"red triangle\")");
            }
            seen.add(c);
        }
        // sort into class order so that the config (and everything derived from it) is canonical
        List<String> out = new ArrayList<>();
        for (String c : valid) {
            if (seen.contains(c)) {
                out.add(c);
            }
        }
        for (Colour col : Colour.values()) {
            if (Shape.values().length == countPrefix(out, col.word() + " ")) {
                throw new LitException("every shape of colour " + col.word() + " is held out: training would"
                        + " never show " + col.word() + "; hold out fewer pairs");
            }
        }
        for (Shape s : Shape.values()) {
            int n = 0;
            for (String c : out) {
                if (c.endsWith(" " + s.word())) {
                    n++;
                }
            }
            if (n == Colour.values().length) {
                throw new LitException("every colour of shape " + s.word() + " is held out: training would"
                        + " never show a " + s.word() + "; hold out fewer pairs");
            }
        }
        return List.copyOf(out);
    }

    private static int countPrefix(List<String> names, String prefix) {
        int n = 0;
        for (String s : names) {
            if (s.startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    private static String words(Enum<?>[] values) {
        List<String> w = new ArrayList<>();
        for (Enum<?> v : values) {
            w.add(v.name().toLowerCase(Locale.ROOT));
        }
        return String.join(", ", w);
    }

    // ---- classes ------------------------------------------------------------------------------

    /** "red circle". */
    public static String className(Colour c, Shape s) {
        return c.word() + " " + s.word();
    }

    private static List<String> allClassNames() {
        List<String> out = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (Shape s : Shape.values()) {
                out.add(className(c, s));
            }
        }
        return out;
    }

    /** All 64 "colour shape" classes, colours outer, shapes inner ("red circle", "red square", ...). */
    public static List<String> classNames(Config config) {
        return List.copyOf(allClassNames());
    }

    /** The held-out classes, in class order. */
    public static List<String> heldOutClasses(Config config) {
        return config.heldOut();
    }

    // ---- sampling -----------------------------------------------------------------------------

    /** The seed of image {@code index} of {@code split}. */
    static long imageSeed(long seed, Split split, int index) {
        return mix(mix(seed + 0x9E3779B97F4A7C15L * (split.ordinal() + 1)) ^ (index * 0xD1B54A32D192ED03L + 1));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Image {@code index} of {@code split}, recomputed from the config alone (what
     * {@link #generate} draws and captions).
     */
    public static Scene scene(Config config, Split split, int index) {
        if (index < 0 || index >= config.count(split)) {
            throw new LitException("scene " + index + " is outside the " + split.folder() + " split (0.."
                    + (config.count(split) - 1) + ")");
        }
        SplittableRandom rng = new SplittableRandom(imageSeed(config.seed(), split, index));
        SplittableRandom captionRng = rng.split();
        int size = config.imageSize();
        List<Item> items;
        Position position = null;
        if (split == Split.TEST) {
            List<String> cycle = testCycle(config);
            String cls = cycle.get(index % cycle.size());
            Colour c = Colour.valueOf(cls.substring(0, cls.indexOf(' ')).toUpperCase(Locale.ROOT));
            Shape s = Shape.valueOf(cls.substring(cls.indexOf(' ') + 1).toUpperCase(Locale.ROOT));
            position = pick(rng, Position.values());
            items = List.of(SceneLayout.placeSingle(rng, c, s, pick(rng, Size.values()), position, size));
        } else {
            List<int[]> allowed = allowedPairs(config);
            int k = SceneLayout.objectCount(rng, config.maxObjects());
            if (k == 1) {
                int[] p = allowed.get(rng.nextInt(allowed.size()));
                position = pick(rng, Position.values());
                items = List.of(SceneLayout.placeSingle(rng, Colour.values()[p[0]], Shape.values()[p[1]],
                        pick(rng, Size.values()), position, size));
            } else {
                List<int[]> pairs = new ArrayList<>();
                pairs.add(allowed.get(rng.nextInt(allowed.size())));
                for (int i = 1; i < k; i++) {
                    // sometimes repeat the main object's colour and shape, so that captions count
                    pairs.add(rng.nextDouble() < 0.3 ? pairs.get(0) : allowed.get(rng.nextInt(allowed.size())));
                }
                items = SceneLayout.placeSeveral(rng, pairs, size);
            }
            if (config.version() >= 2) {
                items = UnnamedColour.recolour(rng, items, UNNAMED_FRACTION);
            }
        }
        Background bg = SceneLayout.background(rng, items, config.textured());
        List<String> captions = SceneText.captions(items, position, bg.tone(), size,
                config.captionsPerImage(), captionRng);
        return new Scene(split, index, size, bg, items, position, captions);
    }

    /** The test split's class order: held-out classes first, then the rest, repeated. */
    private static List<String> testCycle(Config config) {
        List<String> out = new ArrayList<>(config.heldOut());
        for (String c : allClassNames()) {
            if (!config.heldOut().contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static List<int[]> allowedPairs(Config config) {
        List<int[]> out = new ArrayList<>();
        for (Colour c : Colour.values()) {
            for (Shape s : Shape.values()) {
                if (!config.heldOut().contains(className(c, s))) {
                    out.add(new int[] {c.ordinal(), s.ordinal()});
                }
            }
        }
        return out;
    }

    static <T> T pick(SplittableRandom rng, T[] values) {
        return values[rng.nextInt(values.length)];
    }

    static <T> T pick(SplittableRandom rng, List<T> values) {
        return values.get(rng.nextInt(values.size()));
    }

    static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    // ---- drawing and writing ------------------------------------------------------------------

    /** Draws a scene (TYPE_INT_RGB, {@code size}×{@code size}). */
    public static BufferedImage render(Scene scene) {
        return SceneRenderer.render(scene);
    }

    /** The scene as PNG bytes (the fixed encoder: same scene, same bytes). */
    public static byte[] png(Scene scene) {
        BufferedImage img = render(scene);
        int w = img.getWidth();
        int h = img.getHeight();
        return Png.encodeRgb(w, h, img.getRGB(0, 0, w, h, null, 0, w));
    }

    /**
     * Writes {@code train/}, {@code test/} and, when {@code valCount > 0}, {@code val/}, each a
     * folder of {@code images/NNNNNN.png} and {@code captions.jsonl}, plus {@code scenes.json}
     * (config, classes, held-out classes) at the root. The folder appears complete or not at all;
     * it must be absent or empty.
     */
    public static void generate(Config config, Path outFolder) {
        generate(config, outFolder, false);
    }

    /** As {@link #generate(Config, Path)}; {@code replace} replaces an existing folder. */
    public static void generate(Config config, Path outFolder, boolean replace) {
        try (AtomicFolder out = AtomicFolder.begin(outFolder, replace, false)) {
            for (Split split : Split.values()) {
                int n = config.count(split);
                if (n == 0 && split == Split.VAL) {
                    continue;
                }
                StringBuilder jsonl = new StringBuilder(n * 160);
                for (int i = 0; i < n; i++) {
                    Scene s = scene(config, split, i);
                    String image = String.format(Locale.ROOT, "images/%06d.png", i);
                    out.write(split.folder() + "/" + image, png(s));
                    jsonl.append(CaptionDataset.captionLine(image, s.captions(), s.label())).append('\n');
                }
                out.writeString(split.folder() + "/" + CaptionDataset.JSONL, jsonl.toString());
            }
            out.writeString("scenes.json", describe(config));
            out.commit();
        }
    }

    /** The {@code scenes.json} written beside the splits. */
    static String describe(Config c) {
        JsonObject o = new JsonObject();
        o.addProperty("generator", "lit4j scenes " + c.version());
        JsonObject cfg = new JsonObject();
        cfg.addProperty("seed", c.seed());
        cfg.addProperty("image_size", c.imageSize());
        cfg.addProperty("train_count", c.trainCount());
        cfg.addProperty("val_count", c.valCount());
        cfg.addProperty("test_count", c.testCount());
        cfg.addProperty("max_objects", c.maxObjects());
        cfg.addProperty("captions_per_image", c.captionsPerImage());
        cfg.addProperty("textured", c.textured());
        cfg.add("held_out", array(c.heldOut()));
        if (c.version() >= 2) { // version 1's file stays as it always was
            cfg.addProperty("version", c.version());
            cfg.addProperty("unnamed_fraction", UNNAMED_FRACTION);
        }
        o.add("config", cfg);
        o.add("classes", array(classNames(c)));
        o.add("held_out_classes", array(heldOutClasses(c)));
        o.addProperty("label", c.version() >= 2
                ? "colour and shape of the main object, or its shape alone when its colour is unnamed (train/val only); test images hold one object"
                : "colour and shape of the main object; test images hold one object");
        return new GsonBuilder().disableHtmlEscaping().create().toJson(o) + "\n";
    }

    private static JsonArray array(List<String> xs) {
        JsonArray a = new JsonArray();
        for (String x : xs) {
            a.add(x);
        }
        return a;
    }
}

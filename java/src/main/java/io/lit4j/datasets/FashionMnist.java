package io.lit4j.datasets;

import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.Png;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Fashion-MNIST (Zalando; 28×28 grayscale, 10 classes, 60000 train / 10000 test) as Debian's
 * {@code dataset-fashion-mnist} installs it: gzipped IDX files in
 * {@code /usr/share/datasets/fashion-mnist/}. The folder is taken from the system property
 * {@value #PROPERTY}, else the environment variable {@value #ENV}, else that default.
 *
 * <p>Besides reading, it makes a captioned dataset folder out of it ({@link #export}): each image
 * with 2–3 descriptive sentences naming its class or a synonym, in frames that never coincide with
 * the zero-shot prompt templates, so that zero-shot accuracy measures transfer
 * and not a memorised prompt.
 */
public final class FashionMnist {
    /** System property naming the folder of the four {@code .gz} files. */
    public static final String PROPERTY = "lit4j.fashion";
    /** Environment variable naming the folder, when the property is not set. */
    public static final String ENV = "LIT4J_FASHION_MNIST";
    /** Where Debian's package puts the files. */
    public static final String DEFAULT_FOLDER = "/usr/share/datasets/fashion-mnist";

    private static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final List<String> ALIASES = List.of(
            "t-shirt,tee,top", "trousers,pants", "pullover,sweater,jumper", "dress", "coat,jacket",
            "sandal", "shirt", "sneaker,trainer,running shoe", "bag,handbag,purse", "ankle boot,boot");

    private FashionMnist() {
    }

    /** The two splits and their file prefixes. */
    public enum Split {
        TRAIN("train", 60_000), TEST("t10k", 10_000);

        private final String prefix;
        private final int expectedCount;

        Split(String prefix, int expectedCount) {
            this.prefix = prefix;
            this.expectedCount = expectedCount;
        }

        public String imagesFile() {
            return prefix + "-images-idx3-ubyte.gz";
        }

        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte.gz";
        }

        /** How many images the published split has. */
        public int expectedCount() {
            return expectedCount;
        }
    }

    /** A loaded split: {@code images[i]} is 28×28 bytes (row-major, 0 = black), {@code labels[i]} in 0..9. */
    public record Data(Split split, int rows, int cols, byte[][] images, byte[] labels) {
        public Data {
            if (images.length != labels.length) {
                throw new LitException("Fashion-MNIST " + split + ": " + images.length + " images but "
                        + labels.length + " labels");
            }
            for (int i = 0; i < images.length; i++) {
                if (images[i].length != rows * cols) {
                    throw new LitException("Fashion-MNIST " + split + ": image " + i + " has " + images[i].length
                            + " bytes, not " + rows + "x" + cols);
                }
                if ((labels[i] & 0xFF) >= CLASS_NAMES.size()) {
                    throw new LitException("Fashion-MNIST " + split + ": label " + (labels[i] & 0xFF) + " of image "
                            + i + " is not in 0..9");
                }
            }
        }

        public int size() {
            return images.length;
        }

        public int label(int i) {
            return labels[i] & 0xFF;
        }

        public String className(int i) {
            return CLASS_NAMES.get(labels[i] & 0xFF);
        }
    }

    /** The ten class names, in label order ("T-shirt/top", "Trouser", ..., "Ankle boot"). */
    public static List<String> classNames() {
        return CLASS_NAMES;
    }

    /**
     * The classes as comma-separated alias lists, in label order, the form lit4j's zero-shot
     * classifier takes ("t-shirt,tee,top", "trousers,pants", ...).
     */
    public static List<String> aliases() {
        return ALIASES;
    }

    /** The folder the files are read from (it may not exist; see {@link #isAvailable()}). */
    public static Path folder() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return Path.of(p.strip());
        }
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) {
            return Path.of(e.strip());
        }
        return Path.of(DEFAULT_FOLDER);
    }

    private static String folderSource() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return "-D" + PROPERTY;
        }
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) {
            return "$" + ENV;
        }
        return "the default";
    }

    /** Whether all four files are in {@link #folder()}. */
    public static boolean isAvailable() {
        return isAvailable(folder());
    }

    static boolean isAvailable(Path dir) {
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(dir.resolve(s.imagesFile())) || !Files.isRegularFile(dir.resolve(s.labelsFile()))) {
                return false;
            }
        }
        return true;
    }

    /** Loads a split from {@link #folder()}. */
    public static Data load(Split split) {
        return load(folder(), split);
    }

    /** Loads a split from {@code dir}; images and labels must agree in count, labels be 0..9. */
    public static Data load(Path dir, Split split) {
        Path imgFile = dir.resolve(split.imagesFile());
        Path lblFile = dir.resolve(split.labelsFile());
        for (Path f : List.of(imgFile, lblFile)) {
            if (!Files.isRegularFile(f)) {
                throw new LitException("Fashion-MNIST file " + f + " not found (folder from " + folderSource()
                        + "); install Debian's dataset-fashion-mnist (apt install dataset-fashion-mnist) or point -D"
                        + PROPERTY + " / $" + ENV + " at a folder holding " + split.imagesFile() + " and "
                        + split.labelsFile());
            }
        }
        byte[] labels = Idx.readLabels(lblFile);
        Idx.Images images = Idx.readImages(imgFile);
        if (images.count() != labels.length) {
            throw new LitException(imgFile + " holds " + images.count() + " images but " + lblFile + " holds "
                    + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xFF) >= CLASS_NAMES.size()) {
                throw new LitException(lblFile + ": label " + (labels[i] & 0xFF) + " of image " + i
                        + " is not a Fashion-MNIST class (0..9)");
            }
        }
        return new Data(split, images.rows(), images.cols(), images.pixels(), labels);
    }

    /**
     * 2–3 descriptive captions for an image of class {@code label} (0..9), e.g. "a grayscale
     * product photo of a warm pullover", "catalogue image: ankle boot". Never a prompt template.
     */
    public static List<String> captions(int label, SplittableRandom rng) {
        if (label < 0 || label >= CLASS_NAMES.size()) {
            throw new LitException("Fashion-MNIST label " + label + " is not in 0..9");
        }
        return FashionCaptions.captions(label, rng);
    }

    /** The captions of image {@code index} under {@code seed} (independent of any limit). */
    public static List<String> captions(int label, long seed, Split split, int index) {
        return captions(label, new SplittableRandom(Scenes.mix(Scenes.mix(seed + 31L * (split.ordinal() + 1)) ^ index)));
    }

    /** Options of {@link #export(Path, Split, int, long, ExportOptions)}. */
    public record ExportOptions(int scale, boolean replace) {
        public ExportOptions {
            if (scale < 1 || scale > 16) {
                throw new LitException("Fashion-MNIST export scale " + scale + " is out of range 1..16");
            }
        }

        /** 28×28 PNGs; an existing output folder is an error. */
        public static ExportOptions defaults() {
            return new ExportOptions(1, false);
        }
    }

    /**
     * Writes the first {@code limit} images of {@code split} ({@code limit <= 0}: all of them) as a
     * captioned dataset folder: {@code images/<split>-NNNNN.png} (8-bit grayscale, 28×28) and
     * {@code captions.jsonl} with {@code label} = the class name. Captions are drawn from
     * {@code seed}; the folder appears complete or not at all.
     */
    public static void export(Path out, Split split, int limit, long seed) {
        export(out, split, limit, seed, ExportOptions.defaults());
    }

    /** As {@link #export(Path, Split, int, long)}, with integer nearest-neighbour upscaling. */
    public static void export(Path out, Split split, int limit, long seed, ExportOptions options) {
        export(out, load(split), limit, seed, options);
    }

    /** As {@link #export(Path, Split, int, long, ExportOptions)}, from data already loaded. */
    public static void export(Path out, Data data, int limit, long seed, ExportOptions options) {
        Split split = data.split();
        int n = limit <= 0 ? data.size() : Math.min(limit, data.size());
        String prefix = split.name().toLowerCase(Locale.ROOT);
        int k = options.scale();
        int w = data.cols() * k;
        int h = data.rows() * k;
        try (AtomicFolder folder = AtomicFolder.begin(out, options.replace(), false)) {
            StringBuilder jsonl = new StringBuilder(n * 140);
            byte[] scaled = new byte[w * h];
            for (int i = 0; i < n; i++) {
                byte[] img = data.images()[i];
                byte[] px = img;
                if (k > 1) {
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            scaled[y * w + x] = img[(y / k) * data.cols() + x / k];
                        }
                    }
                    px = scaled;
                }
                String image = String.format(Locale.ROOT, "images/%s-%05d.png", prefix, i);
                folder.write(image, Png.encodeGray(w, h, px));
                int label = data.label(i);
                jsonl.append(CaptionDataset.captionLine(image, captions(label, seed, split, i), CLASS_NAMES.get(label)))
                        .append('\n');
            }
            folder.writeString(CaptionDataset.JSONL, jsonl.toString());
            folder.commit();
        }
    }

    /** Class index of a class name or alias (case-insensitive), or -1. */
    public static int classIndex(String nameOrAlias) {
        String q = nameOrAlias.strip().toLowerCase(Locale.ROOT);
        for (int c = 0; c < CLASS_NAMES.size(); c++) {
            if (CLASS_NAMES.get(c).toLowerCase(Locale.ROOT).equals(q)) {
                return c;
            }
        }
        for (int c = 0; c < ALIASES.size(); c++) {
            for (String a : ALIASES.get(c).split(",")) {
                if (a.strip().equals(q)) {
                    return c;
                }
            }
        }
        return -1;
    }
}

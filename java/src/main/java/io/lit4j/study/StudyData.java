package io.lit4j.study;

import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.Png;
import io.lit4j.report.ProgressBar;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The data sets the studies tune and evaluate on, written once as caption folders and reused:
 * Fashion-MNIST with one caption per image from a {@link Captioner} (the reference recipe, a
 * language mix), subsets with a share of wrong captions, translated test images (a shifted set),
 * and any caption folder copied with rows dropped or repeated (duplicates removed or injected).
 * A folder that exists is taken as made (the name says everything it depends on).
 */
public final class StudyData {
    /** The one caption of image {@code index} of class {@code label}. */
    @FunctionalInterface
    public interface Captioner {
        String caption(int label, int index);
    }

    /** One row of a derived data set: a row of the source, its caption, and the image name it gets. */
    public record Derived(String image, byte[] bytes, String caption, String label) {
    }

    private StudyData() {
    }

    /**
     * Fashion-MNIST images {@code rows} of {@code data}, each with one caption; with {@code wrong}
     * &gt; 0 that share of rows (drawn with {@code seed}) is captioned as another class, as noisy
     * web pairs are. Labels stay the truth (the "label" field names the class, for evaluation).
     * {@code shift} &gt; 0 translates each image by up to that many pixels each way (black fill).
     */
    public static Path fashion(Path dir, FashionMnist.Data data, int[] rows, Captioner captioner, double wrong, int shift, long seed,
                               PrintStream log) {
        if (Files.isRegularFile(dir.resolve(CaptionDataset.JSONL))) {
            return dir;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x632BE59BD9B4E019L + 7);
        int w = data.cols(), h = data.rows();
        String prefix = data.split().name().toLowerCase(Locale.ROOT);
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, false);
             ProgressBar bar = new ProgressBar("data " + dir.getFileName(), rows.length, log)) {
            StringBuilder jsonl = new StringBuilder(rows.length * 100);
            for (int k = 0; k < rows.length; k++) {
                int i = rows[k];
                int label = data.label(i);
                int captionClass = label;
                if (wrong > 0 && rng.nextDouble() < wrong) {
                    captionClass = (label + 1 + rng.nextInt(9)) % 10;
                }
                byte[] px = data.images()[i];
                if (shift > 0) {
                    px = translate(px, w, h, rng.nextInt(2 * shift + 1) - shift, rng.nextInt(2 * shift + 1) - shift);
                }
                String image = String.format(Locale.ROOT, "images/%s-%05d.png", prefix, i);
                folder.write(image, Png.encodeGray(w, h, px));
                jsonl.append(CaptionDataset.captionLine(image, List.of(captioner.caption(captionClass, i)), data.className(i))).append('\n');
                bar.step();
            }
            folder.writeString(CaptionDataset.JSONL, jsonl.toString());
            folder.commit();
        }
        return dir;
    }

    /** The first {@code n} indices of a seeded permutation of {@code 0..size-1} (all of them when n is 0 or more than size). */
    public static int[] subset(int size, int n, long seed) {
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) {
            idx[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 3);
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int m = n <= 0 || n > size ? size : n;
        int[] out = Arrays.copyOf(idx, m);
        Arrays.sort(out);
        return out;
    }

    static byte[] translate(byte[] px, int w, int h, int dx, int dy) {
        byte[] out = new byte[px.length];
        for (int y = 0; y < h; y++) {
            int sy = y - dy;
            if (sy < 0 || sy >= h) {
                continue;
            }
            for (int x = 0; x < w; x++) {
                int sx = x - dx;
                if (sx >= 0 && sx < w) {
                    out[y * w + x] = px[sy * w + sx];
                }
            }
        }
        return out;
    }

    /**
     * {@code source} with rows {@code keep} kept (every caption of a row kept) and, for each of
     * {@code repeat}, that row repeated as extra byte-identical images ({@code dup-<row>-<k>}):
     * injected exact duplicates.
     */
    public static Path copy(Path source, Path dir, boolean[] keep, int[] repeat, PrintStream log) {
        try (CaptionDataset ds = CaptionDataset.open(source)) {
            if (keep.length != ds.size() || repeat.length != ds.size()) {
                throw new LitException(source + " has " + ds.size() + " rows, but the copy plan covers " + keep.length);
            }
            List<Derived> out = new ArrayList<>();
            try (ProgressBar bar = new ProgressBar("copy " + dir.getFileName(), ds.size(), log)) {
                for (CaptionDataset.Row r : ds.rows()) {
                    int i = r.index();
                    if (keep[i] || repeat[i] > 0) {
                        byte[] bytes = ds.readImage(r.image());
                        String ext = r.image().substring(r.image().lastIndexOf('.') + 1);
                        if (keep[i]) {
                            for (String c : r.captions()) {
                                out.add(new Derived(r.image(), bytes, c, r.label()));
                            }
                        }
                        for (int k = 0; k < repeat[i]; k++) {
                            out.add(new Derived(String.format(Locale.ROOT, "dup/%06d-%d.%s", i, k, ext), bytes, r.captions().getFirst(),
                                    r.label()));
                        }
                    }
                    bar.step();
                }
            }
            return write(dir, out);
        }
    }

    /**
     * {@code n} rows of {@code source} (a seeded subset; 0: all) where a {@code wrong} share of them
     * carries the caption of another row drawn at random instead of its own: few and noisy pairs.
     */
    public static Path noisy(Path source, Path dir, int n, double wrong, long seed, PrintStream log) {
        if (Files.isRegularFile(dir.resolve(CaptionDataset.JSONL))) {
            return dir;
        }
        try (CaptionDataset ds = CaptionDataset.open(source)) {
            int[] rows = subset(ds.size(), n, seed);
            SplittableRandom rng = new SplittableRandom(seed * 0xBF58476D1CE4E5B9L + 11);
            List<Derived> out = new ArrayList<>();
            try (ProgressBar bar = new ProgressBar("data " + dir.getFileName(), rows.length, log)) {
                for (int i : rows) {
                    CaptionDataset.Row r = ds.rows().get(i);
                    String caption = r.captions().getFirst();
                    if (wrong > 0 && rng.nextDouble() < wrong) {
                        int j = rng.nextInt(ds.size() - 1);
                        caption = ds.rows().get(j >= i ? j + 1 : j).captions().getFirst();
                    }
                    out.add(new Derived(r.image(), ds.readImage(r.image()), caption, r.label()));
                    bar.step();
                }
            }
            return write(dir, out);
        }
    }

    /** Writes {@code rows} as a caption folder at {@code dir} (replacing it); rows naming one image become one row of several captions. */
    public static Path write(Path dir, List<Derived> rows) {
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, false)) {
            StringBuilder jsonl = new StringBuilder(rows.size() * 100);
            Map<String, List<String>> captions = new LinkedHashMap<>();
            Map<String, Derived> first = new LinkedHashMap<>();
            for (Derived r : rows) {
                captions.computeIfAbsent(r.image(), k -> new ArrayList<>()).add(r.caption());
                first.putIfAbsent(r.image(), r);
            }
            for (Derived r : first.values()) {
                folder.write(r.image(), r.bytes());
                jsonl.append(CaptionDataset.captionLine(r.image(), captions.get(r.image()), r.label())).append('\n');
            }
            folder.writeString(CaptionDataset.JSONL, jsonl.toString());
            folder.commit();
        }
        return dir;
    }
}

package io.lit4j.spark;

import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Images;
import io.lit4j.dedup.DedupRule;
import io.lit4j.dedup.ExactKeys;
import io.lit4j.dedup.NearDuplicates;
import io.lit4j.dedup.PerceptualHash;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code neighbours} job on local[2] finds exactly the pairs the core rule finds in memory
 * ({@link NearDuplicates#find}, exact keys grouped by hand) on a corpus with planted duplicates:
 * a byte copy, a rescaled copy, a repeated caption, and copies of corpus images in an evaluation set.
 */
class NeighboursJobTest {
    @TempDir
    Path dir;

    @Test
    void findsThePairsTheCoreRuleFindsInMemory() throws Exception {
        Path corpus = SparkTests.scenes(dir, 40, 2, 33);
        Path images = corpus.resolve("images");
        Files.copy(images.resolve("000001.png"), images.resolve("copy-of-1.png"));
        // a near copy whatever the tower: one pixel nudged (a rescaled copy's cosine depends on the tower, and a 48 px one
        // fell below 0.95 with the v2 default model); rescaled copies are still planted against the evaluation set below
        BufferedImage nudged = ImageIO.read(images.resolve("000002.png").toFile());
        nudged.setRGB(0, 0, nudged.getRGB(0, 0) ^ 0x000101);
        Files.write(images.resolve("scaled-2.png"), png(nudged));
        Files.copy(images.resolve("000003.png"), images.resolve("other.png"));
        appendRow(corpus, "images/copy-of-1.png", "a copy");
        appendRow(corpus, "images/scaled-2.png", "a rescaled copy");
        appendRow(corpus, "images/other.png", "  A BROKEN picture, 0!");     // the caption of bad00, normalised
        Path eval = dir.resolve("eval");
        Files.createDirectories(eval.resolve("images"));
        Files.copy(images.resolve("000004.png"), eval.resolve("images/e4.png"));
        Files.write(eval.resolve("images/e5.png"), png(scaled(ImageIO.read(images.resolve("000005.png").toFile()), 40)));
        Files.writeString(eval.resolve(CaptionDataset.JSONL), CaptionDataset.captionLine("images/e4.png", List.of("held out four"), null) + "\n"
                + CaptionDataset.captionLine("images/e5.png", List.of("held out five"), null) + "\n");

        SparkTests.local();
        Path out = dir.resolve("pairs.parquet");
        SparkTests.job("neighbours", "--images", corpus.toString(), "--eval", eval.toString(), "--out", out.toString(), "--partitions", "3",
                "--threads", "1");
        Set<String> got = new HashSet<>();
        for (Row r : SparkTests.local().read().parquet(out.toString()).collectAsList()) {
            got.add(r.getString(2) + " " + r.getString(0) + " " + r.getString(1) + " " + r.getBoolean(5));
        }

        Set<String> expected = expected(corpus, eval);
        String evalPrefix = eval.toAbsolutePath().normalize() + ":";
        for (String planted : List.of("pixels images/000001.png images/copy-of-1.png false", "near images/000002.png images/scaled-2.png false",
                "caption images/bad00.png images/other.png false", "pixels images/000004.png " + evalPrefix + "images/e4.png true",
                "near images/000005.png " + evalPrefix + "images/e5.png true")) {
            assertTrue(expected.contains(planted), "the reference finds the planted " + planted + " in " + expected);
        }
        assertEquals(expected, got);
    }

    /** The pairs by the core classes on one machine: embeddings from LitModel, keys from ExactKeys and PerceptualHash. */
    private static Set<String> expected(Path corpus, Path eval) {
        List<String> ids = new ArrayList<>();
        List<Boolean> isEval = new ArrayList<>();
        List<BufferedImage> decoded = new ArrayList<>();           // null for a corrupt image: it still has captions
        List<List<String>> captions = new ArrayList<>();
        for (Path p : List.of(corpus, eval)) {
            try (CaptionDataset ds = CaptionDataset.open(p)) {
                for (CaptionDataset.Row r : ds.rows()) {
                    BufferedImage img;
                    try {
                        img = Images.decode(ds.readImage(r.image()), r.image());
                    } catch (RuntimeException e) {
                        img = null;
                    }
                    decoded.add(img);
                    ids.add(p == eval ? eval.toAbsolutePath().normalize() + ":" + r.image() : r.image());
                    isEval.add(p == eval);
                    captions.add(r.captions());
                }
            }
        }
        Set<String> out = new HashSet<>();
        List<NearDuplicates.Item> items = new ArrayList<>();
        Map<String, List<Integer>> pixels = new HashMap<>(), caps = new HashMap<>();
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(1))) {
            for (int i = 0; i < ids.size(); i++) {
                if (decoded.get(i) != null) {
                    BufferedImage img = decoded.get(i);
                    items.add(new NearDuplicates.Item(i, PerceptualHash.of(img), model.embedImage(img), isEval.get(i)));
                    pixels.computeIfAbsent(ExactKeys.pixels(img), k -> new ArrayList<>()).add(i);
                }
                for (String c : new HashSet<>(captions.get(i).stream().map(ExactKeys::caption).filter(java.util.Objects::nonNull).toList())) {
                    caps.computeIfAbsent(c, k -> new ArrayList<>()).add(i);
                }
            }
        }
        for (NearDuplicates.Pair p : NearDuplicates.find(items, DedupRule.DEFAULT)) {
            int a = (int) p.a(), b = (int) p.b();
            boolean aFirst = isEval.get(b) || (!isEval.get(a) && ids.get(a).compareTo(ids.get(b)) < 0);
            out.add("near " + ids.get(aFirst ? a : b) + " " + ids.get(aFirst ? b : a) + " " + p.againstEval());
        }
        for (var kind : Map.of("pixels", pixels, "caption", caps).entrySet()) {
            for (List<Integer> g : kind.getValue().values()) {
                List<Integer> sorted = new ArrayList<>(g);
                sorted.sort((x, y) -> isEval.get(x) != isEval.get(y) ? Boolean.compare(isEval.get(x), isEval.get(y)) : ids.get(x).compareTo(ids.get(y)));
                if (sorted.size() > 1 && !isEval.get(sorted.get(0))) {
                    for (int m : sorted.subList(1, sorted.size())) {
                        out.add(kind.getKey() + " " + ids.get(sorted.get(0)) + " " + ids.get(m) + " " + isEval.get(m));
                    }
                }
            }
        }
        return out;
    }

    private static void appendRow(Path ds, String image, String caption) throws Exception {
        Files.writeString(ds.resolve(CaptionDataset.JSONL), CaptionDataset.captionLine(image, List.of(caption), null) + "\n", StandardOpenOption.APPEND);
    }

    private static BufferedImage scaled(BufferedImage img, int side) {
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, side, side, null);
        g.dispose();
        return out;
    }

    private static byte[] png(BufferedImage img) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }
}

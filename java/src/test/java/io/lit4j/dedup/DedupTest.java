package io.lit4j.dedup;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The de-duplication rule on real images (the shipped Fashion-MNIST samples), each fast part held
 * to a slow obvious twin: the separable DCT to the 2-D formula, the area shrink to pixel
 * replication, and blocked candidate search to comparing every pair.
 */
class DedupTest {
    private static List<BufferedImage> samples() throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(DefaultModel.samples())) {
            for (Path p : files.filter(f -> f.toString().endsWith(".png")).sorted().toList()) {
                BufferedImage read = ImageIO.read(p.toFile()), rgb = new BufferedImage(read.getWidth(), read.getHeight(), BufferedImage.TYPE_INT_RGB);
                rgb.setRGB(0, 0, read.getWidth(), read.getHeight(), read.getRGB(0, 0, read.getWidth(), read.getHeight(), null, 0, read.getWidth()), 0,
                        read.getWidth()); // as RGB, so that scaling and JPEG do not also convert grey spaces
                out.add(rgb);
            }
        }
        assertTrue(out.size() >= 10, "the shipped samples");
        return out;
    }

    @Test
    void alteredCopiesOfAnImageAreWithinTheHammingBoundAndOtherImagesAreNot() throws IOException {
        List<BufferedImage> images = samples();
        for (BufferedImage img : images) {
            long h = PerceptualHash.of(img);
            assertEquals(0, PerceptualHash.distance(h, PerceptualHash.of(reencodedPng(img))), "a lossless re-encoding");
            assertTrue(PerceptualHash.distance(h, PerceptualHash.of(scaled(img, 3))) <= 4, "scaled 3x");
            assertTrue(PerceptualHash.distance(h, PerceptualHash.of(brightened(img, 12))) <= 4, "brightened");
            assertTrue(PerceptualHash.distance(h, PerceptualHash.of(jpeg(scaled(img, 2)))) <= DedupRule.DEFAULT.maxHamming(), "scaled, JPEG");
        }
        for (int i = 0; i < images.size(); i++) {
            for (int j = i + 1; j < images.size(); j++) {
                assertTrue(PerceptualHash.distance(PerceptualHash.of(images.get(i)), PerceptualHash.of(images.get(j)))
                        > DedupRule.DEFAULT.maxHamming(), "samples " + i + " and " + j + " are different garments");
            }
        }
    }

    @Test
    void theSeparableDctEqualsTheTwoDimensionalFormula() {
        Random r = new Random(3);
        double[] img = new double[PerceptualHash.SIDE * PerceptualHash.SIDE];
        for (int i = 0; i < img.length; i++) {
            img[i] = r.nextDouble() * 255;
        }
        double[] fast = PerceptualHash.lowFrequencies(img);
        int n = PerceptualHash.SIDE;
        for (int u = 0; u < PerceptualHash.BLOCK; u++) {
            for (int v = 0; v < PerceptualHash.BLOCK; v++) {
                double s = 0;
                for (int y = 0; y < n; y++) {
                    for (int x = 0; x < n; x++) {
                        s += img[y * n + x] * Math.cos(Math.PI * u * (2 * y + 1) / (2.0 * n)) * Math.cos(Math.PI * v * (2 * x + 1) / (2.0 * n));
                    }
                }
                assertEquals(4 * s, fast[u * PerceptualHash.BLOCK + v], 1e-6 * Math.abs(s) + 1e-6, "coefficient " + u + "," + v);
            }
        }
    }

    /** The area shrink equals replicating every pixel 32 x 32 times and averaging blocks of w x h: exact coverage, odd sizes. */
    @Test
    void theAreaShrinkEqualsAveragingAReplicatedImage() {
        Random r = new Random(4);
        for (int[] size : new int[][] {{37, 23}, {28, 28}, {5, 70}, {1, 1}, {64, 32}}) {
            int w = size[0], h = size[1], n = PerceptualHash.SIDE;
            double[] g = new double[w * h];
            for (int i = 0; i < g.length; i++) {
                g[i] = r.nextDouble() * 255;
            }
            double[] fast = PerceptualHash.shrink(g, w, h);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int yy = i * h; yy < (i + 1) * h; yy++) {        // rows of the image replicated n times: yy / n
                        for (int xx = j * w; xx < (j + 1) * w; xx++) {
                            s += g[(yy / n) * w + xx / n];
                        }
                    }
                    assertEquals(s / ((double) w * h), fast[i * n + j], 1e-9, w + "x" + h + " cell " + i + "," + j);
                }
            }
        }
    }

    @Test
    void exactKeysSeeDecodedPixelsAndNormalisedCaptions() throws IOException {
        BufferedImage img = samples().get(0);
        assertEquals(ExactKeys.pixels(img), ExactKeys.pixels(reencodedPng(img)), "the same pixels in another file");
        assertNotEquals(ExactKeys.pixels(img), ExactKeys.pixels(brightened(img, 1)), "one grey level brighter");
        assertEquals("a cat on a mat", ExactKeys.normaliseCaption("  A Cat, on a MAT!! "));
        assertEquals(ExactKeys.caption("A cat on a mat."), ExactKeys.caption("a  cat\ton a mat"));
        assertEquals(ExactKeys.caption("ｃａｔ"), ExactKeys.caption("cat"), "full-width letters (NFKC)");
        assertNotEquals(ExactKeys.caption("a cat"), ExactKeys.caption("a cap"));
        assertNull(ExactKeys.caption(" ... "), "no words: matches nothing");
        assertThrows(LitException.class, () -> ExactKeys.pixels(new int[5], 2, 2));
    }

    /** Blocked search finds exactly the pairs that comparing every pair finds, each once, on hashes with planted neighbours. */
    @Test
    void blockedSearchEqualsComparingEveryPair() {
        Random r = new Random(5);
        for (DedupRule rule : List.of(DedupRule.DEFAULT, new DedupRule(10, 0.95f, 0.9f, 11), new DedupRule(7, 0.8f, 0.7f, 3))) {
            List<NearDuplicates.Item> items = new ArrayList<>();
            int dim = 9;
            for (int i = 0; i < 300; i++) {
                long hash;
                float[] z = new float[dim];
                if (i > 0 && r.nextInt(3) == 0) {                // near an earlier one: 0..14 bits flipped, embedding nudged
                    NearDuplicates.Item base = items.get(r.nextInt(items.size()));
                    hash = base.hash();
                    for (int f = r.nextInt(15); f > 0; f--) {
                        hash ^= 1L << r.nextInt(64);
                    }
                    for (int k = 0; k < dim; k++) {
                        z[k] = base.embedding()[k] + (float) (r.nextGaussian() * 0.25 * r.nextDouble());
                    }
                } else {
                    hash = r.nextLong();
                    for (int k = 0; k < dim; k++) {
                        z[k] = (float) r.nextGaussian();
                    }
                }
                items.add(new NearDuplicates.Item(1000 + i * 7L, hash, z, r.nextInt(5) == 0));
            }
            List<NearDuplicates.Pair> slow = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                for (int j = i + 1; j < items.size(); j++) {
                    NearDuplicates.Item a = items.get(i), b = items.get(j);
                    int d = PerceptualHash.distance(a.hash(), b.hash());
                    float cos = DedupRule.cosineOf(a.embedding(), b.embedding());
                    boolean eval = a.eval() || b.eval();
                    if (!(a.eval() && b.eval()) && d <= rule.maxHamming() && rule.confirmed(cos, eval)) {
                        slow.add(new NearDuplicates.Pair(a.row(), b.row(), d, cos, eval));
                    }
                }
            }
            List<NearDuplicates.Pair> fast = NearDuplicates.find(items, rule);
            assertTrue(slow.size() > 20, rule + ": planted pairs found " + slow.size());
            assertEquals(slow, fast, rule.toString());
            Set<List<Long>> seen = new HashSet<>();
            fast.forEach(p -> assertTrue(seen.add(List.of(p.a(), p.b())), "pair " + p + " once"));
        }
    }

    @Test
    void probeKeysAreEveryValueWithinTheRadius() {
        DedupRule rule = DedupRule.DEFAULT;
        long h = 0x9e3779b97f4a7c15L;
        long[] probes = rule.blockKeys(h, false);
        int expected = 0;
        for (int b = 0; b < rule.bands(); b++) {
            expected += rule.bandBits(b); // radius 1: one key per bit of the band
        }
        assertEquals(expected, probes.length);
        assertEquals(expected, new HashSet<>(java.util.Arrays.stream(probes).boxed().toList()).size(), "distinct");
        for (long k : probes) {
            int band = DedupRule.bandOf(k);
            assertEquals(1, Integer.bitCount((int) k ^ rule.bandValue(h, band)));
        }
        assertArrayEquals(new long[] {DedupRule.blockKey(0, rule.bandValue(h, 0))}, java.util.Arrays.copyOf(rule.blockKeys(h, true), 1));
        assertThrows(LitException.class, () -> new DedupRule(10, 0.95f, 0.9f, 2), "5 bits per band to probe");
    }

    /** The same pixels through another PNG writer (the samples were written by lit4j's own). */
    private static BufferedImage reencodedPng(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return ImageIO.read(new ByteArrayInputStream(out.toByteArray()));
    }

    private static BufferedImage jpeg(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        rgb.getGraphics().drawImage(img, 0, 0, null);
        ImageIO.write(rgb, "jpg", out);
        return ImageIO.read(new ByteArrayInputStream(out.toByteArray()));
    }

    private static BufferedImage scaled(BufferedImage img, int f) {
        BufferedImage out = new BufferedImage(img.getWidth() * f, img.getHeight() * f, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, out.getWidth(), out.getHeight(), null);
        g.dispose();
        return out;
    }

    private static BufferedImage brightened(BufferedImage img, int by) {
        BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y), q = 0;
                for (int s = 0; s < 24; s += 8) {
                    q |= Math.min(255, ((p >> s) & 255) + by) << s;
                }
                out.setRGB(x, y, q);
            }
        }
        return out;
    }
}

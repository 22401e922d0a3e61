package io.lit4j.dedup;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * A 64-bit perceptual hash of an image: the DCT hash ("pHash") as the imagehash library computes
 * it (JohannesBuchner/imagehash, {@code imagehash/__init__.py}, {@code phash} with hash_size 8 and
 * highfreq_factor 4): grey levels, shrunk to 32×32, a 2-D DCT-II, its top-left 8×8 block, and one
 * bit per coefficient: above the block's median or not. Images that look alike (re-encoded,
 * resized, slightly brightened) get hashes a few bits apart; unrelated images differ in about half
 * of the 64 bits.
 *
 * <p>Two deliberate differences from imagehash, so that a short numpy transcription can check the
 * bits exactly ({@code java/src/test/reference/make_dedup_golden.py}): the shrink is an exact area
 * average (box filter with fractional coverage) rather than PIL's Lanczos, and the grey level is
 * ITU-R 601 luma in doubles ({@code 0.299 R + 0.587 G + 0.114 B}) rather than PIL's rounded
 * integer. Hand-written: no maintained Java library computes this hash (the ones on Maven Central
 * are unmaintained single-author ports with their own resampling), and it is forty lines.
 *
 * <p>Bit order: coefficient {@code (u, v)} of the 8×8 block (row-major, {@code i = 8u + v}) is bit
 * {@code 63 - i}, so {@link #hex} reads like imagehash's {@code str(hash)}.
 */
public final class PerceptualHash {
    /** Side of the grey image the DCT is taken of. */
    public static final int SIDE = 32;
    /** Side of the low-frequency block kept. */
    public static final int BLOCK = 8;

    private static final double[][] COS = cosines();

    private PerceptualHash() {
    }

    /** The hash of a decoded image (any size ≥ 1×1; alpha is ignored). */
    public static long of(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        return of(argb, w, h);
    }

    /** The hash of packed ARGB pixels, row-major. */
    public static long of(int[] argb, int width, int height) {
        return bits(lowFrequencies(shrink(grey(argb, width, height), width, height)));
    }

    /** Hamming distance: the number of bits in which two hashes differ. */
    public static int distance(long a, long b) {
        return Long.bitCount(a ^ b);
    }

    /** 16 hex digits, most significant first. */
    public static String hex(long hash) {
        return String.format("%016x", hash);
    }

    static double[] grey(int[] argb, int w, int h) {
        double[] g = new double[w * h];
        for (int i = 0; i < g.length; i++) {
            int p = argb[i];
            g[i] = 0.299 * ((p >> 16) & 255) + 0.587 * ((p >> 8) & 255) + 0.114 * (p & 255);
        }
        return g;
    }

    /** {@code [SIDE, SIDE]}: each output cell the mean of the source area it covers (exact fractional coverage). */
    static double[] shrink(double[] grey, int w, int h) {
        double[][] wx = coverage(w), wy = coverage(h);
        double[] rows = new double[h * SIDE];                 // [h, SIDE]: each row shrunk along x
        for (int y = 0; y < h; y++) {
            for (int j = 0; j < SIDE; j++) {
                double s = 0;
                for (int x = 0; x < w; x++) {
                    s += wx[j][x] * grey[y * w + x];
                }
                rows[y * SIDE + j] = s;
            }
        }
        double[] out = new double[SIDE * SIDE];
        for (int i = 0; i < SIDE; i++) {
            for (int j = 0; j < SIDE; j++) {
                double s = 0;
                for (int y = 0; y < h; y++) {
                    s += wy[i][y] * rows[y * SIDE + j];
                }
                out[i * SIDE + j] = s;
            }
        }
        return out;
    }

    /** {@code [SIDE][n]}: the share of source pixel {@code x} in output cell {@code j}; each row sums to 1. */
    static double[][] coverage(int n) {
        double[][] wt = new double[SIDE][n];
        double cell = (double) n / SIDE;
        for (int j = 0; j < SIDE; j++) {
            double lo = j * cell, hi = (j + 1) * cell;
            for (int x = (int) Math.floor(lo); x < Math.min(n, (int) Math.ceil(hi)); x++) {
                wt[j][x] = (Math.min(hi, x + 1) - Math.max(lo, x)) / cell;
            }
        }
        return wt;
    }

    /** The top-left {@code BLOCK×BLOCK} of the unnormalised 2-D DCT-II (scipy.fftpack.dct along axis 0, then axis 1). */
    static double[] lowFrequencies(double[] img) {
        double[] colDct = new double[BLOCK * SIDE];            // [u, x]: along y (axis 0)
        for (int u = 0; u < BLOCK; u++) {
            for (int x = 0; x < SIDE; x++) {
                double s = 0;
                for (int y = 0; y < SIDE; y++) {
                    s += COS[u][y] * img[y * SIDE + x];
                }
                colDct[u * SIDE + x] = 2 * s;
            }
        }
        double[] out = new double[BLOCK * BLOCK];
        for (int u = 0; u < BLOCK; u++) {
            for (int v = 0; v < BLOCK; v++) {
                double s = 0;
                for (int x = 0; x < SIDE; x++) {
                    s += COS[v][x] * colDct[u * SIDE + x];
                }
                out[u * BLOCK + v] = 2 * s;
            }
        }
        return out;
    }

    static long bits(double[] low) {
        double[] sorted = low.clone();
        Arrays.sort(sorted);
        double median = (sorted[31] + sorted[32]) / 2;       // numpy.median of 64 values
        long h = 0;
        for (int i = 0; i < 64; i++) {
            if (low[i] > median) {
                h |= 1L << (63 - i);
            }
        }
        return h;
    }

    private static double[][] cosines() {
        double[][] c = new double[BLOCK][SIDE];
        for (int k = 0; k < BLOCK; k++) {
            for (int n = 0; n < SIDE; n++) {
                c[k][n] = Math.cos(Math.PI * k * (2 * n + 1) / (2.0 * SIDE));
            }
        }
        return c;
    }
}

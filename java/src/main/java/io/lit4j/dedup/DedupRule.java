package io.lit4j.dedup;

import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.List;

/**
 * lit4j's near-duplicate rule, and the blocking that finds its candidates without comparing every
 * image with every other.
 *
 * <p><b>The rule.</b> Two images are near duplicates when their {@linkplain PerceptualHash
 * perceptual hashes} differ in at most {@link #maxHamming} bits (a cheap candidate test) <i>and</i>
 * the cosine of their locked image tower's embeddings is at least {@link #cosine} (the
 * confirmation: the hash alone calls flat, dark or synthetic images alike far too often). Against
 * an evaluation set the confirmation is looser, {@link #evalCosine}, because a training image that
 * is merely close to a test image already inflates the score. Exact duplicates are simpler and are
 * keyed by {@link ExactKeys}.
 *
 * <p><b>Blocking.</b> The 64 hash bits are cut into {@link #bands} bands. If two hashes differ in at
 * most {@code d} bits in all, some band differs in at most {@code r = d / bands} bits (pigeonhole),
 * so every candidate pair shares a block {@code (band, value)} in which one image is a <i>home</i>
 * member (its own band value) and the other a home or <i>probe</i> member (a band value within
 * {@code r} bits of its own). {@link #blockKeys} lists an image's blocks; {@link #candidates} runs
 * one block and emits each pair exactly once over all blocks (in its first qualifying band, in the
 * block of the smaller row), so blocks can run anywhere, in any order, with no global de-duplication.
 * With the defaults (d = 10, 6 bands of 10 or 11 bits, r = 1) an image has 6 home and about 63 probe
 * keys and a block holds about n / 2048 home members. A block is compared all against all, so an
 * image set where one hash value dominates (thousands of identical flat images) makes one large
 * block: take exact duplicates out first.
 *
 * @param maxHamming most differing hash bits of a candidate pair (0..63)
 * @param cosine     least embedding cosine that confirms a pair within a corpus
 * @param evalCosine least cosine that confirms a pair of a corpus image and an evaluation image
 * @param bands      bands the hash is cut into (1..16)
 */
public record DedupRule(int maxHamming, float cosine, float evalCosine, int bands) {
    /** Hamming ≤ 10 as candidates, cosine ≥ 0.95 to confirm (≥ 0.9 against evaluation sets), 6 bands. */
    public static final DedupRule DEFAULT = new DedupRule(10, 0.95f, 0.9f, 6);

    public DedupRule {
        if (maxHamming < 0 || maxHamming > 63 || bands < 1 || bands > 16 || !(cosine >= -1 && cosine <= 1)
                || !(evalCosine >= -1 && evalCosine <= 1)) {
            throw new LitException("dedup rule: max Hamming " + maxHamming + " (0..63), bands " + bands + " (1..16), cosine " + cosine
                    + " and eval cosine " + evalCosine + " (-1..1)");
        }
        if (maxHamming / bands > 3) {
            throw new LitException("dedup rule: " + bands + " bands for Hamming " + maxHamming + " leaves " + maxHamming / bands
                    + " bits per band to probe (at most 3); use more bands");
        }
    }

    /** One image in one block: its row, its hash, whether it is an evaluation image and whether this block is its home. */
    public record Member(long row, long hash, boolean eval, boolean home) {
    }

    /** A pair whose hashes are within {@link #maxHamming}: rows {@code a < b}, their distance, and whether one is an evaluation image. */
    public record Candidate(long a, long b, int hamming, boolean againstEval) {
    }

    /** Bits each band may differ by in a candidate pair, at least one band at most this. */
    public int radius() {
        return maxHamming / bands;
    }

    /** Whether two hashes are close enough to be a candidate pair. */
    public boolean candidate(long a, long b) {
        return PerceptualHash.distance(a, b) <= maxHamming;
    }

    /** Whether a candidate pair with embedding cosine {@code cos} is a near duplicate. */
    public boolean confirmed(float cos, boolean againstEval) {
        return cos >= (againstEval ? evalCosine : cosine);
    }

    /** The cosine of two embeddings (any norm; 0 for a zero vector). */
    public static float cosineOf(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new LitException("dedup: embeddings of dimensions " + a.length + " and " + b.length);
        }
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0f : (float) (dot / Math.sqrt(na * nb));
    }

    // ------------------------------------------------------------------ bands and blocks

    /** Bits of band {@code b}: 64 / bands, the first 64 % bands bands one bit more. */
    public int bandBits(int b) {
        return 64 / bands + (b < 64 % bands ? 1 : 0);
    }

    private int bandShift(int b) {
        int s = 0;
        for (int i = 0; i < b; i++) {
            s += bandBits(i);
        }
        return s;
    }

    /** The value of band {@code b} of a hash. */
    public int bandValue(long hash, int b) {
        return (int) ((hash >>> bandShift(b)) & ((1L << bandBits(b)) - 1));
    }

    /** The block key of {@code (band, value)}: the band in the high 32 bits, the value in the low. */
    public static long blockKey(int band, int value) {
        return ((long) band << 32) | (value & 0xffffffffL);
    }

    /** The band of a block key. */
    public static int bandOf(long blockKey) {
        return (int) (blockKey >>> 32);
    }

    /** The first band in which two hashes differ by at most {@link #radius} bits; -1 if none (then they are no candidate). */
    public int firstBand(long a, long b) {
        for (int band = 0; band < bands; band++) {
            if (Integer.bitCount(bandValue(a, band) ^ bandValue(b, band)) <= radius()) {
                return band;
            }
        }
        return -1;
    }

    /** The blocks an image joins: as {@code home} its own value in each band, else every other value within {@link #radius} bits of it. */
    public long[] blockKeys(long hash, boolean home) {
        List<Long> keys = new ArrayList<>();
        for (int band = 0; band < bands; band++) {
            int v = bandValue(hash, band);
            if (home) {
                keys.add(blockKey(band, v));
            } else {
                probe(band, v, bandBits(band), 0, radius(), keys);
            }
        }
        return keys.stream().mapToLong(Long::longValue).toArray();
    }

    /** Every value reached from {@code v} by flipping 1..left bits at positions ≥ from. */
    private static void probe(int band, int v, int bits, int from, int left, List<Long> out) {
        if (left == 0) {
            return;
        }
        for (int bit = from; bit < bits; bit++) {
            int w = v ^ (1 << bit);
            out.add(blockKey(band, w));
            probe(band, w, bits, bit + 1, left - 1, out);
        }
    }

    /**
     * The candidate pairs of one block, each pair of the whole corpus emitted by exactly one block:
     * pairs with at least one home member, whose first qualifying band is this block's band, within
     * {@link #maxHamming} in all; a home–probe pair only in the block whose home member has the smaller
     * row. Pairs of two evaluation images are not wanted and not emitted.
     */
    public List<Candidate> candidates(long blockKey, List<Member> members) {
        int band = bandOf(blockKey);
        List<Candidate> out = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            Member h = members.get(i);
            if (!h.home()) {
                continue;
            }
            for (int j = 0; j < members.size(); j++) {
                Member m = members.get(j);
                if (m.row() == h.row() || (m.home() ? j <= i : m.row() < h.row()) || (h.eval() && m.eval())) {
                    continue; // a home pair once (i < j); a home-probe pair where the home row is the smaller
                }
                int d = PerceptualHash.distance(h.hash(), m.hash());
                if (d <= maxHamming && firstBand(h.hash(), m.hash()) == band) {
                    out.add(new Candidate(Math.min(h.row(), m.row()), Math.max(h.row(), m.row()), d, h.eval() || m.eval()));
                }
            }
        }
        return out;
    }
}

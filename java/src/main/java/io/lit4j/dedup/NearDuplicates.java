package io.lit4j.dedup;

import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Near-duplicate pairs of a set of images held in memory, by {@link DedupRule}: images are put
 * into their blocks, each block yields its {@linkplain DedupRule#candidates candidates}, and each
 * candidate is confirmed by the cosine of the two embeddings. This is the one-machine driver of
 * the rule; the Spark {@code neighbours} job runs the same two steps ({@link DedupRule#candidates}
 * per block, {@link #confirm} per candidate) with the blocks spread over executors.
 *
 * <pre>{@code
 * List<NearDuplicates.Item> items = ...; // row, PerceptualHash.of(image), embedding, from an evaluation set?
 * for (NearDuplicates.Pair p : NearDuplicates.find(items, DedupRule.DEFAULT)) { ... }
 * }</pre>
 */
public final class NearDuplicates {
    /** An image: a unique row number, its perceptual hash, its (locked tower's) embedding, whether it is from an evaluation set. */
    public record Item(long row, long hash, float[] embedding, boolean eval) {
    }

    /** A confirmed near-duplicate pair, rows {@code a < b}. */
    public record Pair(long a, long b, int hamming, float cosine, boolean againstEval) {
    }

    private NearDuplicates() {
    }

    /** Every near-duplicate pair among {@code items}, ordered by rows. */
    public static List<Pair> find(List<Item> items, DedupRule rule) {
        Map<Long, Item> byRow = new HashMap<>();
        Map<Long, List<DedupRule.Member>> blocks = new HashMap<>();
        for (Item it : items) {
            if (byRow.put(it.row(), it) != null) {
                throw new LitException("near duplicates: row " + it.row() + " is given twice");
            }
            for (boolean home : new boolean[] {true, false}) {
                for (long key : rule.blockKeys(it.hash(), home)) {
                    blocks.computeIfAbsent(key, k -> new ArrayList<>()).add(new DedupRule.Member(it.row(), it.hash(), it.eval(), home));
                }
            }
        }
        List<Pair> out = new ArrayList<>();
        for (var block : blocks.entrySet()) {
            for (DedupRule.Candidate c : rule.candidates(block.getKey(), block.getValue())) {
                Pair p = confirm(rule, c, byRow.get(c.a()).embedding(), byRow.get(c.b()).embedding());
                if (p != null) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(Pair::a).thenComparingLong(Pair::b));
        return out;
    }

    /** The pair a candidate is when the cosine of its embeddings confirms it, else null. */
    public static Pair confirm(DedupRule rule, DedupRule.Candidate c, float[] embeddingA, float[] embeddingB) {
        float cos = DedupRule.cosineOf(embeddingA, embeddingB);
        return rule.confirmed(cos, c.againstEval()) ? new Pair(c.a(), c.b(), c.hamming(), cos, c.againstEval()) : null;
    }
}

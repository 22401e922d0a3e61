/**
 * The de-duplication rule, written once for every caller (the Spark {@code neighbours} job now;
 * the planned {@code lit4j dedup} command builds on the same classes).
 *
 * <ul>
 *   <li>Exact duplicates: {@link io.lit4j.dedup.ExactKeys#pixels} (SHA-256 of the decoded pixels) and
 *       {@link io.lit4j.dedup.ExactKeys#caption} (of the normalised caption text); equal keys are duplicates.</li>
 *   <li>Near duplicates: {@link io.lit4j.dedup.PerceptualHash} (64-bit DCT hash) within
 *       {@link io.lit4j.dedup.DedupRule#maxHamming} bits as candidates, confirmed by the cosine of the
 *       locked image tower's embeddings ({@link io.lit4j.dedup.DedupRule#DEFAULT}: Hamming ≤ 10,
 *       cosine ≥ 0.95, ≥ 0.9 against evaluation sets).</li>
 *   <li>Blocking: {@link io.lit4j.dedup.DedupRule#blockKeys} and {@link io.lit4j.dedup.DedupRule#candidates}
 *       (multi-index hashing over hash bands: linear in the corpus, no global de-duplication of pairs);
 *       {@link io.lit4j.dedup.NearDuplicates#find} runs them in memory on one machine.</li>
 * </ul>
 */
package io.lit4j.dedup;

package io.lit4j.cli;

import io.lit4j.dedup.DedupRule;
import picocli.CommandLine.Option;

/**
 * The thresholds of the core's near-duplicate rule ({@link DedupRule}), as {@code lit4j dedup} and
 * {@code lit4j study duplicates} both take them; the defaults are {@link DedupRule#DEFAULT}'s.
 */
final class DedupRuleOptions {
    @Option(names = "--max-hamming", description = "most differing perceptual-hash bits of a candidate pair")
    int maxHamming = DedupRule.DEFAULT.maxHamming();

    @Option(names = "--cosine", description = "least embedding cosine that confirms a pair within the set")
    float cosine = DedupRule.DEFAULT.cosine();

    @Option(names = "--eval-cosine", description = "least cosine that confirms a pair with an evaluation image")
    float evalCosine = DedupRule.DEFAULT.evalCosine();

    DedupRule rule() {
        return new DedupRule(maxHamming, cosine, evalCosine, DedupRule.DEFAULT.bands());
    }
}

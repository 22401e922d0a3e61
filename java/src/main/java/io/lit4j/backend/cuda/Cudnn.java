package io.lit4j.backend.cuda;

import io.lit4j.bindings.cudnn.cudnn_h;

/**
 * cuDNN through the generated {@code cudnn_h}: today only its version, for {@code lit4j info}.
 * The fused scaled-dot-product attention of cuDNN's graph API (the plan for bf16
 * attention) is not written yet: lit4j's attention contract hands back the probabilities for
 * the backward pass, which a fused SDPA never materialises, so the cuda backend runs attention
 * as two strided-batched cuBLASLt GEMMs around lit4j's masked softmax kernel instead.
 */
final class Cudnn {
    private Cudnn() {
    }

    /** cuDNN's version as major * 10000 + minor * 100 + patch (90600 for 9.6.0). */
    static long version() {
        return cudnn_h.cudnnGetVersion();
    }
}

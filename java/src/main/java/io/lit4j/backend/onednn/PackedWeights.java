package io.lit4j.backend.onednn;

import io.lit4j.tensor.DType;
import io.lit4j.tensor.HostBacked;

import java.lang.foreign.MemorySegment;

/**
 * Weights reordered into the blocked layout oneDNN's matmul reads fastest, named by
 * {@code layout} (a key into the backend's descriptor cache); {@code precision} is the element type
 * they were converted to (F32, or BF16 for bf16 products with fp32 accumulation).
 */
record PackedWeights(MemorySegment segment, String layout, DType precision, int k, int m) implements HostBacked {
    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public String device() {
        return "host (oneDNN blocked " + layout + ")";
    }
}

package io.lit4j.simd;

import java.lang.foreign.MemorySegment;

/**
 * The row-wise kernels that run in Java rather than in a backend library: the attention softmax
 * and its backward, L2 normalisation, column sums, dot products, AdamW and the contrastive loss's
 * log-sum-exps. Two implementations:
 * {@link VectorKernels} (the Vector API, used when {@code jdk.incubator.vector} is loaded) and
 * {@link PlainKernels} (plain loops, its slow twin and the fallback); {@link #get()} picks one per
 * JVM. Offsets and lengths are in fp32 elements; segments hold native-order fp32. Every method is
 * deterministic: the same inputs give the same bits in every execution mode.
 */
public interface Kernels {
    /** The kernels this JVM runs: the Vector API ones when the module is loaded, plain loops otherwise. */
    static Kernels get() {
        return KernelChoice.KERNELS;
    }

    /** One line for {@code lit4j info}: which kernels run, and how wide. */
    String describe();

    /** Sum of a[ao+i] * b[bo+i] for i in [0, n). */
    float dot(MemorySegment a, long ao, MemorySegment b, long bo, int n);

    /**
     * In-place softmax of s[o..o+n) with max subtraction. When {@code keep} is non-null, the
     * positions where keep[ko+i] == 0 get probability exactly 0 (the row's max is taken over the
     * kept ones). A row with nothing kept, or all -inf, becomes all zeros.
     */
    void softmax(MemorySegment s, long o, int n, MemorySegment keep, long ko);

    /** s[o+i] *= k. */
    void scale(MemorySegment s, long o, int n, float k);

    /** acc[i] += s[o+i] for i in [0, n). */
    void addInto(float[] acc, MemorySegment s, long o, int n);

    /** y = x / (|x| + 1e-8) for one row; returns |x|. */
    float l2Normalize(MemorySegment x, long xo, int n, MemorySegment y, long yo);

    /**
     * Softmax backward of one row, scaled: {@code ds[i] = k · p[i] · (dp[i] − Σ_j p[j] dp[j])},
     * written over {@code dp}.
     */
    void softmaxBackward(MemorySegment p, long po, MemorySegment dp, long dpo, int n, float k);

    /** {@code out[i] = a · x[i] + b · y[i]}. */
    void axpby(float a, MemorySegment x, long xo, float b, MemorySegment y, long yo, MemorySegment out, long oo, int n);

    /** Σ s[o+i]², accumulated per chunk of 4096 in double so long gradients keep their precision. */
    default double sumOfSquares(MemorySegment s, long o, long n) {
        double total = 0;
        long i = 0;
        int chunk = 4096;
        while (i < n) {
            int len = (int) Math.min(chunk, n - i);
            total += dot(s, o + i, s, o + i, len);
            i += len;
        }
        return total;
    }

    /**
     * AdamW over n elements (torch.optim.AdamW) in one pass: each gradient read as
     * {@code g · gradScale} (the global-norm clip folded in; {@code g} itself is not written), decay,
     * moment updates, bias-corrected step. {@code stepSize} = lr / (1 − β1^t); {@code invSqrtC2} =
     * 1 / sqrt(1 − β2^t). When {@code shadow} is non-null, the updated weight's bf16 rounding
     * (nearest-even, as {@link io.lit4j.tensor.Floats#f32ToBf16}) is written to its 2-byte element
     * {@code o + i} in the same pass. Both implementations do the same fp32 operations in the same
     * order (no fused multiply-add), so they agree bit for bit.
     */
    void adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long o, int n, float gradScale,
               float decay, float beta1, float beta2, float eps, float stepSize, float invSqrtC2, MemorySegment shadow);

    /** log Σ exp(v[o..o+len)) with max subtraction. */
    float logSumExp(float[] v, int o, int len);

    /**
     * Folds the {@code rows} rows of {@code block} ([rows, n], row-major) into the running column
     * maxima and the column sums of exp(x − max), rescaling the sums when a maximum grows.
     */
    void columnLogSumExpUpdate(float[] block, int rows, int n, float[] colMax, float[] colSum);

    /**
     * Overwrites row v[o..o+len) of logits with {@code k·(exp(v − rowLse) + exp(v − colLse[j]))}
     * and returns Σ (that value × the logit).
     */
    double softmaxGradRow(float[] v, int o, int len, float rowLse, float[] colLse, float k);
}

package io.lit4j.backend;

import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.MemorySegment;

/**
 * Everything the two towers compute, as a narrow set of ops. Each op checks shapes and dtypes
 * and throws {@link io.lit4j.LitException} naming the op and the shapes; outputs are written
 * into tensors the caller allocated (no op allocates a result). Tensors belong to the backend
 * that allocated them: host code moves data only through {@link #upload} and {@link #download}.
 *
 * <p>Shapes use B = batch, T = tokens, D = width, N = rows, K/M = matmul inner/outer sizes.
 * Implementations must be safe to call from many threads at once on distinct outputs.
 */
public interface Backend extends AutoCloseable {

    /** Short name: "scalar", "onednn", "cuda". */
    String name();

    /** Lines for {@code lit4j info}: versions, ISA, threads. */
    java.util.List<String> describe();

    /** Threads one op may use. */
    int threads();

    /** A new arena for this backend's memory. */
    TensorArena newArena();

    // ---------------------------------------------------------------- host transfers

    /** Copies host values into {@code dst}, converting from {@code srcType} (F32/BF16/F16/I32). */
    void upload(MemorySegment src, DType srcType, Tensor dst);

    void upload(float[] src, Tensor dst);

    void upload(int[] src, Tensor dst);

    /** Copies {@code src} to the host as fp32. */
    void download(Tensor src, float[] dst);

    default float[] download(Tensor src) {
        float[] out = new float[Math.toIntExact(src.numel())];
        download(src, out);
        return out;
    }

    /** Copies {@code src} into {@code dst} (same numel), converting dtype if they differ. */
    void copy(Tensor src, Tensor dst);

    // ---------------------------------------------------------------- forward ops

    /**
     * {@code y[N,M] = epilogue(x[N,K] · w[K,M] + bias[M])}; {@code bias} may be null. Leading
     * dimensions of x and y are flattened into N.
     */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue);

    /**
     * {@code c = alpha · op(a) · op(b)} where op transposes the last two dims when asked; rank-3
     * operands are batched over dim 0 (a batch of 1 broadcasts).
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha);

    /** {@code out = a + b}; b's shape must equal a trailing part of a's (a bias or a position table). */
    void add(Tensor a, Tensor b, Tensor out);

    /**
     * Row-wise LayerNorm over the last dim: {@code y = (x - mean) · rstd · scale + bias}, with the
     * biased variance. {@code mean} and {@code rstd} ([rows]) are written when non-null (training).
     */
    void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor rstd);

    void gelu(Tensor x, Tensor y, Gelu kind);

    /** Row-wise softmax over the last dim. */
    void softmax(Tensor x, Tensor y);

    /**
     * Multi-head self-attention core from a fused projection {@code qkv[B,T,3D]} (q, k, v side by
     * side, each head-major): per head {@code P = softmax(q·kᵀ/√dh + mask)}, {@code out = P·v},
     * heads concatenated into {@code out[B,T,D]}. {@code keyMask[B,T]} (1 keep, 0 pad) may be null;
     * a padded key gets weight exactly 0. {@code probs[B,H,T,T]} receives P (kept for backward).
     */
    void attention(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out);

    /** {@code out[..., D] = table[ids[...]]}; ids are I32 and must lie in [0, V). */
    void embedding(Tensor ids, Tensor table, Tensor out);

    /**
     * NHWC images {@code [B,H,W,C]} to patch rows {@code [B, (H/p)(W/p), p·p·C]}, patches in
     * row-major order, each flattened in (row, column, channel) order.
     */
    void patchify(Tensor images, int patch, Tensor out);

    /** {@code out[B,1+T,D] = concat(token[D], x[B,T,D])} along the token axis. */
    void prependToken(Tensor token, Tensor x, Tensor out);

    /** {@code out[B,D]} from {@code x[B,T,D]}: token 0, the last token, or the mean of tokens [from, T). */
    void pool(Tensor x, Pool pool, int from, Tensor out);

    /** Row-wise {@code y = x / (|x| + 1e-8)}; {@code norms[rows]} receives |x| when non-null. */
    void l2Normalize(Tensor x, Tensor y, Tensor norms);

    /** Frees the backend's native resources (cached primitives, streams). */
    @Override
    void close();
}

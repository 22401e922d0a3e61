package io.lit4j.backend;

import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.MemorySegment;
import java.util.List;

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
    List<String> describe();

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
     * dimensions of x and y are flattened into N. {@code w} may be plain or from {@link #packWeights}.
     * The operands decide the precision: with a bf16 operand the product is a bf16 product (both
     * operands rounded to bf16) accumulated in fp32; otherwise it is fp32.
     */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue);

    /**
     * A copy of weight matrix {@code w[K,M]} for {@link #linear} in the layout and precision this
     * backend multiplies fastest ({@code precision} F32, or BF16: bf16 products with fp32
     * accumulation). It is only valid as a {@code linear} weight; {@link #repackWeights} refreshes
     * it after {@code w} changes. Allocated in {@code arena}.
     */
    Tensor packWeights(Tensor w, DType precision, TensorArena arena);

    /** Rewrites {@code packed} (from {@link #packWeights}) from the current values of {@code w}. */
    void repackWeights(Tensor w, Tensor packed);

    /**
     * Like {@link #packWeights}, but over {@code w}'s own memory, for models that will only run
     * inference: no second copy of the weights. {@code w}'s plain values are gone afterwards (only
     * the returned tensor is valid). Null, with {@code w} untouched, when the backend has no packed
     * layout or the packed form would not fit in {@code w}'s bytes.
     */
    default Tensor packWeightsInPlace(Tensor w, DType precision) {
        return null;
    }

    /**
     * {@code c = alpha · op(a) · op(b)} where op transposes the last two dims when asked; rank-3
     * operands are batched over dim 0 (a batch of 1 broadcasts).
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha);

    /** {@code out = a + b}; b's shape must equal a trailing part of a's (a bias or a position table). */
    void add(Tensor a, Tensor b, Tensor out);

    /**
     * Row-wise LayerNorm over the last dim: {@code y = (x - mean) / sqrt(variance + eps) · scale + bias},
     * with the biased variance. {@code mean} and {@code variance} ([rows], fp32) are written when
     * non-null (training keeps them for the backward pass).
     */
    void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor variance);

    void gelu(Tensor x, Tensor y, Gelu kind);

    /** Row-wise softmax over the last dim. */
    void softmax(Tensor x, Tensor y);

    /**
     * Multi-head self-attention core from a fused projection {@code qkv[B,T,3D]} (q, k, v side by
     * side, each head-major): per head {@code P = softmax(q·kᵀ/√dh + mask)}, {@code out = P·v},
     * heads concatenated into {@code out[B,T,D]}. {@code keyMask[B,T]} (1 keep, 0 pad) may be null;
     * a padded key gets weight exactly 0. {@code probs[B,H,T,T]} receives P (kept for backward).
     */
    default void attention(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out) {
        attention(qkv, keyMask, false, heads, probs, out);
    }

    /**
     * {@link #attention(Tensor, Tensor, int, Tensor, Tensor)}, and with {@code causal} each query
     * {@code i} sees only keys {@code j ≤ i} (a GPT-style text tower, CLIP's): later keys get
     * weight exactly 0, as padded ones do, so {@link #attentionBackward} needs no flag.
     */
    void attention(Tensor qkv, Tensor keyMask, boolean causal, int heads, Tensor probs, Tensor out);

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

    /**
     * {@code out[b] = Σ_t mask[b,t]·x[b,t] / max(Σ_t mask[b,t], 1e-9)} for {@code x[B,T,D]} and
     * {@code mask[B,T]} (1 keep, 0 pad): the mean over a text's real tokens, as sentence-transformers
     * pools (sentence_transformers/models/Pooling.py, forward: mean tokens, the count clamped at 1e-9).
     */
    void maskedMean(Tensor x, Tensor mask, Tensor out);

    /** Row-wise {@code y = x / (|x| + 1e-8)}; {@code norms[rows]} receives |x| when non-null. */
    void l2Normalize(Tensor x, Tensor y, Tensor norms);

    // ---------------------------------------------------------------- backward ops
    // Each writes (overwrites) the gradients it is given; a null gradient is not computed. Where a
    // tensor feeds two consumers (a residual stream), the caller adds the two gradients itself.

    /**
     * For {@code y = x·w + b}: {@code dx = dy·wᵀ}, {@code dw = xᵀ·dy}, {@code db = Σ_rows dy}, all
     * fp32. {@code w} is the weight the forward multiplied by (plain or packed); with a bf16
     * {@code x} or {@code w} both products are bf16 products with fp32 accumulation, as in {@link #linear}.
     */
    void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db);

    /** LayerNorm's gradients from the forward's {@code mean} and {@code variance}. */
    void layerNormBackward(Tensor x, Tensor scale, Tensor mean, Tensor variance, float eps, Tensor dy, Tensor dx,
                           Tensor dscale, Tensor dbias);

    /** {@code dx = gelu'(x) ⊙ dy}. */
    void geluBackward(Tensor x, Tensor dy, Tensor dx, Gelu kind);

    /** For {@code y = softmax(x)} row-wise: {@code dx = y ⊙ (dy − Σ dy⊙y)}. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * The attention core's gradient {@code dqkv[B,T,3D]} from {@code dout[B,T,D]}, the forward's
     * {@code qkv} and {@code probs}; {@code scratch[B,H,T,T]} is overwritten. Padded keys had
     * probability 0 and get no gradient.
     */
    void attentionBackward(Tensor qkv, Tensor probs, int heads, Tensor dout, Tensor dqkv, Tensor scratch);

    /** {@code dtable} = the sum of {@code dout} rows per token id (rows of unused ids are zero). */
    void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable);

    /** The backward of a broadcast {@link #add}: {@code db = Σ dy} over the dims b was broadcast along. */
    void sumToShape(Tensor dy, Tensor db);

    /** For {@code out = concat(token, x)}: {@code dtoken = Σ_b dout[b,0]}, {@code dx = dout[:,1:]}. */
    void prependTokenBackward(Tensor dout, Tensor dtoken, Tensor dx);

    /** {@code dx[B,T,D]}: {@code dout[B,D]} put back where {@link #pool} read it, zero elsewhere. */
    void poolBackward(Tensor dout, Pool pool, int from, Tensor dx);

    /** {@code dx[B,T,D]} for {@link #maskedMean}: {@code dout[b]·mask[b,t] / max(Σ_t mask[b,t], 1e-9)}. */
    void maskedMeanBackward(Tensor dout, Tensor mask, Tensor dx);

    /** For {@code y = x / (|x| + 1e-8)} row-wise, with the forward's {@code norms}. */
    void l2NormalizeBackward(Tensor x, Tensor norms, Tensor dy, Tensor dx);

    // ---------------------------------------------------------------- optimizer support

    /** Sets every element to zero. */
    void zero(Tensor t);

    /** {@code t *= k}. */
    void scale(Tensor t, float k);

    /** {@code Σ t²} in double precision (for global gradient-norm clipping). */
    double sumOfSquares(Tensor t);

    /**
     * One AdamW update of {@code param} from {@code grad}, in place on the moments {@code m} and
     * {@code v} (torch.optim.AdamW semantics: decoupled weight decay applied first, bias-corrected
     * moments).
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);

    /**
     * {@link #adamw} reading the gradient as {@code gradScale · grad} (the global-norm clip folded
     * in) and, when {@code shadow} (bf16, {@code param}'s shape, plain layout) is non-null, also
     * writing the updated weight's bf16 rounding there (the copy a bf16 product multiplies by). A
     * fast backend does it all in one pass over the memory and leaves {@code grad} as it was. This
     * default, the slow twin for backends without a fused kernel, scales {@code grad} in place,
     * updates, then copies: so callers must treat {@code grad} as spent afterwards.
     */
    default void adamw(Tensor param, Tensor grad, float gradScale, Tensor m, Tensor v, Tensor shadow, AdamWStep step) {
        if (shadow != null) {
            HostBackend.requireShadow(param, shadow);
        }
        if (gradScale != 1f) {
            scale(grad, gradScale);
        }
        adamw(param, grad, m, v, step);
        if (shadow != null) {
            copy(param, shadow);
        }
    }

    /**
     * Lets go of what the backend keeps for parallel work started from the calling thread (oneDNN:
     * the thread's OpenMP team); the thread's next op builds it again. For a thread that has run
     * ops and will not for a while, such as the one that loaded a model a service thread now runs:
     * an idle team on one thread can slow every other thread's ops. Not from inside an op.
     */
    default void releaseThread() {
    }

    /**
     * The calling thread's ops from now on use {@code n} of this backend's {@link #threads()} (1 to
     * {@code threads()}): a smaller team for work too small to pay for waking the others (oneDNN:
     * the thread's OpenMP team size; a team of one runs inline and wakes no worker). A backend whose
     * ops do not split over threads ignores it. Results can depend on it: oneDNN splits a long
     * reduction beneath a tiny output over the threads, in an order that depends on the team
     * ({@code TeamSizeTest}); at the default towers' shapes it does not. Not from inside an op.
     */
    default void useThreads(int n) {
    }

    /** Frees the backend's native resources (cached primitives, streams). */
    @Override
    void close();
}

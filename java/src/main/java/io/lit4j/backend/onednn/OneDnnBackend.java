package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.backend.OpProfile;
import io.lit4j.backend.onednn.Dnnl.MemoryDesc;
import io.lit4j.backend.onednn.Dnnl.Primitive;
import io.lit4j.backend.onednn.DnnlPrimitives.Post;
import io.lit4j.simd.Kernels;
import io.lit4j.simd.WorkerPool;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The CPU backend. Matmuls, LayerNorm, GELU, softmax and adds are oneDNN primitives (built by
 * {@link DnnlPrimitives}, cached per shape and run by {@link DnnlRuntime}); the attention softmax
 * with its padding mask, the L2 normalisation, column sums and AdamW are Java {@link Kernels} (Vector API
 * loops when the module is loaded) on the backend's own {@link WorkerPool}. This class decides what to compute; it never calls the
 * generated bindings itself.
 *
 * <p>Precision follows the operands: a matmul with a bf16 operand runs oneDNN's bf16 kernel
 * (fp32 accumulation and output), converting its other operands to bf16 in per-thread buffers
 * first (oneDNN has no fast kernel for mixed fp32 x bf16 operands on CPUs without AMX); an fp32
 * weight packed into a blocked layout is unpacked for that, which the towers never need.
 */
public final class OneDnnBackend extends HostBackend {
    /** Rows of the activation the weight layout is chosen for; oneDNN keeps that layout for other batch sizes. */
    private static final int PACK_ROWS = 256;
    /** Per-thread buffers of {@link DnnlRuntime#buffer}: operand copies for x, w, dy, and fp32 attention output. */
    private static final int SLOT_X = 0, SLOT_W = 1, SLOT_DY = 2, SLOT_ATTN = 3;
    private static final Kernels KERNELS = Kernels.get();

    private final int threads;
    private final DnnlRuntime rt;
    private final WorkerPool pool;
    private final DnnlAttention attention;

    /** Loads oneDNN (if not yet loaded) and creates a CPU engine that uses {@code threads} threads. */
    public OneDnnBackend(int threads) {
        if (threads < 1) {
            throw new LitException("oneDNN backend: thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.rt = new DnnlRuntime(threads, this::newArena);
        this.pool = new WorkerPool(threads, "lit4j-onednn");
        this.attention = new DnnlAttention(rt, pool);
    }

    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public List<String> describe() {
        return List.of(
                "oneDNN " + Dnnl.version() + ", dispatching to " + Dnnl.effectiveIsa(),
                "oneDNN threads (OpenMP): " + rt.ompThreads() + ", Java worker threads: " + pool.threads(),
                "native libraries: " + DnnlLibrary.load());
    }

    /** oneDNN's version, e.g. "3.13.0 (commit ...)". */
    public String dnnlVersion() {
        return Dnnl.version();
    }

    /** The ISA oneDNN's JIT dispatches to, e.g. "avx512_core_bf16". */
    public String isa() {
        return Dnnl.effectiveIsa();
    }

    @Override
    public int threads() {
        return threads;
    }

    // ------------------------------------------------------------------ operands and conversions

    /** {@code t} as a matmul operand of type {@code type}: itself, or a converted copy in this thread's {@code slot}. */
    private Tensor operand(Tensor t, DType type, int slot) {
        if (t.dtype() == type) {
            return t;
        }
        Tensor copy = rt.buffer(slot, type, t.shape());
        convert(t, copy);
        return copy;
    }

    /** {@code dst = src} with a dtype conversion, by a oneDNN reorder. */
    private void convert(Tensor src, Tensor dst) {
        long n = src.numel();
        DType from = src.dtype(), to = dst.dtype();
        Primitive p = rt.primitive("convert " + n + " " + from + " -> " + to, e -> DnnlPrimitives.reorder(e, "convert " + src + " to " + to,
                MemoryDesc.dense(from, n), MemoryDesc.dense(to, n)));
        rt.run(p, seg(src), seg(dst));
    }

    /** Same dtype: a memory copy; fp32 to or from bf16/f16: a oneDNN reorder (vectorised, on all threads), not a Java loop. */
    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype() && src.dtype().isFloating() && dst.dtype().isFloating() && src.numel() == dst.numel()
                && !packed(src) && !packed(dst)) {
            convert(src, dst);
        } else {
            super.copy(src, dst);
        }
    }

    private static boolean packed(Tensor w) {
        return w.storage() instanceof PackedWeights;
    }

    // ------------------------------------------------------------------ linear

    private record LinearKey(int n, int k, int m, DType x, DType w, DType y, boolean bias, Epilogue epi, String layout) {
    }

    private static Post post(Epilogue e) {
        return switch (e) {
            case NONE -> Post.NONE;
            case GELU_TANH -> Post.GELU_TANH;
            case GELU_ERF -> Post.GELU_ERF;
            case GELU_QUICK -> Post.GELU_QUICK;
            case ACCUMULATE -> Post.ACCUMULATE;
        };
    }

    private Primitive linearPrimitive(int n, int k, int m, DType xt, DType wt, DType yt, boolean hasBias, Epilogue epi, String layout) {
        return rt.primitive(new LinearKey(n, k, m, xt, wt, yt, hasBias, epi, layout), e -> DnnlPrimitives.matmul(e,
                "linear x[" + n + "," + k + "] · w[" + k + "," + m + "]" + (layout == null ? "" : " packed") + " " + epi,
                MemoryDesc.dense(xt, n, k),
                layout == null ? MemoryDesc.dense(wt, k, m) : MemoryDesc.copyOf(rt.layout(layout).handle, layout),
                hasBias ? MemoryDesc.dense(DType.F32, 1, m) : null, MemoryDesc.dense(yt, n, m), post(epi), 1f));
    }

    /** The implementation oneDNN chose for the linear of this shape (for benchmarks and info). */
    public String linearImplementation(Tensor x, Tensor w) {
        int n = x.rows(), k = w.dim(0), m = w.dim(1);
        String layout = w.storage() instanceof PackedWeights pw ? pw.layout() : null;
        return linearPrimitive(n, k, m, x.dtype(), w.dtype(), DType.F32, true, Epilogue.NONE, layout).implementation();
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue) {
        int[] d = linearDims(x, w, bias, y);
        if (bias != null) {
            Shapes.requireType("linear", "bias", bias, DType.F32);
        }
        if (x.dtype() != w.dtype()) { // a bf16 operand makes a bf16 product: convert the other one
            x = operand(x, DType.BF16, SLOT_X);
            w = packed(w) ? (w.dtype() == DType.BF16 ? w : unpack(w, DType.BF16)) : operand(w, DType.BF16, SLOT_W);
        }
        String layout = w.storage() instanceof PackedWeights pw ? pw.layout() : null;
        Primitive p = linearPrimitive(d[0], d[1], d[2], x.dtype(), w.dtype(), y.dtype(), bias != null, epilogue, layout);
        if (bias != null) {
            rt.run(p, seg(x), seg(w), seg(bias), seg(y));
        } else {
            rt.run(p, seg(x), seg(w), seg(y));
        }
    }

    /**
     * Both products of a linear's backward run in bf16 when the forward did (a bf16 activation or
     * weight), in fp32 otherwise. A packed weight is unpacked into this thread's buffer for {@code dx}.
     */
    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = linearDims(x, w, null, dy);
        int n = d[0], k = d[1], m = d[2];
        Shapes.requireType("linearBackward", "dy", dy, DType.F32);
        if (dw != null) {
            Shapes.require("linearBackward", "dw", dw, k, m);
            Shapes.requireType("linearBackward", "dw", dw, DType.F32);
        }
        DType type = x.dtype() == DType.BF16 || w.dtype() == DType.BF16 ? DType.BF16 : DType.F32;
        Tensor dyIn = operand(dy, type, SLOT_DY);
        if (dx != null) { // dx[N,K] = dy[N,M] · wᵀ
            if (dx.rows() != n || dx.dim(-1) != k) {
                throw new LitException("linearBackward: dx " + dx + " should match x " + x);
            }
            Shapes.requireType("linearBackward", "dx", dx, DType.F32);
            Tensor wIn = packed(w) ? unpack(w, type) : operand(w, type, SLOT_W);
            rt.run(plainMatmul("linear dx = dy·wᵀ", n, m, k, dyIn.dtype(), false, wIn.dtype(), true), seg(dyIn), seg(wIn), seg(dx));
        }
        if (dw != null) { // dw[K,M] = xᵀ · dy
            Tensor xIn = operand(x, type, SLOT_X);
            rt.run(plainMatmul("linear dw = xᵀ·dy", k, n, m, xIn.dtype(), true, dyIn.dtype(), false), seg(xIn), seg(dyIn), seg(dw));
        }
        if (db != null) {
            Shapes.require("linearBackward", "db", db, m);
            sumToShape(dy, db);
        }
    }

    /** {@code c[rows, cols] = op(a) · op(b)} over dense 2-D operands (inner size {@code inner}), into fp32. */
    private Primitive plainMatmul(String what, int rows, int inner, int cols, DType a, boolean transA, DType b, boolean transB) {
        String key = "matmul2 " + what + " " + rows + "x" + inner + "x" + cols + " " + a + transA + " " + b + transB;
        return rt.primitive(key, e -> DnnlPrimitives.matmul(e, what + ": " + key,
                MemoryDesc.strided(a, new long[] {rows, inner}, transA ? new long[] {1, rows} : new long[] {inner, 1}),
                MemoryDesc.strided(b, new long[] {inner, cols}, transB ? new long[] {1, inner} : new long[] {cols, 1}),
                null, MemoryDesc.dense(DType.F32, rows, cols), Post.NONE, 1f));
    }

    // ------------------------------------------------------------------ packed weights

    private String layoutKey(int k, int m, DType precision) {
        String key = "weights " + k + "x" + m + " " + precision;
        rt.layout(key, e -> DnnlPrimitives.preferredWeights(e, "choose the weight layout for " + key, precision, PACK_ROWS, k, m));
        return key;
    }

    private static void requirePackable(String op, Tensor w, DType precision) {
        if (w.rank() != 2 || packed(w)) {
            throw new LitException(op + ": expected a plain weight matrix [K,M], got " + w);
        }
        if (precision != DType.F32 && precision != DType.BF16) {
            throw new LitException(op + ": precision must be F32 or BF16, got " + precision);
        }
    }

    @Override
    public Tensor packWeights(Tensor w, DType precision, TensorArena arena) {
        requirePackable("packWeights", w, precision);
        int k = w.dim(0), m = w.dim(1);
        String key = layoutKey(k, m, precision);
        long bytes = rt.layout(key).byteSize();
        Tensor raw = arena.allocate(DType.F32, Math.toIntExact((bytes + 3) / 4));
        Tensor packed = Tensor.of(new PackedWeights(seg(raw).asSlice(0, bytes), key, precision, k, m), 0, precision, k, m);
        repackWeights(w, packed);
        return packed;
    }

    @Override
    public Tensor packWeightsInPlace(Tensor w, DType precision) {
        requirePackable("packWeightsInPlace", w, precision);
        Shapes.requireType("packWeightsInPlace", "w", w, DType.F32);
        int k = w.dim(0), m = w.dim(1);
        String key = layoutKey(k, m, precision);
        long bytes = rt.layout(key).byteSize();
        MemorySegment own = seg(w);
        if (bytes > own.byteSize()) {
            return null; // padded blocks need more room than the plain matrix (odd sizes)
        }
        try (TensorArena tmp = newArena()) { // one matrix at a time: the reorder cannot run in place
            Tensor staged = packWeights(w, precision, tmp);
            MemorySegment.copy(((PackedWeights) staged.storage()).segment(), 0, own, 0, bytes);
        }
        return Tensor.of(new PackedWeights(own.asSlice(0, bytes), key, precision, k, m), 0, precision, k, m);
    }

    @Override
    public void repackWeights(Tensor w, Tensor packed) {
        if (!(packed.storage() instanceof PackedWeights pw) || pw.k() != w.dim(0) || pw.m() != w.dim(1)) {
            throw new LitException("repackWeights: " + packed + " was not packed from a matrix like " + w);
        }
        Primitive reorder = rt.primitive("reorder " + w.dtype() + " -> " + pw.layout(), e -> DnnlPrimitives.reorder(e,
                "reorder weights " + w + " into " + pw.layout(), MemoryDesc.dense(w.dtype(), pw.k(), pw.m()),
                MemoryDesc.copyOf(rt.layout(pw.layout()).handle, pw.layout())));
        rt.run(reorder, seg(w), pw.segment());
    }

    /** A packed weight back in the plain layout, as {@code type}, in this thread's weight buffer. */
    private Tensor unpack(Tensor w, DType type) {
        PackedWeights pw = (PackedWeights) w.storage();
        Tensor plain = rt.buffer(SLOT_W, type, w.shape());
        Primitive reorder = rt.primitive("unpack " + pw.layout() + " -> " + type, e -> DnnlPrimitives.reorder(e,
                "unpack weights " + pw.layout() + " to " + type, MemoryDesc.copyOf(rt.layout(pw.layout()).handle, pw.layout()),
                MemoryDesc.dense(type, pw.k(), pw.m())));
        rt.run(reorder, pw.segment(), seg(plain));
        return plain;
    }

    // ------------------------------------------------------------------ matmul, add, normalisation

    private record MatmulKey(int batch, int m, int k, int n, int ba, int bb, boolean ta, boolean tb, float alpha, DType a, DType b, DType c) {
    }

    @Override
    public void matmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, float alpha) {
        int[] d = matmulDims(a, ta, b, tb, c);
        int batch = d[0], m = d[1], k = d[2], n = d[3], ba = d[4], bb = d[5];
        Primitive p = rt.primitive(new MatmulKey(batch, m, k, n, ba, bb, ta, tb, alpha, a.dtype(), b.dtype(), c.dtype()), e -> DnnlPrimitives.matmul(e,
                "matmul a" + a + (ta ? "ᵀ" : "") + " · b" + b + (tb ? "ᵀ" : "") + " -> c" + c,
                MemoryDesc.strided(a.dtype(), new long[] {ba, m, k}, ta ? new long[] {(long) m * k, 1, m} : new long[] {(long) m * k, k, 1}),
                MemoryDesc.strided(b.dtype(), new long[] {bb, k, n}, tb ? new long[] {(long) k * n, 1, k} : new long[] {(long) k * n, n, 1}),
                null, MemoryDesc.dense(c.dtype(), batch, m, n), alpha != 1f ? Post.SCALE : Post.NONE, alpha));
        rt.run(p, seg(a), seg(b), seg(c));
    }

    private record AddKey(int rows, int cols, DType a, DType b, DType out) {
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        requireBroadcast(a, b, out);
        if (b.numel() == 0) {
            return;
        }
        int cols = Math.toIntExact(b.numel());
        int rows = Math.toIntExact(a.numel() / cols);
        Primitive p = rt.primitive(new AddKey(rows, cols, a.dtype(), b.dtype(), out.dtype()), e -> DnnlPrimitives.add(e, "add a" + a + " + b" + b,
                MemoryDesc.dense(a.dtype(), rows, cols), MemoryDesc.dense(b.dtype(), 1, cols), MemoryDesc.dense(out.dtype(), rows, cols)));
        rt.run(p, seg(a), seg(b), seg(out));
    }

    private record LayerNormKey(int rows, int d, float eps, boolean training, DType x, DType y) {
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor variance) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.require("layerNorm", "scale", scale, d);
        Shapes.require("layerNorm", "bias", bias, d);
        Shapes.requireType("layerNorm", "scale", scale, DType.F32);
        Shapes.requireType("layerNorm", "bias", bias, DType.F32);
        if (x.rows() != y.rows() || y.dim(-1) != d) {
            throw new LitException("layerNorm: x " + x + " and y " + y + " must match");
        }
        boolean training = mean != null || variance != null;
        if (training) {
            if (mean == null || variance == null) {
                throw new LitException("layerNorm: mean and variance are written together; pass both or neither");
            }
            Shapes.require("layerNorm", "mean", mean, rows);
            Shapes.require("layerNorm", "variance", variance, rows);
            Shapes.requireType("layerNorm", "mean", mean, DType.F32);
            Shapes.requireType("layerNorm", "variance", variance, DType.F32);
        }
        Primitive p = rt.primitive(new LayerNormKey(rows, d, eps, training, x.dtype(), y.dtype()),
                e -> DnnlPrimitives.layerNorm(e, "layerNorm x" + x + " eps " + eps, x.dtype(), y.dtype(), rows, d, eps, training));
        if (training) {
            rt.run(p, seg(x), seg(scale), seg(bias), seg(y), seg(mean), seg(variance));
        } else {
            rt.run(p, seg(x), seg(scale), seg(bias), seg(y));
        }
    }

    private record EltwiseKey(long n, Gelu kind, DType x, DType y) {
    }

    @Override
    public void gelu(Tensor x, Tensor y, Gelu kind) {
        Shapes.requireSame("gelu", "x", x, "y", y);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Primitive p = rt.primitive(new EltwiseKey(n, kind, x.dtype(), y.dtype()),
                e -> DnnlPrimitives.gelu(e, "gelu_" + kind.configName() + " x" + x, kind, x.dtype(), y.dtype(), n));
        rt.run(p, seg(x), seg(y));
    }

    private record SoftmaxKey(int rows, int cols, DType x, DType y) {
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Shapes.requireSame("softmax", "x", x, "y", y);
        int cols = x.dim(-1), rows = x.rows();
        if (x.numel() == 0) {
            return;
        }
        Primitive p = rt.primitive(new SoftmaxKey(rows, cols, x.dtype(), y.dtype()),
                e -> DnnlPrimitives.softmax(e, "softmax x" + x, x.dtype(), y.dtype(), rows, cols));
        rt.run(p, seg(x), seg(y));
    }

    @Override
    public void attention(Tensor qkv, Tensor keyMask, boolean causal, int heads, Tensor probs, Tensor out) {
        int[] dims = attentionDims(qkv, keyMask, heads, probs, out);
        Shapes.requireType("attention", "qkv", qkv, DType.F32);
        Shapes.requireType("attention", "probs", probs, DType.F32);
        Shapes.requireType("attention", "out", out, DType.F32, DType.BF16);
        if (keyMask != null) {
            Shapes.requireType("attention", "keyMask", keyMask, DType.F32);
        }
        // oneDNN 3.13 has no fast kernel for fp32 operands with a strided bf16 destination (it falls back
        // to ref:any, ~100x slower), so a bf16 output is written in fp32 first and converted
        Tensor f32Out = out.dtype() == DType.F32 ? out : rt.buffer(SLOT_ATTN, DType.F32, out.shape());
        attention.forward(dims, seg(qkv), keyMask == null ? null : seg(keyMask), causal, seg(probs), seg(f32Out));
        if (f32Out != out) {
            convert(f32Out, out);
        }
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y, Tensor norms) {
        Shapes.requireSame("l2Normalize", "x", x, "y", y);
        Shapes.requireType("l2Normalize", "x", x, DType.F32);
        int c = x.dim(-1), rows = x.rows();
        MemorySegment xs = seg(x), ys = seg(y);
        MemorySegment ns = null;
        if (norms != null) {
            Shapes.require("l2Normalize", "norms", norms, rows);
            Shapes.requireType("l2Normalize", "norms", norms, DType.F32);
            ns = seg(norms);
        }
        MemorySegment nsFinal = ns;
        pool.parallelFor(rows, 256, (from, to) -> {
            for (int r = from; r < to; r++) {
                float n = KERNELS.l2Normalize(xs, (long) r * c, c, ys, (long) r * c);
                if (nsFinal != null) {
                    nsFinal.setAtIndex(F, r, n);
                }
            }
        });
    }

    // ------------------------------------------------------------------ backward

    private record LayerNormBackwardKey(int rows, int d, float eps) {
    }

    /**
     * Always oneDNN's full backward (prop_kind backward): its data-only one (backward_data) answers
     * UNIMPLEMENTED for a LayerNorm with scale and shift, so without dscale/dbias (a frozen
     * LayerNorm) their gradients go to a scratch of 2·d floats and are dropped.
     */
    @Override
    public void layerNormBackward(Tensor x, Tensor scale, Tensor mean, Tensor variance, float eps, Tensor dy, Tensor dx,
                                  Tensor dscale, Tensor dbias) {
        int[] dims = layerNormBackwardDims(x, mean, variance, dy);
        int rows = dims[0], d = dims[1];
        if (dx == null) {
            throw new LitException("layerNormBackward: the oneDNN backend always computes dx; pass a tensor for it");
        }
        Shapes.requireSame("layerNormBackward", "x", x, "dx", dx);
        boolean params = dscale != null || dbias != null;
        if (params && (dscale == null || dbias == null)) {
            throw new LitException("layerNormBackward: dscale and dbias are computed together; pass both or neither");
        }
        Primitive p = rt.primitive(new LayerNormBackwardKey(rows, d, eps),
                e -> DnnlPrimitives.layerNormBackward(e, "layerNormBackward x" + x + " eps " + eps, rows, d, eps));
        if (params) {
            rt.run(p, seg(x), seg(mean), seg(variance), seg(dy), seg(scale), seg(dx), seg(dscale), seg(dbias));
        } else {
            try (Arena tmp = Arena.ofConfined()) {
                long bytes = (long) d * Float.BYTES;
                MemorySegment drop = tmp.allocate(2 * bytes, 64);
                rt.run(p, seg(x), seg(mean), seg(variance), seg(dy), seg(scale), seg(dx), drop.asSlice(0, bytes), drop.asSlice(bytes, bytes));
            }
        }
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, Gelu kind) {
        Shapes.requireSame("geluBackward", "x", x, "dy", dy);
        Shapes.requireSame("geluBackward", "x", x, "dx", dx);
        long n = x.numel();
        if (n == 0) {
            return;
        }
        Primitive p = rt.primitive("geluBackward " + n + " " + kind, e -> DnnlPrimitives.geluBackward(e, "geluBackward " + kind + " x" + x, kind, n));
        rt.run(p, seg(x), seg(dy), seg(dx));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Shapes.requireSame("softmaxBackward", "y", y, "dy", dy);
        Shapes.requireSame("softmaxBackward", "y", y, "dx", dx);
        int cols = y.dim(-1), rows = y.rows();
        if (y.numel() == 0) {
            return;
        }
        Primitive p = rt.primitive("softmaxBackward " + rows + "x" + cols, e -> DnnlPrimitives.softmaxBackward(e, "softmaxBackward y" + y, rows, cols));
        rt.run(p, seg(y), seg(dy), seg(dx));
    }

    @Override
    public void attentionBackward(Tensor qkv, Tensor probs, int heads, Tensor dout, Tensor dqkv, Tensor scratch) {
        int[] dims = attentionDims(qkv, null, heads, probs, dout);
        Shapes.requireSame("attentionBackward", "qkv", qkv, "dqkv", dqkv);
        Shapes.requireSame("attentionBackward", "probs", probs, "scratch", scratch);
        Shapes.requireType("attentionBackward", "dout", dout, DType.F32);
        attention.backward(dims, seg(qkv), seg(probs), seg(dout), seg(dqkv), seg(scratch));
    }

    /**
     * Column sums in Java: oneDNN's reduction over the leading dimension was 45% of a ViT training
     * step. Each thread sums a fixed block of rows; the partial sums are added in thread order, so
     * the result depends only on the thread count.
     */
    @Override
    public void sumToShape(Tensor dy, Tensor db) {
        requireBroadcast(dy, db, dy);
        Shapes.requireType("sumToShape", "dy", dy, DType.F32);
        Shapes.requireType("sumToShape", "db", db, DType.F32);
        int cols = Math.toIntExact(db.numel());
        if (cols == 0) {
            return;
        }
        int rows = Math.toIntExact(dy.numel() / cols);
        MemorySegment g = seg(dy), out = seg(db);
        int parts = Math.max(1, Math.min(pool.threads(), rows / 64));
        float[][] partial = new float[parts][cols];
        int per = (rows + parts - 1) / parts;
        OpProfile.time("sumToShape (Java)", () -> pool.parallelFor(parts, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                for (int r = p * per; r < Math.min(rows, (p + 1) * per); r++) {
                    KERNELS.addInto(partial[p], g, (long) r * cols, cols);
                }
            }
        }));
        for (int p = 1; p < parts; p++) {
            for (int c = 0; c < cols; c++) {
                partial[0][c] += partial[p][c];
            }
        }
        MemorySegment.copy(partial[0], 0, out, F, 0, cols);
    }

    @Override
    public void l2NormalizeBackward(Tensor x, Tensor norms, Tensor dy, Tensor dx) {
        int[] dims = l2NormalizeBackwardDims(x, norms, dy, dx);
        int rows = dims[0], c = dims[1];
        MemorySegment xs = seg(x), ns = seg(norms), g = seg(dy), out = seg(dx);
        pool.parallelFor(rows, 256, (from, to) -> {
            for (int r = from; r < to; r++) {
                long o = (long) r * c;
                float n = ns.getAtIndex(F, r), ne = n + 1e-8f;
                float k = n > 0 ? KERNELS.dot(xs, o, g, o, c) / (n * ne * ne) : 0f;
                // dx = dy / (n + e) - x (x·dy) / (n (n + e)^2)
                KERNELS.axpby(1f / ne, g, o, -k, xs, o, out, o, c);
            }
        });
    }

    // ------------------------------------------------------------------ optimizer support

    @Override
    public void scale(Tensor t, float k) {
        Shapes.requireType("scale", "t", t, DType.F32);
        MemorySegment s = seg(t);
        int n = Math.toIntExact(t.numel());
        pool.parallelFor(n, 1 << 16, (from, to) -> KERNELS.scale(s, from, to - from, k));
    }

    /** Elements per partial sum of {@link #sumOfSquares}: fixed, so the sum has the same bits at any thread count. */
    private static final long SUM_BLOCK = 1 << 18;

    /**
     * One pass on all threads: blocks of {@link #SUM_BLOCK} summed in double by the kernel, the
     * partials added in block order (deterministic, and independent of the thread count).
     */
    @Override
    public double sumOfSquares(Tensor t) {
        Shapes.requireType("sumOfSquares", "t", t, DType.F32);
        MemorySegment s = seg(t);
        long n = t.numel();
        int blocks = Math.toIntExact(Math.max(1, (n + SUM_BLOCK - 1) / SUM_BLOCK));
        double[] partial = new double[blocks];
        OpProfile.time("sumOfSquares (Java)", () -> pool.parallelFor(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                long o = b * SUM_BLOCK;
                partial[b] = KERNELS.sumOfSquares(s, o, Math.min(SUM_BLOCK, n - o));
            }
        }));
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        adamw(param, grad, 1f, m, v, null, s);
    }

    /** One pass: the clip's scale, the update and the bf16 shadow in the same sweep; {@code grad} is only read. */
    @Override
    public void adamw(Tensor param, Tensor grad, float gradScale, Tensor m, Tensor v, Tensor shadow, AdamWStep s) {
        requireAdamW(param, grad, m, v);
        if (shadow != null) {
            requireShadow(param, shadow);
            if (packed(shadow)) {
                throw new LitException("adamw: shadow " + shadow + " is packed; it must be a plain bf16 tensor");
            }
        }
        MemorySegment p = seg(param), g = seg(grad), ms = seg(m), vs = seg(v), sh = shadow == null ? null : seg(shadow);
        int n = Math.toIntExact(param.numel());
        float decay = 1f - s.lr() * s.weightDecay();
        float stepSize = (float) (s.lr() / s.correction1());
        float invSqrtC2 = (float) (1.0 / Math.sqrt(s.correction2()));
        // each chunk gets its own slices from offset 0: with one varying offset into segments of many
        // sizes, C2's profiled loop predicates kept failing and the kernel kept deoptimising
        OpProfile.time("adamw (Java)", () -> pool.parallelFor(n, 1 << 15, (from, to) -> {
            long at = from * 4L, bytes = (to - from) * 4L;
            KERNELS.adamw(p.asSlice(at, bytes), g.asSlice(at, bytes), ms.asSlice(at, bytes), vs.asSlice(at, bytes), 0,
                    to - from, gradScale, decay, s.beta1(), s.beta2(), s.eps(), stepSize, invSqrtC2,
                    sh == null ? null : sh.asSlice(from * 2L, (to - from) * 2L));
        }));
    }

    /** Ends the calling thread's OpenMP team: a team idle on one thread slows every other thread's primitives (see {@code Omp}). */
    @Override
    public void releaseThread() {
        rt.releaseThread();
    }

    /** Sizes the calling thread's OpenMP team; each cached primitive belongs to the team size it was made for. */
    @Override
    public void useThreads(int n) {
        rt.useThreads(n);
    }

    @Override
    public void close() {
        rt.close();
        pool.close();
    }
}

package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.bindings.dnnl.dnnl_h;
import io.lit4j.simd.VectorKernels;
import io.lit4j.simd.WorkerPool;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The CPU backend: matmuls, LayerNorm, GELU, softmax and adds are oneDNN primitives (created once
 * per shape and cached); the attention softmax with its padding mask and the L2 normalisation are
 * Vector API loops on the engine's own {@link WorkerPool}.
 */
public final class OneDnnBackend extends HostBackend {
    private final int threads;
    private final Dnnl.Engine engine;
    private final Omp omp;
    private final WorkerPool pool;
    private final Map<Object, Dnnl.Primitive> primitives = new ConcurrentHashMap<>();
    private final List<Dnnl.Stream> streams = new ArrayList<>();
    private final ThreadLocal<Dnnl.Stream> stream;
    private volatile boolean closed;

    /** Loads oneDNN (if not yet loaded) and creates a CPU engine that uses {@code threads} threads. */
    public OneDnnBackend(int threads) {
        if (threads < 1) {
            throw new LitException("oneDNN backend: thread count must be at least 1, got " + threads);
        }
        DnnlLibrary.load();
        this.threads = threads;
        this.engine = new Dnnl.Engine();
        this.omp = new Omp(threads);
        this.pool = new WorkerPool(threads, "lit4j-onednn");
        this.stream = ThreadLocal.withInitial(() -> {
            Dnnl.Stream s = new Dnnl.Stream(engine);
            synchronized (streams) {
                streams.add(s);
            }
            return s;
        });
    }

    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public List<String> describe() {
        return List.of(
                "oneDNN " + Dnnl.version() + ", dispatching to " + Dnnl.effectiveIsa(),
                "oneDNN threads (OpenMP): " + omp.maxThreads() + ", Java worker threads: " + pool.threads(),
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

    /** The cached primitive for {@code key}, created by {@code make} on first use. */
    private Dnnl.Primitive primitive(Object key, Supplier<Dnnl.Primitive> make) {
        if (closed) {
            throw new LitException("oneDNN backend is closed");
        }
        Dnnl.Primitive p = primitives.get(key);
        if (p == null) {
            p = primitives.computeIfAbsent(key, k -> make.get());
        }
        return p;
    }

    private void run(Dnnl.Primitive p, MemorySegment... buffers) {
        omp.configureCurrentThread();
        p.execute(stream.get(), buffers);
    }

    /** The implementation oneDNN chose for the linear of this shape (for benchmarks and info). */
    public String linearImplementation(int n, int k, int m) {
        return linearPrimitive(n, k, m, DType.F32, DType.F32, DType.F32, true, Epilogue.NONE).implementation();
    }

    // ------------------------------------------------------------------ linear / matmul

    private record LinearKey(int n, int k, int m, DType x, DType w, DType y, boolean bias, Epilogue epi) {
    }

    private Dnnl.Primitive linearPrimitive(int n, int k, int m, DType xt, DType wt, DType yt, boolean hasBias, Epilogue epi) {
        LinearKey key = new LinearKey(n, k, m, xt, wt, yt, hasBias, epi);
        return primitive(key, () -> {
            String ctx = "linear x[" + n + "," + k + "] · w[" + k + "," + m + "] " + epi;
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(xt, n, k);
            Dnnl.MemoryDesc wts = Dnnl.MemoryDesc.dense(wt, k, m);
            Dnnl.MemoryDesc bias = hasBias ? Dnnl.MemoryDesc.dense(DType.F32, 1, m) : null;
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(yt, n, m);
            try (Dnnl.Attr attr = new Dnnl.Attr()) {
                switch (epi) {
                    case GELU_TANH -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_tanh(), 0f, 0f);
                    case GELU_ERF -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_erf(), 0f, 0f);
                    case ACCUMULATE -> attr.sum();
                    case NONE -> { }
                }
                attr.build();
                Dnnl.PdFactory f = out -> dnnl_h.dnnl_matmul_primitive_desc_create(out, engine.handle, src.handle, wts.handle,
                        bias == null ? MemorySegment.NULL : bias.handle, dst.handle, attr.handle);
                return hasBias
                        ? new Dnnl.Primitive(engine, ctx, f,
                                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_BIAS(), dnnl_h.DNNL_ARG_DST()},
                                new Dnnl.MemoryDesc[] {src, wts, bias, dst})
                        : new Dnnl.Primitive(engine, ctx, f,
                                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                                new Dnnl.MemoryDesc[] {src, wts, dst});
            }
        });
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue) {
        int[] d = linearDims(x, w, bias, y);
        if (bias != null) {
            Shapes.requireType("linear", "bias", bias, DType.F32);
        }
        Dnnl.Primitive p = linearPrimitive(d[0], d[1], d[2], x.dtype(), w.dtype(), y.dtype(), bias != null, epilogue);
        if (bias != null) {
            run(p, seg(x), seg(w), seg(bias), seg(y));
        } else {
            run(p, seg(x), seg(w), seg(y));
        }
    }

    private record MatmulKey(int batch, int m, int k, int n, int ba, int bb, boolean ta, boolean tb, float alpha,
                             DType a, DType b, DType c) {
    }

    @Override
    public void matmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, float alpha) {
        int[] d = matmulDims(a, ta, b, tb, c);
        int batch = d[0], m = d[1], k = d[2], n = d[3], ba = d[4], bb = d[5];
        MatmulKey key = new MatmulKey(batch, m, k, n, ba, bb, ta, tb, alpha, a.dtype(), b.dtype(), c.dtype());
        Dnnl.Primitive p = primitive(key, () -> {
            String ctx = "matmul a" + a + (ta ? "ᵀ" : "") + " · b" + b + (tb ? "ᵀ" : "") + " -> c" + c;
            Dnnl.MemoryDesc am = Dnnl.MemoryDesc.strided(a.dtype(), new long[] {ba, m, k},
                    ta ? new long[] {(long) m * k, 1, m} : new long[] {(long) m * k, k, 1});
            Dnnl.MemoryDesc bm = Dnnl.MemoryDesc.strided(b.dtype(), new long[] {bb, k, n},
                    tb ? new long[] {(long) k * n, 1, k} : new long[] {(long) k * n, n, 1});
            Dnnl.MemoryDesc cm = Dnnl.MemoryDesc.dense(c.dtype(), batch, m, n);
            try (Dnnl.Attr attr = new Dnnl.Attr()) {
                if (alpha != 1f) {
                    attr.eltwise(dnnl_h.dnnl_eltwise_linear(), alpha, 0f);
                }
                attr.build();
                return new Dnnl.Primitive(engine, ctx,
                        out -> dnnl_h.dnnl_matmul_primitive_desc_create(out, engine.handle, am.handle, bm.handle,
                                MemorySegment.NULL, cm.handle, attr.handle),
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                        new Dnnl.MemoryDesc[] {am, bm, cm});
            }
        });
        run(p, seg(a), seg(b), seg(c));
    }

    // ------------------------------------------------------------------ elementwise and normalisation

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
        Dnnl.Primitive p = primitive(new AddKey(rows, cols, a.dtype(), b.dtype(), out.dtype()), () -> {
            String ctx = "add a" + a + " + b" + b;
            Dnnl.MemoryDesc s0 = Dnnl.MemoryDesc.dense(a.dtype(), rows, cols);
            Dnnl.MemoryDesc s1 = Dnnl.MemoryDesc.dense(b.dtype(), 1, cols);
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(out.dtype(), rows, cols);
            return new Dnnl.Primitive(engine, ctx,
                    o -> dnnl_h.dnnl_binary_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_binary_add(), s0.handle, s1.handle,
                            dst.handle, MemorySegment.NULL),
                    new int[] {dnnl_h.DNNL_ARG_SRC_0(), dnnl_h.DNNL_ARG_SRC_1(), dnnl_h.DNNL_ARG_DST()},
                    new Dnnl.MemoryDesc[] {s0, s1, dst});
        });
        run(p, seg(a), seg(b), seg(out));
    }

    private record LayerNormKey(int rows, int d, float eps, boolean training, DType x, DType y) {
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor rstd) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.require("layerNorm", "scale", scale, d);
        Shapes.require("layerNorm", "bias", bias, d);
        Shapes.requireType("layerNorm", "scale", scale, DType.F32);
        Shapes.requireType("layerNorm", "bias", bias, DType.F32);
        if (x.rows() != y.rows() || y.dim(-1) != d) {
            throw new LitException("layerNorm: x " + x + " and y " + y + " must match");
        }
        boolean training = mean != null || rstd != null;
        if (training) {
            if (mean == null || rstd == null) {
                throw new LitException("layerNorm: mean and rstd are written together; pass both or neither");
            }
            Shapes.require("layerNorm", "mean", mean, rows);
            Shapes.require("layerNorm", "rstd", rstd, rows);
            Shapes.requireType("layerNorm", "mean", mean, DType.F32);
            Shapes.requireType("layerNorm", "rstd", rstd, DType.F32);
        }
        Dnnl.Primitive p = primitive(new LayerNormKey(rows, d, eps, training, x.dtype(), y.dtype()), () -> {
            String ctx = "layerNorm x" + x + " eps " + eps;
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(x.dtype(), rows, d);
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(y.dtype(), rows, d);
            Dnnl.MemoryDesc stat = Dnnl.MemoryDesc.dense(DType.F32, rows);
            Dnnl.MemoryDesc sc = Dnnl.MemoryDesc.dense(DType.F32, d);
            Dnnl.MemoryDesc sh = Dnnl.MemoryDesc.dense(DType.F32, d);
            int flags = dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift();
            int prop = training ? dnnl_h.dnnl_forward_training() : dnnl_h.dnnl_forward_inference();
            Dnnl.PdFactory f = o -> dnnl_h.dnnl_layer_normalization_forward_primitive_desc_create(o, engine.handle, prop,
                    src.handle, dst.handle, stat.handle, eps, flags, MemorySegment.NULL);
            if (training) {
                Dnnl.MemoryDesc stat2 = Dnnl.MemoryDesc.dense(DType.F32, rows);
                return new Dnnl.Primitive(engine, ctx, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST(),
                                dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE()},
                        new Dnnl.MemoryDesc[] {src, sc, sh, dst, stat, stat2});
            }
            try (stat) { // inference writes no statistics: the descriptor is only needed to create the primitive
                return new Dnnl.Primitive(engine, ctx, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST()},
                        new Dnnl.MemoryDesc[] {src, sc, sh, dst});
            }
        });
        if (!training) {
            run(p, seg(x), seg(scale), seg(bias), seg(y));
            return;
        }
        MemorySegment rs = seg(rstd);
        run(p, seg(x), seg(scale), seg(bias), seg(y), seg(mean), rs);
        for (int r = 0; r < rows; r++) { // oneDNN reports the variance; lit4j keeps 1/sqrt(var + eps)
            rs.setAtIndex(F, r, (float) (1.0 / Math.sqrt(rs.getAtIndex(F, r) + eps)));
        }
    }

    private record EltwiseKey(long n, int alg, DType x, DType y) {
    }

    @Override
    public void gelu(Tensor x, Tensor y, Gelu kind) {
        Shapes.requireSame("gelu", "x", x, "y", y);
        if (x.numel() == 0) {
            return;
        }
        int alg = kind == Gelu.TANH ? dnnl_h.dnnl_eltwise_gelu_tanh() : dnnl_h.dnnl_eltwise_gelu_erf();
        long n = x.numel();
        Dnnl.Primitive p = primitive(new EltwiseKey(n, alg, x.dtype(), y.dtype()), () -> {
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(x.dtype(), n);
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(y.dtype(), n);
            return new Dnnl.Primitive(engine, "gelu_" + kind.configName() + " x" + x,
                    o -> dnnl_h.dnnl_eltwise_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_inference(), alg,
                            src.handle, dst.handle, 0f, 0f, MemorySegment.NULL),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()}, new Dnnl.MemoryDesc[] {src, dst});
        });
        run(p, seg(x), seg(y));
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
        Dnnl.Primitive p = primitive(new SoftmaxKey(rows, cols, x.dtype(), y.dtype()), () -> {
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(x.dtype(), rows, cols);
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(y.dtype(), rows, cols);
            return new Dnnl.Primitive(engine, "softmax x" + x,
                    o -> dnnl_h.dnnl_softmax_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_inference(),
                            dnnl_h.dnnl_softmax_accurate(), src.handle, dst.handle, 1, MemorySegment.NULL),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()}, new Dnnl.MemoryDesc[] {src, dst});
        });
        run(p, seg(x), seg(y));
    }

    // ------------------------------------------------------------------ attention

    private record AttentionKey(int b, int t, int d, int h, String which) {
    }

    @Override
    public void attention(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out) {
        int[] dims = attentionDims(qkv, keyMask, heads, probs, out);
        int b = dims[0], t = dims[1], d = dims[2], h = dims[3], dh = dims[4];
        Shapes.requireType("attention", "qkv", qkv, DType.F32);
        Shapes.requireType("attention", "probs", probs, DType.F32);
        Shapes.requireType("attention", "out", out, DType.F32);
        long rowStride = 3L * d; // qkv row: [q(D) | k(D) | v(D)]
        long[] headView = {b, h, t, dh};
        long[] qvStrides = {t * rowStride, dh, rowStride, 1};
        // scores[b,h,i,j] = scale * sum_c q[b,i,h,c] k[b,j,h,c]: k viewed as [B,H,dh,T]
        Dnnl.Primitive scores = primitive(new AttentionKey(b, t, d, h, "qk"), () -> {
            Dnnl.MemoryDesc q = Dnnl.MemoryDesc.strided(DType.F32, headView, qvStrides);
            Dnnl.MemoryDesc kT = Dnnl.MemoryDesc.strided(DType.F32, new long[] {b, h, dh, t}, new long[] {t * rowStride, dh, 1, rowStride});
            Dnnl.MemoryDesc s = Dnnl.MemoryDesc.dense(DType.F32, b, h, t, t);
            try (Dnnl.Attr attr = new Dnnl.Attr()) {
                attr.eltwise(dnnl_h.dnnl_eltwise_linear(), (float) (1.0 / Math.sqrt(dh)), 0f).build();
                return new Dnnl.Primitive(engine, "attention scores q·kᵀ, qkv" + qkv + ", " + h + " heads",
                        o -> dnnl_h.dnnl_matmul_primitive_desc_create(o, engine.handle, q.handle, kT.handle, MemorySegment.NULL,
                                s.handle, attr.handle),
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                        new Dnnl.MemoryDesc[] {q, kT, s});
            }
        });
        MemorySegment base = seg(qkv);
        MemorySegment pr = seg(probs);
        run(scores, base, base.asSlice(d * 4L), pr);
        MemorySegment keep = keyMask == null ? null : seg(keyMask);
        if (keep != null) {
            Shapes.requireType("attention", "keyMask", keyMask, DType.F32);
        }
        pool.parallelFor(b * h * t, 64, (from, to) -> {
            for (int row = from; row < to; row++) {
                int batch = row / (h * t);
                VectorKernels.softmax(pr, (long) row * t, t, keep, (long) batch * t);
            }
        });
        if (t == 1) {
            // One key: P is 1 (or 0 where masked) and out = P * v. oneDNN 3.13 misreads a strided
            // weights operand whose K is 1 (it takes the K stride for N), so do this case here.
            MemorySegment o = seg(out);
            for (int n = 0; n < b; n++) {
                for (int hd = 0; hd < h; hd++) {
                    float w = pr.getAtIndex(F, (long) n * h + hd);
                    for (int c = 0; c < dh; c++) {
                        o.setAtIndex(F, (long) n * d + hd * dh + c, w * base.getAtIndex(F, n * rowStride + 2L * d + hd * dh + c));
                    }
                }
            }
            return;
        }
        run(attentionContext(qkv, b, t, d, h, dh), pr, base.asSlice(2L * d * 4), seg(out));
    }

    /** out[b,i,h,:] = sum_j P[b,h,i,j] v[b,j,h,:], reading v from qkv and writing heads side by side. */
    private Dnnl.Primitive attentionContext(Tensor qkv, int b, int t, int d, int h, int dh) {
        long rowStride = 3L * d;
        long[] headView = {b, h, t, dh};
        long[] qvStrides = {t * rowStride, dh, rowStride, 1};
        return primitive(new AttentionKey(b, t, d, h, "pv"), () -> {
            Dnnl.MemoryDesc p = Dnnl.MemoryDesc.dense(DType.F32, b, h, t, t);
            Dnnl.MemoryDesc v = Dnnl.MemoryDesc.strided(DType.F32, headView, qvStrides);
            Dnnl.MemoryDesc o = Dnnl.MemoryDesc.strided(DType.F32, headView, new long[] {(long) t * d, dh, d, 1});
            return new Dnnl.Primitive(engine, "attention context p·v, qkv" + qkv + ", " + h + " heads",
                    f -> dnnl_h.dnnl_matmul_primitive_desc_create(f, engine.handle, p.handle, v.handle, MemorySegment.NULL,
                            o.handle, MemorySegment.NULL),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                    new Dnnl.MemoryDesc[] {p, v, o});
        });
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
                float n = VectorKernels.l2Normalize(xs, (long) r * c, c, ys, (long) r * c);
                if (nsFinal != null) {
                    nsFinal.setAtIndex(F, r, n);
                }
            }
        });
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        primitives.values().forEach(Dnnl.Primitive::close);
        primitives.clear();
        synchronized (streams) {
            streams.forEach(Dnnl.Stream::close);
            streams.clear();
        }
        engine.close();
        pool.close();
    }
}

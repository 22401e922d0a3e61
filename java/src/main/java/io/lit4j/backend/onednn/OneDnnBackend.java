package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.backend.OpProfile;
import io.lit4j.bindings.dnnl.dnnl_h;
import io.lit4j.simd.VectorKernels;
import io.lit4j.simd.WorkerPool;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
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
    private final boolean bf16Math;
    private final Dnnl.Engine engine;
    /** Attributes for primitives without post-ops: only the user-managed scratchpad (see {@link Dnnl.Attr}). */
    private final Dnnl.Attr plainAttr;
    /** Each thread's scratchpad, grown to the largest any primitive asked for. */
    private final ThreadLocal<MemorySegment[]> scratchpad = ThreadLocal.withInitial(() -> new MemorySegment[1]);
    private final Omp omp;
    private final WorkerPool pool;
    private final Map<Object, Dnnl.Primitive> primitives = new ConcurrentHashMap<>();
    /** Blocked weight layouts by key, chosen once per (K, M, precision). */
    private final Map<String, Dnnl.MemoryDesc> layouts = new ConcurrentHashMap<>();
    /** Rows of the activation the weight layout is chosen for; oneDNN uses the same layout for other batch sizes. */
    private static final int PACK_ROWS = 256;
    private final List<Dnnl.Stream> streams = new ArrayList<>();
    private final ThreadLocal<Dnnl.Stream> stream;
    private volatile boolean closed;

    /** Loads oneDNN (if not yet loaded) and creates a CPU engine that uses {@code threads} threads. */
    public OneDnnBackend(int threads) {
        this(threads, DType.F32);
    }

    /**
     * As above; with {@code matmulPrecision} BF16 every matmul (forward and backward) runs in
     * oneDNN's bf16 math mode: fp32 tensors in memory, products in bf16 on the CPU's bf16
     * instructions, fp32 accumulation.
     */
    public OneDnnBackend(int threads, DType matmulPrecision) {
        if (threads < 1) {
            throw new LitException("oneDNN backend: thread count must be at least 1, got " + threads);
        }
        if (matmulPrecision != DType.F32 && matmulPrecision != DType.BF16) {
            throw new LitException("oneDNN backend: matmul precision must be F32 or BF16, got " + matmulPrecision);
        }
        DnnlLibrary.load();
        this.bf16Math = matmulPrecision == DType.BF16;
        this.threads = threads;
        this.engine = new Dnnl.Engine();
        this.plainAttr = new Dnnl.Attr().build();
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
        return bf16Math ? "onednn-bf16" : "onednn";
    }

    /** Every matmul's attribute: bf16 math when the backend was opened for it. */
    private Dnnl.Attr matmulAttr() {
        Dnnl.Attr a = new Dnnl.Attr();
        if (bf16Math) {
            a.fpmath(dnnl_h.dnnl_fpmath_mode_bf16());
        }
        return a;
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

    private static void timed(String kind, Runnable r) {
        if (!OpProfile.enabled()) {
            r.run();
            return;
        }
        long t0 = System.nanoTime();
        r.run();
        OpProfile.record(kind, System.nanoTime() - t0);
    }

    private void run(Dnnl.Primitive p, MemorySegment... buffers) {
        omp.configureCurrentThread();
        MemorySegment scratch = scratchFor(p.scratchpadBytes());
        if (OpProfile.enabled()) {
            long t0 = System.nanoTime();
            p.execute(stream.get(), scratch, buffers);
            OpProfile.record(p.kind, System.nanoTime() - t0);
        } else {
            p.execute(stream.get(), scratch, buffers);
        }
    }

    /**
     * The calling thread's scratchpad, at least {@code bytes} long. oneDNN's own (library-mode)
     * scratchpad is shared by every execution of a primitive, which races when two threads run
     * the same primitive; each thread passing its own makes concurrent use safe.
     */
    private MemorySegment scratchFor(long bytes) {
        if (bytes == 0) {
            return null;
        }
        MemorySegment[] slot = scratchpad.get();
        if (slot[0] == null || slot[0].byteSize() < bytes) {
            TensorArena a = newArena();
            synchronized (scratchArenas) {
                scratchArenas.add(a);
            }
            long size = Math.max(bytes, 1L << 20);
            slot[0] = seg(a.allocate(DType.F32, Math.toIntExact((size + 3) / 4)));
        }
        return slot[0];
    }

    // ------------------------------------------------------------------ linear / matmul

    private record LinearKey(int n, int k, int m, DType x, DType w, DType y, boolean bias, Epilogue epi, String layout) {
    }

    private Dnnl.Primitive linearPrimitive(int n, int k, int m, DType xt, DType wt, DType yt, boolean hasBias, Epilogue epi,
                                           String layout) {
        LinearKey key = new LinearKey(n, k, m, xt, wt, yt, hasBias, epi, layout);
        return primitive(key, () -> {
            String ctx = "linear x[" + n + "," + k + "] · w[" + k + "," + m + "]" + (layout == null ? "" : " packed") + " " + epi;
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(xt, n, k);
            Dnnl.MemoryDesc wts = layout == null ? Dnnl.MemoryDesc.dense(wt, k, m) : Dnnl.MemoryDesc.copyOf(layouts.get(layout).handle, layout);
            Dnnl.MemoryDesc bias = hasBias ? Dnnl.MemoryDesc.dense(DType.F32, 1, m) : null;
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(yt, n, m);
            try (Dnnl.Attr attr = matmulAttr()) {
                switch (epi) {
                    case GELU_TANH -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_tanh(), 0f, 0f);
                    case GELU_ERF -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_erf(), 0f, 0f);
                    case ACCUMULATE -> attr.sum();
                    case NONE -> { }
                }
                if (wt == DType.BF16 && xt == DType.F32) {
                    attr.fpmath(dnnl_h.dnnl_fpmath_mode_bf16()); // fp32 activations multiplied in bf16, fp32 accumulation
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
        String layout = w.storage() instanceof PackedWeights pw ? pw.layout() : null;
        if (layout != null && w.dtype() == DType.BF16 && x.dtype() == DType.F32) {
            // bf16-packed weights run on bf16 inputs (oneDNN has no fast kernel for fp32 x bf16): convert x first
            x = bf16Operand(x, SLOT_X);
        } else if (layout == null && bf16Math) {
            // bf16 math on plain (training) weights: oneDNN ignores fpmath=bf16 for fp32 operands on CPUs
            // without AMX, so convert both operands and run its bf16 kernel (fp32 accumulation and output)
            x = bf16Operand(x, SLOT_X);
            w = bf16Operand(w, SLOT_W);
        }
        Dnnl.Primitive p = linearPrimitive(d[0], d[1], d[2], x.dtype(), w.dtype(), y.dtype(), bias != null, epilogue, layout);
        if (bias != null) {
            run(p, seg(x), seg(w), seg(bias), seg(y));
        } else {
            run(p, seg(x), seg(w), seg(y));
        }
    }

    /**
     * Per-thread buffers, grown when needed: bf16 copies of a matmul's fp32 operands (activations
     * {@code SLOT_X}, weights {@code SLOT_W}, upstream gradients {@code SLOT_DY}) and the fp32
     * attention output before its conversion to bf16 ({@code SLOT_ATTN}).
     */
    private static final int SLOT_X = 0, SLOT_ATTN = 1, SLOT_W = 2, SLOT_DY = 3;
    private final ThreadLocal<Tensor[]> threadScratch = ThreadLocal.withInitial(() -> new Tensor[4]);
    private final List<TensorArena> scratchArenas = new ArrayList<>();

    private Tensor scratch(int slotIndex, DType dtype, int[] shape) {
        Tensor[] slot = threadScratch.get();
        long numel = 1;
        for (int dim : shape) {
            numel *= dim;
        }
        if (slot[slotIndex] == null || slot[slotIndex].numel() < numel) {
            TensorArena a = newArena();
            synchronized (scratchArenas) {
                scratchArenas.add(a);
            }
            slot[slotIndex] = a.allocate(dtype, Math.toIntExact(Math.max(numel, 1L << 16)));
        }
        return slot[slotIndex].sub(0, dtype, shape);
    }

    /** {@code t} as a bf16 matmul operand: a bf16 copy in this thread's {@code slot} when it is fp32. */
    private Tensor bf16Operand(Tensor t, int slot) {
        if (t.dtype() != DType.F32) {
            return t;
        }
        Tensor copy = scratch(slot, DType.BF16, t.shape());
        convert(t, copy);
        return copy;
    }

    /** dst = src with a dtype conversion, by a oneDNN reorder. */
    private void convert(Tensor src, Tensor dst) {
        long n = src.numel();
        Dnnl.Primitive p = primitive("convert " + n + " " + src.dtype() + " -> " + dst.dtype(), () -> {
            Dnnl.MemoryDesc from = Dnnl.MemoryDesc.dense(src.dtype(), n);
            Dnnl.MemoryDesc to = Dnnl.MemoryDesc.dense(dst.dtype(), n);
            return new Dnnl.Primitive(engine, "convert " + src + " to " + dst.dtype(),
                    o -> dnnl_h.dnnl_reorder_primitive_desc_create(o, from.handle, engine.handle, to.handle, engine.handle, plainAttr.handle),
                    new int[] {dnnl_h.DNNL_ARG_FROM(), dnnl_h.DNNL_ARG_TO()}, new Dnnl.MemoryDesc[] {from, to});
        });
        run(p, seg(src), seg(dst));
    }

    // ------------------------------------------------------------------ packed weights

    @Override
    public Tensor packWeights(Tensor w, DType precision, TensorArena arena) {
        if (w.rank() != 2 || w.storage() instanceof PackedWeights) {
            throw new LitException("packWeights: expected a plain weight matrix [K,M], got " + w);
        }
        if (precision != DType.F32 && precision != DType.BF16) {
            throw new LitException("packWeights: precision must be F32 or BF16, got " + precision);
        }
        int k = w.dim(0), m = w.dim(1);
        String key = "weights " + k + "x" + m + " " + precision;
        Dnnl.MemoryDesc md = layouts.computeIfAbsent(key, kk -> chooseLayout(k, m, precision, kk));
        long bytes = md.byteSize();
        Tensor raw = arena.allocate(DType.F32, Math.toIntExact((bytes + 3) / 4));
        MemorySegment segment = seg(raw).asSlice(0, bytes);
        Tensor packed = Tensor.of(new PackedWeights(segment, key, precision, k, m), 0, precision, k, m);
        repackWeights(w, packed);
        return packed;
    }

    @Override
    public Tensor packWeightsInPlace(Tensor w, DType precision) {
        if (w.rank() != 2 || w.storage() instanceof PackedWeights || w.dtype() != DType.F32) {
            throw new LitException("packWeightsInPlace: expected a plain fp32 weight matrix [K,M], got " + w);
        }
        int k = w.dim(0), m = w.dim(1);
        String key = "weights " + k + "x" + m + " " + precision;
        long bytes = layouts.computeIfAbsent(key, kk -> chooseLayout(k, m, precision, kk)).byteSize();
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

    /** Asks a matmul with weights in "any" layout which layout it wants. */
    private Dnnl.MemoryDesc chooseLayout(int k, int m, DType precision, String key) {
        try (Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(precision, PACK_ROWS, k); // bf16 weights pair with bf16 inputs
             Dnnl.MemoryDesc wts = Dnnl.MemoryDesc.any(precision, k, m);
             Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(DType.F32, PACK_ROWS, m);
             Dnnl.Attr attr = matmulAttr()) {
            if (precision == DType.BF16) {
                attr.fpmath(dnnl_h.dnnl_fpmath_mode_bf16());
            }
            attr.build();
            try (Dnnl.PrimitiveDesc pd = new Dnnl.PrimitiveDesc("choose layout for " + key,
                    o -> dnnl_h.dnnl_matmul_primitive_desc_create(o, engine.handle, src.handle, wts.handle, MemorySegment.NULL,
                            dst.handle, attr.handle))) {
                return pd.queryMd(dnnl_h.dnnl_query_weights_md(), key);
            }
        }
    }

    @Override
    public void repackWeights(Tensor w, Tensor packed) {
        if (!(packed.storage() instanceof PackedWeights pw) || pw.k() != w.dim(0) || pw.m() != w.dim(1)) {
            throw new LitException("repackWeights: " + packed + " was not packed from a matrix like " + w);
        }
        Dnnl.Primitive reorder = primitive("reorder " + w.dtype() + " -> " + pw.layout(), () -> {
            Dnnl.MemoryDesc from = Dnnl.MemoryDesc.dense(w.dtype(), pw.k(), pw.m());
            Dnnl.MemoryDesc to = Dnnl.MemoryDesc.copyOf(layouts.get(pw.layout()).handle, pw.layout());
            return new Dnnl.Primitive(engine, "reorder weights " + w + " into " + pw.layout(),
                    o -> dnnl_h.dnnl_reorder_primitive_desc_create(o, from.handle, engine.handle, to.handle, engine.handle, plainAttr.handle),
                    new int[] {dnnl_h.DNNL_ARG_FROM(), dnnl_h.DNNL_ARG_TO()}, new Dnnl.MemoryDesc[] {from, to});
        });
        run(reorder, seg(w), pw.segment());
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
            try (Dnnl.Attr attr = matmulAttr()) {
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
                            dst.handle, plainAttr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC_0(), dnnl_h.DNNL_ARG_SRC_1(), dnnl_h.DNNL_ARG_DST()},
                    new Dnnl.MemoryDesc[] {s0, s1, dst});
        });
        run(p, seg(a), seg(b), seg(out));
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
        Dnnl.Primitive p = primitive(new LayerNormKey(rows, d, eps, training, x.dtype(), y.dtype()), () -> {
            String ctx = "layerNorm x" + x + " eps " + eps;
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(x.dtype(), rows, d);
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(y.dtype(), rows, d);
            Dnnl.MemoryDesc sc = Dnnl.MemoryDesc.dense(DType.F32, d);
            Dnnl.MemoryDesc sh = Dnnl.MemoryDesc.dense(DType.F32, d);
            Dnnl.MemoryDesc mu = Dnnl.MemoryDesc.dense(DType.F32, rows);
            Dnnl.MemoryDesc var = Dnnl.MemoryDesc.dense(DType.F32, rows);
            Dnnl.PdFactory f = o -> layerNormForwardPd(o, training, src, dst, mu, eps);
            if (training) {
                return new Dnnl.Primitive(engine, ctx, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST(),
                                dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE()},
                        new Dnnl.MemoryDesc[] {src, sc, sh, dst, mu, var});
            }
            try (mu; var) { // inference writes no statistics: the descriptor is only needed to create the primitive
                return new Dnnl.Primitive(engine, ctx, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST()},
                        new Dnnl.MemoryDesc[] {src, sc, sh, dst});
            }
        });
        if (training) {
            run(p, seg(x), seg(scale), seg(bias), seg(y), seg(mean), seg(variance));
        } else {
            run(p, seg(x), seg(scale), seg(bias), seg(y));
        }
    }

    private int layerNormForwardPd(MemorySegment out, boolean training, Dnnl.MemoryDesc src, Dnnl.MemoryDesc dst, Dnnl.MemoryDesc stat,
                                   float eps) {
        int prop = training ? dnnl_h.dnnl_forward_training() : dnnl_h.dnnl_forward_inference();
        return dnnl_h.dnnl_layer_normalization_forward_primitive_desc_create(out, engine.handle, prop, src.handle, dst.handle,
                stat.handle, eps, dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift(), plainAttr.handle);
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
                            src.handle, dst.handle, 0f, 0f, plainAttr.handle),
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
                            dnnl_h.dnnl_softmax_accurate(), src.handle, dst.handle, 1, plainAttr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()}, new Dnnl.MemoryDesc[] {src, dst});
        });
        run(p, seg(x), seg(y));
    }

    // ------------------------------------------------------------------ attention

    /** Views of one qkv (or dqkv) tensor as per-head 4-D arrays for the strided matmuls. */
    private record HeadViews(int b, int t, int d, int h, int dh) {
        /** q, k or v ({@code part} 0, 1, 2) as [B,H,T,dh]. */
        long[] qkvStrides() {
            return new long[] {(long) t * 3 * d, dh, 3L * d, 1};
        }

        /** k or v transposed, as [B,H,dh,T]. */
        long[] qkvTransposedStrides() {
            return new long[] {(long) t * 3 * d, dh, 1, 3L * d};
        }

        /** The attention output [B,T,D] as [B,H,T,dh]. */
        long[] outStrides() {
            return new long[] {(long) t * d, dh, d, 1};
        }

        long[] heads() {
            return new long[] {b, h, t, dh};
        }

        long[] headsTransposed() {
            return new long[] {b, h, dh, t};
        }

        long[] scores() {
            return new long[] {b, h, t, t};
        }

        long[] scoresStrides() {
            return new long[] {(long) h * t * t, (long) t * t, t, 1};
        }

        long[] scoresTransposedStrides() {
            return new long[] {(long) h * t * t, (long) t * t, 1, t};
        }

        long partBytes(int part) {
            return (long) part * d * 4;
        }
    }

    /** One operand of a strided matmul: dims and strides (fp32). */
    private record View(long[] dims, long[] strides) {
        @Override
        public String toString() {
            return Arrays.toString(dims) + "/" + Arrays.toString(strides);
        }
    }

    /** dst = alpha · src · weights over 4-D strided views (batch dims 0 and 1), cached by its views. */
    private Dnnl.Primitive stridedMatmul(String what, View src, View wts, View dst, float alpha) {
        String key = "strided " + what + " " + src + " " + wts + " " + dst + " " + alpha;
        return primitive(key, () -> {
            Dnnl.MemoryDesc sm = Dnnl.MemoryDesc.strided(DType.F32, src.dims(), src.strides());
            Dnnl.MemoryDesc wm = Dnnl.MemoryDesc.strided(DType.F32, wts.dims(), wts.strides());
            Dnnl.MemoryDesc dm = Dnnl.MemoryDesc.strided(DType.F32, dst.dims(), dst.strides());
            try (Dnnl.Attr attr = matmulAttr()) {
                if (alpha != 1f) {
                    attr.eltwise(dnnl_h.dnnl_eltwise_linear(), alpha, 0f);
                }
                attr.build();
                return new Dnnl.Primitive(engine, what + ": " + key,
                        o -> dnnl_h.dnnl_matmul_primitive_desc_create(o, engine.handle, sm.handle, wm.handle, MemorySegment.NULL,
                                dm.handle, attr.handle),
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                        new Dnnl.MemoryDesc[] {sm, wm, dm});
            }
        });
    }

    @Override
    public void attention(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out) {
        int[] dims = attentionDims(qkv, keyMask, heads, probs, out);
        int b = dims[0], t = dims[1], d = dims[2], h = dims[3], dh = dims[4];
        Shapes.requireType("attention", "qkv", qkv, DType.F32);
        Shapes.requireType("attention", "probs", probs, DType.F32);
        Shapes.requireType("attention", "out", out, DType.F32, DType.BF16);
        HeadViews hv = new HeadViews(b, t, d, h, dh);
        MemorySegment base = seg(qkv), pr = seg(probs), o = seg(out);
        // scores[b,h,i,j] = q[b,i,h,:] · k[b,j,h,:] / sqrt(dh)
        run(stridedMatmul("attention q·kᵀ", new View(hv.heads(), hv.qkvStrides()), new View(hv.headsTransposed(), hv.qkvTransposedStrides()),
                new View(hv.scores(), hv.scoresStrides()), (float) (1.0 / Math.sqrt(dh))), base, base.asSlice(hv.partBytes(1)), pr);
        MemorySegment keep = keyMask == null ? null : seg(keyMask);
        if (keep != null) {
            Shapes.requireType("attention", "keyMask", keyMask, DType.F32);
        }
        // at least ~32k elements per task: waking a worker costs more than a few short rows
        timed("attention softmax (Java)", () -> pool.parallelFor(b * h * t, Math.max(64, (1 << 15) / t), (from, to) -> {
            for (int row = from; row < to; row++) {
                VectorKernels.softmax(pr, (long) row * t, t, keep, (long) (row / (h * t)) * t);
            }
        }));
        if (t == 1) {
            // One key: P is 1 (or 0 where masked) and out = P * v. oneDNN 3.13 misreads a strided
            // weights operand whose K is 1 (it takes the K stride for N), so do this case here.
            for (int n = 0; n < b; n++) {
                for (int hd = 0; hd < h; hd++) {
                    float w = pr.getAtIndex(F, (long) n * h + hd);
                    for (int c = 0; c < dh; c++) {
                        setF(o, out.dtype(), (long) n * d + hd * dh + c, w * base.getAtIndex(F, n * 3L * d + 2L * d + hd * dh + c));
                    }
                }
            }
            return;
        }
        // out[b,i,h,:] = Σ_j P[b,h,i,j] v[b,j,h,:]. oneDNN 3.13 has no fast kernel for fp32 operands
        // with a strided bf16 destination (it falls back to ref:any, ~100x slower), so a bf16 output is
        // written in fp32 first and converted.
        Tensor f32Out = out.dtype() == DType.F32 ? out : scratch(SLOT_ATTN, DType.F32, out.shape());
        run(stridedMatmul("attention p·v", new View(hv.scores(), hv.scoresStrides()), new View(hv.heads(), hv.qkvStrides()),
                new View(hv.heads(), hv.outStrides()), 1f), pr, base.asSlice(hv.partBytes(2)), seg(f32Out));
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
                float n = VectorKernels.l2Normalize(xs, (long) r * c, c, ys, (long) r * c);
                if (nsFinal != null) {
                    nsFinal.setAtIndex(F, r, n);
                }
            }
        });
    }

    // ------------------------------------------------------------------ backward

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = linearDims(x, w, null, dy);
        int n = d[0], k = d[1], m = d[2];
        Shapes.requireType("linearBackward", "dy", dy, DType.F32);
        if (dw != null) {
            Shapes.requireSame("linearBackward", "w", w, "dw", dw);
        }
        Tensor dyIn = dy;
        if (bf16Math) { // both products in bf16 with fp32 accumulation, as in linear
            dyIn = bf16Operand(dy, SLOT_DY);
        }
        if (dx != null) { // dx[N,K] = dy[N,M] · wᵀ
            if (dx.rows() != n || dx.dim(-1) != k) {
                throw new LitException("linearBackward: dx " + dx + " should match x " + x);
            }
            Tensor wIn = bf16Math ? bf16Operand(w, SLOT_W) : w;
            run(plainMatmul("linear dx = dy·wᵀ", new View(new long[] {n, m}, new long[] {m, 1}), dyIn.dtype(),
                    new View(new long[] {m, k}, new long[] {1, m}), wIn.dtype(), new View(new long[] {n, k}, new long[] {k, 1})),
                    seg(dyIn), seg(wIn), seg(dx));
        }
        if (dw != null) { // dw[K,M] = xᵀ · dy
            Tensor xIn = bf16Math ? bf16Operand(x, SLOT_X) : x;
            run(plainMatmul("linear dw = xᵀ·dy", new View(new long[] {k, n}, new long[] {1, k}), xIn.dtype(),
                    new View(new long[] {n, m}, new long[] {m, 1}), dyIn.dtype(), new View(new long[] {k, m}, new long[] {m, 1})),
                    seg(xIn), seg(dyIn), seg(dw));
        }
        if (db != null) {
            Shapes.require("linearBackward", "db", db, m);
            sumToShape(dy, db);
        }
    }

    /** dst = src · weights over 2-D strided views, into fp32. */
    private Dnnl.Primitive plainMatmul(String what, View src, DType srcType, View wts, DType wtsType, View dst) {
        String key = "matmul2 " + what + " " + src + " " + srcType + " " + wts + " " + wtsType + " " + dst;
        return primitive(key, () -> {
            Dnnl.MemoryDesc sm = Dnnl.MemoryDesc.strided(srcType, src.dims(), src.strides());
            Dnnl.MemoryDesc wm = Dnnl.MemoryDesc.strided(wtsType, wts.dims(), wts.strides());
            Dnnl.MemoryDesc dm = Dnnl.MemoryDesc.strided(DType.F32, dst.dims(), dst.strides());
            try (Dnnl.Attr attr = matmulAttr().build()) {
                return new Dnnl.Primitive(engine, what + ": " + key,
                        o -> dnnl_h.dnnl_matmul_primitive_desc_create(o, engine.handle, sm.handle, wm.handle, MemorySegment.NULL, dm.handle,
                                attr.handle),
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()}, new Dnnl.MemoryDesc[] {sm, wm, dm});
            }
        });
    }

    private record LayerNormBackwardKey(int rows, int d, float eps, boolean params) {
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor scale, Tensor mean, Tensor variance, float eps, Tensor dy, Tensor dx,
                                  Tensor dscale, Tensor dbias) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.requireSame("layerNormBackward", "x", x, "dy", dy);
        Shapes.require("layerNormBackward", "mean", mean, rows);
        Shapes.require("layerNormBackward", "variance", variance, rows);
        if (dx == null) {
            throw new LitException("layerNormBackward: the oneDNN backend always computes dx; pass a tensor for it");
        }
        Shapes.requireSame("layerNormBackward", "x", x, "dx", dx);
        boolean params = dscale != null || dbias != null;
        if (params && (dscale == null || dbias == null)) {
            throw new LitException("layerNormBackward: dscale and dbias are computed together; pass both or neither");
        }
        Dnnl.Primitive p = primitive(new LayerNormBackwardKey(rows, d, eps, params), () -> {
            String ctx = "layerNormBackward x" + x + " eps " + eps;
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(DType.F32, rows, d);
            Dnnl.MemoryDesc gdst = Dnnl.MemoryDesc.dense(DType.F32, rows, d);
            Dnnl.MemoryDesc gsrc = Dnnl.MemoryDesc.dense(DType.F32, rows, d);
            Dnnl.MemoryDesc mu = Dnnl.MemoryDesc.dense(DType.F32, rows);
            Dnnl.MemoryDesc var = Dnnl.MemoryDesc.dense(DType.F32, rows);
            Dnnl.MemoryDesc sc = Dnnl.MemoryDesc.dense(DType.F32, d);
            Dnnl.MemoryDesc gsc = Dnnl.MemoryDesc.dense(DType.F32, d);
            Dnnl.MemoryDesc gsh = Dnnl.MemoryDesc.dense(DType.F32, d);
            int prop = params ? dnnl_h.dnnl_backward() : dnnl_h.dnnl_backward_data();
            try (Dnnl.PrimitiveDesc hint = new Dnnl.PrimitiveDesc(ctx + " (forward hint)", o -> layerNormForwardPd(o, true, src, src, mu, eps))) {
                Dnnl.PdFactory f = o -> dnnl_h.dnnl_layer_normalization_backward_primitive_desc_create(o, engine.handle, prop, gsrc.handle,
                        gdst.handle, src.handle, mu.handle, eps, dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift(), hint.handle,
                        plainAttr.handle);
                if (params) {
                    return new Dnnl.Primitive(engine, ctx, f,
                            new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE(), dnnl_h.DNNL_ARG_DIFF_DST(),
                                    dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_DIFF_SRC(), dnnl_h.DNNL_ARG_DIFF_SCALE(), dnnl_h.DNNL_ARG_DIFF_SHIFT()},
                            new Dnnl.MemoryDesc[] {src, mu, var, gdst, sc, gsrc, gsc, gsh});
                }
                try (gsc; gsh) {
                    return new Dnnl.Primitive(engine, ctx, f,
                            new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE(), dnnl_h.DNNL_ARG_DIFF_DST(),
                                    dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                            new Dnnl.MemoryDesc[] {src, mu, var, gdst, sc, gsrc});
                }
            }
        });
        if (params) {
            run(p, seg(x), seg(mean), seg(variance), seg(dy), seg(scale), seg(dx), seg(dscale), seg(dbias));
        } else {
            run(p, seg(x), seg(mean), seg(variance), seg(dy), seg(scale), seg(dx));
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
        int alg = kind == Gelu.TANH ? dnnl_h.dnnl_eltwise_gelu_tanh() : dnnl_h.dnnl_eltwise_gelu_erf();
        Dnnl.Primitive p = primitive("geluBackward " + n + " " + kind, () -> {
            Dnnl.MemoryDesc src = Dnnl.MemoryDesc.dense(DType.F32, n);
            Dnnl.MemoryDesc gdst = Dnnl.MemoryDesc.dense(DType.F32, n);
            Dnnl.MemoryDesc gsrc = Dnnl.MemoryDesc.dense(DType.F32, n);
            String ctx = "geluBackward " + kind + " x" + x;
            try (Dnnl.PrimitiveDesc hint = new Dnnl.PrimitiveDesc(ctx + " (forward hint)",
                    o -> dnnl_h.dnnl_eltwise_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_training(), alg, src.handle,
                            src.handle, 0f, 0f, plainAttr.handle))) {
                return new Dnnl.Primitive(engine, ctx,
                        o -> dnnl_h.dnnl_eltwise_backward_primitive_desc_create(o, engine.handle, alg, gsrc.handle, gdst.handle, src.handle, 0f,
                                0f, hint.handle, plainAttr.handle),
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                        new Dnnl.MemoryDesc[] {src, gdst, gsrc});
            }
        });
        run(p, seg(x), seg(dy), seg(dx));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Shapes.requireSame("softmaxBackward", "y", y, "dy", dy);
        Shapes.requireSame("softmaxBackward", "y", y, "dx", dx);
        int cols = y.dim(-1), rows = y.rows();
        if (y.numel() == 0) {
            return;
        }
        Dnnl.Primitive p = primitive("softmaxBackward " + rows + "x" + cols, () -> {
            Dnnl.MemoryDesc dst = Dnnl.MemoryDesc.dense(DType.F32, rows, cols);
            Dnnl.MemoryDesc gdst = Dnnl.MemoryDesc.dense(DType.F32, rows, cols);
            Dnnl.MemoryDesc gsrc = Dnnl.MemoryDesc.dense(DType.F32, rows, cols);
            String ctx = "softmaxBackward y" + y;
            try (Dnnl.PrimitiveDesc hint = new Dnnl.PrimitiveDesc(ctx + " (forward hint)",
                    o -> dnnl_h.dnnl_softmax_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_training(),
                            dnnl_h.dnnl_softmax_accurate(), dst.handle, dst.handle, 1, plainAttr.handle))) {
                return new Dnnl.Primitive(engine, ctx,
                        o -> dnnl_h.dnnl_softmax_backward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_softmax_accurate(), gsrc.handle,
                                gdst.handle, dst.handle, 1, hint.handle, plainAttr.handle),
                        new int[] {dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                        new Dnnl.MemoryDesc[] {dst, gdst, gsrc});
            }
        });
        run(p, seg(y), seg(dy), seg(dx));
    }

    @Override
    public void attentionBackward(Tensor qkv, Tensor probs, int heads, Tensor dout, Tensor dqkv, Tensor scratch) {
        int[] dims = attentionDims(qkv, null, heads, probs, dout);
        int b = dims[0], t = dims[1], d = dims[2], h = dims[3], dh = dims[4];
        Shapes.requireSame("attentionBackward", "qkv", qkv, "dqkv", dqkv);
        Shapes.requireSame("attentionBackward", "probs", probs, "scratch", scratch);
        Shapes.requireType("attentionBackward", "dout", dout, DType.F32);
        HeadViews hv = new HeadViews(b, t, d, h, dh);
        MemorySegment in = seg(qkv), pr = seg(probs), go = seg(dout), gi = seg(dqkv), ds = seg(scratch);
        float scale = (float) (1.0 / Math.sqrt(dh));
        if (t == 1) { // one key: dq = dk = 0, dv = P · dout (see attention() for why this case is separate)
            gi.fill((byte) 0);
            for (int n = 0; n < b; n++) {
                for (int hd = 0; hd < h; hd++) {
                    float w = pr.getAtIndex(F, (long) n * h + hd);
                    for (int c = 0; c < dh; c++) {
                        gi.setAtIndex(F, n * 3L * d + 2L * d + hd * dh + c, w * go.getAtIndex(F, (long) n * d + hd * dh + c));
                    }
                }
            }
            ds.fill((byte) 0);
            return;
        }
        View heads4 = new View(hv.heads(), hv.qkvStrides());
        View outHeads = new View(hv.heads(), hv.outStrides());
        View scores = new View(hv.scores(), hv.scoresStrides());
        View scoresT = new View(hv.scores(), hv.scoresTransposedStrides());
        // dP[b,h,i,j] = dout[b,i,h,:] · v[b,j,h,:]
        run(stridedMatmul("attention dP = dO·vᵀ", outHeads, new View(hv.headsTransposed(), hv.qkvTransposedStrides()), scores, 1f),
                go, in.asSlice(hv.partBytes(2)), ds);
        // dS = P ⊙ (dP − rowsum(P ⊙ dP)) / sqrt(dh), in place
        timed("attention softmax backward (Java)", () -> pool.parallelFor(b * h * t, 64, (from, to) -> {
            for (int row = from; row < to; row++) {
                VectorKernels.softmaxBackward(pr, (long) row * t, ds, (long) row * t, t, scale);
            }
        }));
        // dq = dS · k;  dk = dSᵀ · q;  dv = Pᵀ · dout   (each written into its third of dqkv)
        run(stridedMatmul("attention dq = dS·k", scores, heads4, heads4, 1f), ds, in.asSlice(hv.partBytes(1)), gi);
        run(stridedMatmul("attention dk = dSᵀ·q", scoresT, heads4, heads4, 1f), ds, in, gi.asSlice(hv.partBytes(1)));
        run(stridedMatmul("attention dv = Pᵀ·dO", scoresT, outHeads, heads4, 1f), pr, go, gi.asSlice(hv.partBytes(2)));
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
        timed("sumToShape (Java)", () -> pool.parallelFor(parts, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                for (int r = p * per; r < Math.min(rows, (p + 1) * per); r++) {
                    VectorKernels.addInto(partial[p], g, (long) r * cols, cols);
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
        Shapes.requireSame("l2NormalizeBackward", "x", x, "dy", dy);
        Shapes.requireSame("l2NormalizeBackward", "x", x, "dx", dx);
        int c = x.dim(-1), rows = x.rows();
        Shapes.require("l2NormalizeBackward", "norms", norms, rows);
        MemorySegment xs = seg(x), ns = seg(norms), g = seg(dy), out = seg(dx);
        pool.parallelFor(rows, 256, (from, to) -> {
            for (int r = from; r < to; r++) {
                long o = (long) r * c;
                float n = ns.getAtIndex(F, r), ne = n + 1e-8f;
                float k = n > 0 ? VectorKernels.dot(xs, o, g, o, c) / (n * ne * ne) : 0f;
                // dx = dy / (n + e) - x (x·dy) / (n (n + e)^2)
                VectorKernels.axpby(1f / ne, g, o, -k, xs, o, out, o, c);
            }
        });
    }

    // ------------------------------------------------------------------ optimizer support

    @Override
    public void scale(Tensor t, float k) {
        Shapes.requireType("scale", "t", t, DType.F32);
        MemorySegment s = seg(t);
        int n = Math.toIntExact(t.numel());
        pool.parallelFor(n, 1 << 16, (from, to) -> VectorKernels.scale(s, from, to - from, k));
    }

    @Override
    public double sumOfSquares(Tensor t) {
        Shapes.requireType("sumOfSquares", "t", t, DType.F32);
        double[] out = new double[1];
        timed("sumOfSquares (Java)", () -> out[0] = VectorKernels.sumOfSquares(seg(t), 0, t.numel()));
        return out[0];
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        Shapes.requireSame("adamw", "param", param, "grad", grad);
        Shapes.requireSame("adamw", "param", param, "m", m);
        Shapes.requireSame("adamw", "param", param, "v", v);
        Shapes.requireType("adamw", "param", param, DType.F32);
        MemorySegment p = seg(param), g = seg(grad), ms = seg(m), vs = seg(v);
        int n = Math.toIntExact(param.numel());
        float decay = 1f - s.lr() * s.weightDecay();
        float stepSize = (float) (s.lr() / s.correction1());
        float invSqrtC2 = (float) (1.0 / Math.sqrt(s.correction2()));
        // each chunk gets its own slices from offset 0: with one varying offset into segments of many
        // sizes, C2's profiled loop predicates kept failing and the kernel kept deoptimising
        timed("adamw (Java)", () -> pool.parallelFor(n, 1 << 15, (from, to) -> {
            long at = from * 4L, bytes = (to - from) * 4L;
            VectorKernels.adamw(p.asSlice(at, bytes), g.asSlice(at, bytes), ms.asSlice(at, bytes), vs.asSlice(at, bytes), 0,
                    to - from, decay, s.beta1(), s.beta2(), s.eps(), stepSize, invSqrtC2);
        }));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        primitives.values().forEach(Dnnl.Primitive::close);
        primitives.clear();
        layouts.values().forEach(Dnnl.MemoryDesc::close);
        layouts.clear();
        synchronized (streams) {
            streams.forEach(Dnnl.Stream::close);
            streams.clear();
        }
        synchronized (scratchArenas) {
            scratchArenas.forEach(TensorArena::close);
        }
        plainAttr.close();
        engine.close();
        pool.close();
    }
}

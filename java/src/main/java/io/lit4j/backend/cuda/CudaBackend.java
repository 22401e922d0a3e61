package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.backend.Pool;
import io.lit4j.backend.cuda.DeviceOps.Buf;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.lit4j.backend.cuda.DeviceOps.buf;
import static io.lit4j.backend.cuda.DeviceOps.code;
import static io.lit4j.backend.cuda.DeviceOps.ptr;
import static io.lit4j.backend.cuda.KernelLaunch.elements;
import static io.lit4j.backend.cuda.KernelLaunch.rows;

/**
 * The GPU backend: tensors in device memory, every op enqueued on one stream of one GPU. GEMMs
 * go to cuBLASLt ({@link Cublas}); everything else is one of lit4j's kernels ({@link Kernel}).
 * Attention is split into heads, two strided-batched GEMMs around the masked softmax kernel, and
 * merged back; its backward is three more GEMMs around the softmax-backward kernel. Host code
 * sees device memory only through {@link #upload}/{@link #download}, which synchronize.
 *
 * <p>Status: written and compiled; NOT run on a GPU (the machines this was written on have
 * none). The cuda suites hold every op to the scalar oracle when a GPU is present.
 */
public final class CudaBackend implements Backend {
    private static final int NO_BAD_ID = Integer.MAX_VALUE;

    private final CudaDevice device;
    private final int threads;

    /** Opens GPU {@code ordinal}; {@code threads} is what {@link #threads()} reports (host threads for the data pipeline). */
    public CudaBackend(int ordinal, int threads) {
        this.device = CudaDevice.open(ordinal);
        this.threads = Math.max(1, threads);
    }

    /** Why the cuda backend cannot run here, or null when it can (libraries, a device and the kernels are all there). */
    public static String unavailableReason() {
        if (!CudaModule.inThisBuild()) {
            return "no kernels in this build (nvcc was not found when lit4j was built)";
        }
        try {
            CudaLibrary.load();
            CudaDriver.init();
            if (CudaDriver.deviceCount() < 1) {
                return "the CUDA driver sees no GPU";
            }
            return null;
        } catch (LitException e) {
            return e.getMessage();
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError e) {
            return "cannot call the CUDA driver: " + e.getMessage();
        }
    }

    /** Bytes of device memory this backend's pool has handed out and not had back (for leak checks). */
    public long deviceBytesInUse() {
        device.makeCurrent();
        return device.poolBytesInUse();
    }

    @Override
    public String name() {
        return "cuda";
    }

    /**
     * Mean pooling over real tokens (sentence-transformers' pooling, used by the MiniLM text tower)
     * has no CUDA kernel yet: it arrived after this backend was written. Refused by name, never
     * computed wrongly.
     */
    @Override
    public void maskedMean(Tensor x, Tensor mask, Tensor out) {
        throw new LitException("cuda: maskedMean (mean pooling over real tokens, e.g. MiniLM) is not on this backend yet; use --backend onednn");
    }

    @Override
    public void maskedMeanBackward(Tensor dout, Tensor mask, Tensor dx) {
        throw new LitException("cuda: maskedMeanBackward (mean pooling over real tokens, e.g. MiniLM) is not on this backend yet; use --backend onednn");
    }

    @Override
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        int[] cc = device.capability();
        out.add("cuda backend: " + device.name() + " (" + device.label() + ", sm_" + cc[0] + cc[1] + ", " + device.multiprocessors()
                + " SMs, " + (device.totalMemory() >> 20) + " MiB)");
        int dv = CudaDriver.driverVersion();
        CudaLibrary.Loaded libs = CudaLibrary.load();
        out.add("CUDA driver API " + dv / 1000 + "." + (dv % 1000) / 10 + " (" + libs.driver().file() + ")");
        long lt = Cublas.version();
        out.add("cuBLASLt " + lt / 10000 + "." + (lt / 100) % 100 + "." + lt % 100 + " (" + libs.cublasLt().file() + ", via "
                + libs.cublasLt().origin() + ")");
        out.add(libs.cudnn().map(f -> {
            long v = Cudnn.version();
            return "cuDNN " + v / 10000 + "." + (v / 100) % 100 + "." + v % 100 + " (" + f.file() + ", via " + f.origin() + "; not used by any op yet)";
        }).orElse("cuDNN: " + libs.cudnnProblem()));
        out.add("kernels: " + Kernel.values().length + " from the jar's fatbin (sm_80, sm_90, compute_80 PTX)");
        return out;
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public TensorArena newArena() {
        return new CudaArena(device);
    }

    private DeviceOps ops(String op, Object... operands) {
        OpContext.enter(op, operands);
        return new DeviceOps(device);
    }

    // ---------------------------------------------------------------- host transfers

    @Override
    public void upload(MemorySegment src, DType srcType, Tensor dst) {
        long n = dst.numel();
        if (src.byteSize() != n * srcType.byteSize()) {
            throw new LitException("upload: " + src.byteSize() + " bytes of " + srcType + " do not fill " + dst);
        }
        boolean convert = srcType != dst.dtype();
        if (convert && (!srcType.isFloating() || !dst.dtype().isFloating())) {
            throw new LitException("upload: cannot convert " + srcType + " to " + dst.dtype());
        }
        try (DeviceOps o = ops("upload", dst); Arena a = Arena.ofConfined()) {
            MemorySegment host = src;
            if (!src.isNative()) {
                host = a.allocate(src.byteSize(), 64);
                host.copyFrom(src);
            }
            if (!convert) {
                CudaDriver.copyToDevice(ptr(dst), host, src.byteSize(), device.stream());
            } else {
                Buf raw = o.temp(srcType, n);
                CudaDriver.copyToDevice(raw.address(), host, src.byteSize(), device.stream());
                o.convert(raw, buf(dst));
            }
            device.synchronize(); // the host buffer may be freed once this returns
        }
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        if (src.length != dst.numel()) {
            throw new LitException("upload: " + src.length + " floats do not fill " + dst);
        }
        upload(MemorySegment.ofArray(src), DType.F32, dst);
    }

    @Override
    public void upload(int[] src, Tensor dst) {
        Shapes.requireType("upload", "dst", dst, DType.I32);
        if (src.length != dst.numel()) {
            throw new LitException("upload: " + src.length + " ints do not fill " + dst);
        }
        upload(MemorySegment.ofArray(src), DType.I32, dst);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        if (dst.length != src.numel()) {
            throw new LitException("download: " + src + " does not fit " + dst.length + " floats");
        }
        try (DeviceOps o = ops("download", src); Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(Math.max(1, src.byteSize()), 64);
            CudaDriver.copyToHost(host, ptr(src), src.byteSize(), device.stream());
            device.synchronize();
            for (int i = 0; i < dst.length; i++) {
                dst[i] = switch (src.dtype()) {
                    case F32 -> host.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    case BF16 -> Floats.bf16ToF32(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
                    case F16 -> Floats.f16ToF32(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
                    case I32 -> host.getAtIndex(ValueLayout.JAVA_INT, i);
                    case I64 -> host.getAtIndex(ValueLayout.JAVA_LONG, i);
                };
            }
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.numel() != dst.numel()) {
            throw new LitException("copy: " + src + " and " + dst + " differ in size");
        }
        try (DeviceOps o = ops("copy", src, dst)) {
            if (src.dtype() == dst.dtype()) {
                CudaDriver.copyOnDevice(ptr(dst), ptr(src), src.byteSize(), device.stream());
            } else if (src.dtype().isFloating() && dst.dtype().isFloating()) {
                o.convert(buf(src), buf(dst));
            } else {
                throw new LitException("copy: cannot convert " + src.dtype() + " to " + dst.dtype());
            }
        }
    }

    // ---------------------------------------------------------------- matmuls

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue) {
        int[] d = HostBackend.linearDims(x, w, bias, y);
        int n = d[0], k = d[1], m = d[2];
        try (DeviceOps o = ops("linear", x, w, bias, y, epilogue)) {
            boolean fusedBias = y.dtype() == DType.F32 && (bias == null || bias.dtype() == DType.F32);
            if (fusedBias) {
                // cuBLASLt writes x·w + bias (+ y when accumulating) into y; a GELU runs in place after
                float beta = epilogue == Epilogue.ACCUMULATE ? 1f : 0f;
                o.gemm(buf(x), false, buf(w), false, buf(y), n, m, k, 1, 0, 0, 1f, beta, ptr(bias), false);
                Gelu act = switch (epilogue) {
                    case GELU_TANH -> Gelu.TANH;
                    case GELU_ERF -> Gelu.ERF;
                    case GELU_QUICK -> Gelu.QUICK;
                    case NONE, ACCUMULATE -> null;
                };
                if (act != null) {
                    o.launch(Kernel.GELU, elements(y.numel()), ptr(y), code(y), ptr(y), code(y), y.numel(), geluCode(act));
                }
            } else {
                Buf acc = o.temp(DType.F32, (long) n * m);
                o.gemm(buf(x), false, buf(w), false, acc, n, m, k, 1, 0, 0, 1f, 0f, 0L, false);
                o.launch(Kernel.LINEAR_EPILOGUE, elements((long) n * m), acc.address(), ptr(bias), bias == null ? 0 : code(bias), ptr(y),
                        code(y), (long) n, (long) m, epilogueCode(epilogue));
            }
        }
    }

    /** The kernels' code for a GELU (lit4j_gelu, lit4j_gelu_backward): a switch, so a new kind will not compile unmapped. */
    static int geluCode(Gelu g) {
        return switch (g) {
            case TANH -> 0;
            case ERF -> 1;
            case QUICK -> 2;
        };
    }

    /** lit4j_pool's and lit4j_pool_backward's code for a pooling. */
    static int poolCode(Pool p) {
        return switch (p) {
            case FIRST -> 0;
            case LAST -> 1;
            case MEAN -> 2;
        };
    }

    /** lit4j_linear_epilogue's code for an epilogue. */
    static int epilogueCode(Epilogue e) {
        return switch (e) {
            case NONE -> 0;
            case GELU_TANH -> 1;
            case GELU_ERF -> 2;
            case GELU_QUICK -> 3;
            case ACCUMULATE -> 4;
        };
    }

    /** A plain copy in the asked precision: cuBLASLt needs no packed layout. */
    @Override
    public Tensor packWeights(Tensor w, DType precision, TensorArena arena) {
        Tensor p = arena.allocate(precision, w.shape());
        copy(w, p);
        return p;
    }

    @Override
    public void repackWeights(Tensor w, Tensor packed) {
        copy(w, packed);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha) {
        int[] d = HostBackend.matmulDims(a, transA, b, transB, c);
        int batch = d[0], m = d[1], k = d[2], n = d[3];
        try (DeviceOps o = ops("matmul", a, b, c)) {
            long sa = d[4] == 1 ? 0 : (long) m * k, sb = d[5] == 1 ? 0 : (long) k * n;
            o.gemm(buf(a), transA, buf(b), transB, buf(c), m, n, k, batch, sa, sb, alpha, 0f, 0L, false);
        }
    }

    // ---------------------------------------------------------------- element-wise and row-wise ops

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        HostBackend.requireBroadcast(a, b, out);
        try (DeviceOps o = ops("add", a, b, out)) {
            o.launch(Kernel.ADD, elements(a.numel()), ptr(a), code(a), ptr(b), code(b), Math.max(1, b.numel()), ptr(out), code(out), a.numel());
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor variance) {
        int d = x.dim(-1), r = x.rows();
        Shapes.require("layerNorm", "scale", scale, d);
        Shapes.require("layerNorm", "bias", bias, d);
        Shapes.requireSameShape("layerNorm", "x", x, "y", y);
        if (mean != null) {
            Shapes.require("layerNorm", "mean", mean, r);
            Shapes.requireType("layerNorm", "mean", mean, DType.F32);
        }
        if (variance != null) {
            Shapes.require("layerNorm", "variance", variance, r);
            Shapes.requireType("layerNorm", "variance", variance, DType.F32);
        }
        try (DeviceOps o = ops("layerNorm", x, y)) {
            o.launch(Kernel.LAYERNORM, rows(r, d), ptr(x), code(x), ptr(scale), code(scale), ptr(bias), code(bias), ptr(y), code(y), ptr(mean),
                    ptr(variance), (long) r, d, eps);
        }
    }

    @Override
    public void gelu(Tensor x, Tensor y, Gelu kind) {
        Shapes.requireSameShape("gelu", "x", x, "y", y);
        try (DeviceOps o = ops("gelu", x, y)) {
            o.launch(Kernel.GELU, elements(x.numel()), ptr(x), code(x), ptr(y), code(y), x.numel(), geluCode(kind));
        }
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Shapes.requireSame("softmax", "x", x, "y", y);
        int c = x.dim(-1);
        try (DeviceOps o = ops("softmax", x, y)) {
            o.launch(Kernel.SOFTMAX, rows(x.rows(), c), ptr(x), code(x), ptr(y), code(y), (long) x.rows(), c, 1f, 0L, 1L, 0);
        }
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y, Tensor norms) {
        Shapes.requireSame("l2Normalize", "x", x, "y", y);
        int c = x.dim(-1), r = x.rows();
        if (norms != null) {
            Shapes.require("l2Normalize", "norms", norms, r);
            Shapes.requireType("l2Normalize", "norms", norms, DType.F32);
        }
        try (DeviceOps o = ops("l2Normalize", x, y)) {
            o.launch(Kernel.L2_NORMALIZE, rows(r, c), ptr(x), code(x), ptr(y), code(y), ptr(norms), (long) r, c);
        }
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void attention(Tensor qkv, Tensor keyMask, boolean causal, int heads, Tensor probs, Tensor out) {
        int[] dd = HostBackend.attentionDims(qkv, keyMask, heads, probs, out);
        int b = dd[0], t = dd[1], h = dd[3], dh = dd[4];
        long bh = (long) b * h, headElems = bh * t * dh, scores = bh * t * t;
        try (DeviceOps o = ops("attention", qkv, keyMask, probs, out)) {
            DType ht = qkv.dtype() == DType.BF16 ? DType.BF16 : DType.F32;
            Buf split = o.temp(ht, 3 * headElems);
            o.launch(Kernel.SPLIT_HEADS, elements(3 * headElems), ptr(qkv), code(qkv), split.address(), code(ht), 3, b, t, h, dh);
            Buf q = slice(split, 0, headElems), k = slice(split, 1, headElems), v = slice(split, 2, headElems);
            // scores in fp32 (in probs itself when it is fp32), then the masked, scaled softmax in place
            Buf p = probs.dtype() == DType.F32 ? buf(probs) : o.temp(DType.F32, scores);
            o.gemm(q, false, k, true, p, t, t, dh, (int) bh, (long) t * dh, (long) t * dh, 1f, 0f, 0L, false);
            Buf mask = keyMask == null ? null : o.as(buf(keyMask), DType.F32);
            o.launch(Kernel.SOFTMAX, rows(scores / t, t), p.address(), 0, p.address(), 0, scores / t, t, (float) (1.0 / Math.sqrt(dh)),
                    mask == null ? 0L : mask.address(), (long) h * t, causal ? 1 : 0);
            if (probs.dtype() != DType.F32) {
                o.convert(p, buf(probs));
            }
            Buf heads_ = o.temp(DType.F32, headElems);
            o.gemm(p, false, v, false, heads_, t, dh, t, (int) bh, (long) t * t, (long) t * dh, 1f, 0f, 0L, false);
            o.launch(Kernel.MERGE_HEADS, elements(headElems), heads_.address(), 0, ptr(out), code(out), 1, b, t, h, dh);
        }
    }

    private static Buf slice(Buf b, int index, long numel) {
        return new Buf(b.address() + index * numel * b.dtype().byteSize(), b.dtype(), numel);
    }

    @Override
    public void attentionBackward(Tensor qkv, Tensor probs, int heads, Tensor dout, Tensor dqkv, Tensor scratch) {
        int[] dd = HostBackend.attentionDims(qkv, null, heads, probs, dout);
        int b = dd[0], t = dd[1], h = dd[3], dh = dd[4];
        Shapes.requireSame("attentionBackward", "qkv", qkv, "dqkv", dqkv);
        Shapes.requireSame("attentionBackward", "probs", probs, "scratch", scratch);
        long bh = (long) b * h, headElems = bh * t * dh, scores = bh * t * t;
        int bhi = Math.toIntExact(bh);
        long sHead = (long) t * dh, sScore = (long) t * t;
        try (DeviceOps o = ops("attentionBackward", qkv, probs, dout, dqkv)) {
            boolean low = qkv.dtype() == DType.BF16 || probs.dtype() == DType.BF16;
            DType ct = low ? DType.BF16 : DType.F32;
            Buf split = o.temp(ct, 3 * headElems);
            o.launch(Kernel.SPLIT_HEADS, elements(3 * headElems), ptr(qkv), code(qkv), split.address(), code(ct), 3, b, t, h, dh);
            Buf q = slice(split, 0, headElems), k = slice(split, 1, headElems), v = slice(split, 2, headElems);
            Buf go = o.temp(ct, headElems);
            o.launch(Kernel.SPLIT_HEADS, elements(headElems), ptr(dout), code(dout), go.address(), code(ct), 1, b, t, h, dh);
            // dP = dO·Vᵀ (fp32), then dS = P ⊙ (dP − Σ dP⊙P) / √dh into scratch
            Buf dp = o.temp(DType.F32, scores);
            o.gemm(go, false, v, true, dp, t, t, dh, bhi, sHead, sHead, 1f, 0f, 0L, false);
            o.launch(Kernel.SOFTMAX_BACKWARD, rows(scores / t, t), ptr(probs), code(probs), dp.address(), 0, ptr(scratch), code(scratch),
                    scores / t, t, (float) (1.0 / Math.sqrt(dh)));
            Buf ds = buf(scratch), p = buf(probs);
            Buf grads = o.temp(DType.F32, 3 * headElems);
            o.gemm(ds, false, k, false, slice(grads, 0, headElems), t, dh, t, bhi, sScore, sHead, 1f, 0f, 0L, low); // dQ = dS·K
            o.gemm(ds, true, q, false, slice(grads, 1, headElems), t, dh, t, bhi, sScore, sHead, 1f, 0f, 0L, low);  // dK = dSᵀ·Q
            o.gemm(p, true, go, false, slice(grads, 2, headElems), t, dh, t, bhi, sScore, sHead, 1f, 0f, 0L, low);  // dV = Pᵀ·dO
            o.launch(Kernel.MERGE_HEADS, elements(3 * headElems), grads.address(), 0, ptr(dqkv), code(dqkv), 3, b, t, h, dh);
        }
    }

    // ---------------------------------------------------------------- data movement

    @Override
    public void embedding(Tensor ids, Tensor table, Tensor out) {
        Shapes.requireType("embedding", "ids", ids, DType.I32);
        int v = table.dim(0), d = table.dim(1);
        int[] expected = new int[ids.rank() + 1];
        System.arraycopy(ids.shape(), 0, expected, 0, ids.rank());
        expected[ids.rank()] = d;
        Shapes.require("embedding", "out", out, expected);
        if (out.dtype() != table.dtype()) {
            throw new LitException("embedding: out " + out + " must have the table's dtype " + table.dtype());
        }
        try (DeviceOps o = ops("embedding", ids, table, out); Arena a = Arena.ofConfined()) {
            Buf bad = o.temp(DType.I32, 1);
            CudaDriver.fill32(bad.address(), NO_BAD_ID, 1, device.stream());
            o.launch(Kernel.EMBEDDING, elements(ids.numel() * d), ptr(ids), ptr(table), ptr(out), table.dtype().byteSize(), ids.numel(), d, v,
                    bad.address());
            MemorySegment host = a.allocate(ValueLayout.JAVA_INT);
            CudaDriver.copyToHost(host, bad.address(), 4, device.stream());
            device.synchronize();
            int pos = host.get(ValueLayout.JAVA_INT, 0);
            if (pos != NO_BAD_ID) {
                CudaDriver.copyToHost(host, ptr(ids) + 4L * pos, 4, device.stream());
                device.synchronize();
                throw new LitException("embedding: token id " + host.get(ValueLayout.JAVA_INT, 0) + " at position " + pos
                        + " is outside the vocabulary [0, " + v + ")");
            }
        }
    }

    @Override
    public void patchify(Tensor images, int patch, Tensor out) {
        int[] d = HostBackend.patchifyDims(images, patch, out);
        int b = d[0], h = d[1], w = d[2], c = d[3];
        try (DeviceOps o = ops("patchify", images, out)) {
            o.launch(Kernel.PATCHIFY, elements(out.numel()), ptr(images), ptr(out), images.dtype().byteSize(), b, h, w, c, patch);
        }
    }

    @Override
    public void prependToken(Tensor token, Tensor x, Tensor out) {
        int b = x.dim(0), t = x.dim(1), d = x.dim(2);
        Shapes.require("prependToken", "token", token, d);
        Shapes.require("prependToken", "out", out, b, t + 1, d);
        if (token.dtype() != x.dtype() || out.dtype() != x.dtype()) {
            throw new LitException("prependToken: token " + token + ", x " + x + " and out " + out + " must share a dtype");
        }
        try (DeviceOps o = ops("prependToken", token, x, out)) {
            o.launch(Kernel.PREPEND_TOKEN, elements(out.numel()), ptr(token), ptr(x), ptr(out), x.dtype().byteSize(), b, t, d);
        }
    }

    @Override
    public void pool(Tensor x, Pool pool, int from, Tensor out) {
        if (x.rank() != 3) {
            throw new LitException("pool: x must be [B,T,D], got " + x);
        }
        int b = x.dim(0), t = x.dim(1), d = x.dim(2);
        Shapes.require("pool", "out", out, b, d);
        if (pool == Pool.MEAN && (from < 0 || from >= t)) {
            throw new LitException("pool: mean from token " + from + " of " + t);
        }
        if (pool != Pool.MEAN && out.dtype() != x.dtype()) {
            throw new LitException("pool: out " + out + " must have x's dtype " + x.dtype());
        }
        try (DeviceOps o = ops("pool", x, out)) {
            o.launch(Kernel.POOL, elements(out.numel()), ptr(x), code(x), ptr(out), code(out), b, t, d, poolCode(pool), from);
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = HostBackend.linearDims(x, w, null, dy);
        int n = d[0], k = d[1], m = d[2];
        boolean bf16 = x.dtype() == DType.BF16 || w.dtype() == DType.BF16;
        try (DeviceOps o = ops("linearBackward", x, w, dy, dx, dw, db)) {
            if (dx != null) {
                Shapes.requireSameShape("linearBackward", "x", x, "dx", dx);
                Shapes.requireType("linearBackward", "dx", dx, DType.F32);
                o.gemm(buf(dy), false, buf(w), true, buf(dx), n, k, m, 1, 0, 0, 1f, 0f, 0L, bf16);
            }
            if (dw != null) {
                Shapes.requireSameShape("linearBackward", "w", w, "dw", dw);
                o.gemm(buf(x), true, buf(dy), false, buf(dw), k, m, n, 1, 0, 0, 1f, 0f, 0L, bf16);
            }
        }
        if (db != null) {
            Shapes.require("linearBackward", "db", db, m);
            sumToShape(dy, db);
        }
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor scale, Tensor mean, Tensor variance, float eps, Tensor dy, Tensor dx, Tensor dscale,
                                  Tensor dbias) {
        int[] dims = HostBackend.layerNormBackwardDims(x, mean, variance, dy);
        int r = dims[0], d = dims[1];
        Shapes.requireType("layerNormBackward", "dy", dy, DType.F32);
        Shapes.requireType("layerNormBackward", "mean", mean, DType.F32);
        Shapes.requireType("layerNormBackward", "variance", variance, DType.F32);
        try (DeviceOps o = ops("layerNormBackward", x, dy, dx)) {
            if (dx != null) {
                Shapes.requireSame("layerNormBackward", "x", x, "dx", dx);
                Shapes.requireType("layerNormBackward", "dx", dx, DType.F32);
                o.launch(Kernel.LAYERNORM_BACKWARD, rows(r, d), ptr(x), code(x), ptr(scale), code(scale), ptr(mean), ptr(variance), ptr(dy),
                        ptr(dx), (long) r, d, eps);
            }
            if (dscale != null || dbias != null) {
                if (dscale != null) {
                    Shapes.require("layerNormBackward", "dscale", dscale, d);
                    Shapes.requireType("layerNormBackward", "dscale", dscale, DType.F32);
                }
                if (dbias != null) {
                    Shapes.require("layerNormBackward", "dbias", dbias, d);
                    Shapes.requireType("layerNormBackward", "dbias", dbias, DType.F32);
                }
                o.launch(Kernel.LAYERNORM_BACKWARD_PARAMS, elements(d), ptr(x), code(x), ptr(mean), ptr(variance), ptr(dy), ptr(dscale),
                        ptr(dbias), (long) r, d, eps);
            }
        }
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, Gelu kind) {
        Shapes.requireSame("geluBackward", "x", x, "dy", dy);
        Shapes.requireSame("geluBackward", "x", x, "dx", dx);
        try (DeviceOps o = ops("geluBackward", x, dy, dx)) {
            o.launch(Kernel.GELU_BACKWARD, elements(x.numel()), ptr(x), code(x), ptr(dy), code(dy), ptr(dx), code(dx), x.numel(), geluCode(kind));
        }
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Shapes.requireSame("softmaxBackward", "y", y, "dy", dy);
        Shapes.requireSame("softmaxBackward", "y", y, "dx", dx);
        int c = y.dim(-1);
        try (DeviceOps o = ops("softmaxBackward", y, dy, dx)) {
            o.launch(Kernel.SOFTMAX_BACKWARD, rows(y.rows(), c), ptr(y), code(y), ptr(dy), code(dy), ptr(dx), code(dx), (long) y.rows(), c, 1f);
        }
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        HostBackend.requireEmbeddingBackward(ids, dout, dtable);
        int v = dtable.dim(0), d = dtable.dim(1);
        try (DeviceOps o = ops("embeddingBackward", ids, dout, dtable)) {
            CudaDriver.fill(ptr(dtable), (byte) 0, dtable.byteSize(), device.stream());
            o.launch(Kernel.EMBEDDING_BACKWARD, elements(ids.numel() * d), ptr(ids), ptr(dout), ptr(dtable), ids.numel(), d, v);
        }
    }

    @Override
    public void sumToShape(Tensor dy, Tensor db) {
        HostBackend.requireBroadcast(dy, db, dy);
        try (DeviceOps o = ops("sumToShape", dy, db)) {
            o.launch(Kernel.SUM_TO_SHAPE, elements(db.numel()), ptr(dy), code(dy), ptr(db), code(db), dy.numel(), db.numel());
        }
    }

    @Override
    public void prependTokenBackward(Tensor dout, Tensor dtoken, Tensor dx) {
        int b = dx.dim(0), t = dx.dim(1), d = dx.dim(2);
        Shapes.require("prependTokenBackward", "dout", dout, b, t + 1, d);
        Shapes.require("prependTokenBackward", "dtoken", dtoken, d);
        Shapes.requireType("prependTokenBackward", "dout", dout, DType.F32);
        Shapes.requireType("prependTokenBackward", "dtoken", dtoken, DType.F32);
        Shapes.requireType("prependTokenBackward", "dx", dx, DType.F32);
        try (DeviceOps o = ops("prependTokenBackward", dout, dtoken, dx)) {
            o.launch(Kernel.PREPEND_TOKEN_BACKWARD, elements(Math.max(dx.numel(), d)), ptr(dout), ptr(dtoken), ptr(dx), b, t, d);
        }
    }

    @Override
    public void poolBackward(Tensor dout, Pool pool, int from, Tensor dx) {
        int b = dx.dim(0), t = dx.dim(1), d = dx.dim(2);
        Shapes.require("poolBackward", "dout", dout, b, d);
        Shapes.requireType("poolBackward", "dout", dout, DType.F32);
        Shapes.requireType("poolBackward", "dx", dx, DType.F32);
        try (DeviceOps o = ops("poolBackward", dout, dx)) {
            o.launch(Kernel.POOL_BACKWARD, elements(dx.numel()), ptr(dout), ptr(dx), b, t, d, poolCode(pool), from);
        }
    }

    @Override
    public void l2NormalizeBackward(Tensor x, Tensor norms, Tensor dy, Tensor dx) {
        int[] dims = HostBackend.l2NormalizeBackwardDims(x, norms, dy, dx);
        Shapes.requireType("l2NormalizeBackward", "dy", dy, DType.F32);
        Shapes.requireType("l2NormalizeBackward", "dx", dx, DType.F32);
        Shapes.requireType("l2NormalizeBackward", "norms", norms, DType.F32);
        try (DeviceOps o = ops("l2NormalizeBackward", x, dy, dx)) {
            o.launch(Kernel.L2_NORMALIZE_BACKWARD, rows(dims[0], dims[1]), ptr(x), code(x), ptr(norms), ptr(dy), ptr(dx), (long) dims[0], dims[1]);
        }
    }

    // ---------------------------------------------------------------- optimizer support

    @Override
    public void zero(Tensor t) {
        try (DeviceOps o = ops("zero", t)) {
            CudaDriver.fill(ptr(t), (byte) 0, t.byteSize(), device.stream());
        }
    }

    @Override
    public void scale(Tensor t, float k) {
        try (DeviceOps o = ops("scale", t)) {
            o.launch(Kernel.SCALE, elements(t.numel()), ptr(t), code(t), t.numel(), k);
        }
    }

    @Override
    public double sumOfSquares(Tensor t) {
        try (DeviceOps o = ops("sumOfSquares", t); Arena a = Arena.ofConfined()) {
            Buf acc = o.temp(DType.I64, 1); // 8 bytes for one double
            CudaDriver.fill(acc.address(), (byte) 0, 8, device.stream());
            o.launch(Kernel.SUM_OF_SQUARES, elements(t.numel()), ptr(t), code(t), t.numel(), acc.address());
            MemorySegment host = a.allocate(ValueLayout.JAVA_DOUBLE);
            CudaDriver.copyToHost(host, acc.address(), 8, device.stream());
            device.synchronize();
            return host.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        HostBackend.requireAdamW(param, grad, m, v);
        try (DeviceOps o = ops("adamw", param)) {
            o.launch(Kernel.ADAMW, elements(param.numel()), ptr(param), ptr(grad), ptr(m), ptr(v), param.numel(), s.lr(), s.beta1(), s.beta2(),
                    s.eps(), s.weightDecay(), (float) s.correction1(), (float) s.correction2());
        }
    }

    @Override
    public void close() {
        device.close();
    }
}

package io.lit4j.backend;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.HostBacked;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * What the CPU backends share: host memory, transfers and the ops that only move data
 * (gather, patchify, token concat, pooling). The arithmetic ops are each backend's own.
 */
public abstract class HostBackend implements Backend {
    protected static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    protected static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT;
    protected static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    @Override
    public TensorArena newArena() {
        return new HostArena();
    }

    /** The host bytes of {@code t}; throws if {@code t} lives on another device. */
    public static MemorySegment seg(Tensor t) {
        if (!(t.storage() instanceof HostBacked hs)) {
            throw new LitException("tensor " + t + " lives on " + t.storage().device()
                    + "; a CPU backend can only use host tensors (copy it first)");
        }
        return hs.segment().asSlice(t.byteOffset(), t.byteSize());
    }

    // ---------------------------------------------------------------- element access

    /** Element {@code i} of a floating tensor as fp32. */
    protected static float getF(MemorySegment s, DType t, long i) {
        return switch (t) {
            case F32 -> s.getAtIndex(F, i);
            case BF16 -> Floats.bf16ToF32(s.getAtIndex(S, i));
            case F16 -> Floats.f16ToF32(s.getAtIndex(S, i));
            default -> throw new LitException("expected a floating tensor, got " + t);
        };
    }

    protected static void setF(MemorySegment s, DType t, long i, float v) {
        switch (t) {
            case F32 -> s.setAtIndex(F, i, v);
            case BF16 -> s.setAtIndex(S, i, Floats.f32ToBf16(v));
            case F16 -> s.setAtIndex(S, i, Floats.f32ToF16(v));
            default -> throw new LitException("expected a floating tensor, got " + t);
        }
    }

    /** All of {@code t} as fp32 on the heap. */
    protected static float[] floats(Tensor t) {
        MemorySegment s = seg(t);
        float[] out = new float[Math.toIntExact(t.numel())];
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(s, F, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = getF(s, t.dtype(), i);
            }
        }
        return out;
    }

    /** Stores {@code v} into {@code t}, rounding to its dtype. */
    protected static void store(Tensor t, float[] v) {
        MemorySegment s = seg(t);
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(v, 0, s, F, 0, v.length);
        } else {
            for (int i = 0; i < v.length; i++) {
                setF(s, t.dtype(), i, v[i]);
            }
        }
    }

    // ---------------------------------------------------------------- transfers

    @Override
    public void upload(MemorySegment src, DType srcType, Tensor dst) {
        long n = dst.numel();
        if (src.byteSize() != n * srcType.byteSize()) {
            throw new LitException("upload: " + src.byteSize() + " bytes of " + srcType + " do not fill " + dst);
        }
        MemorySegment d = seg(dst);
        if (srcType == dst.dtype()) {
            MemorySegment.copy(src, 0, d, 0, d.byteSize());
            return;
        }
        if (srcType == DType.I32 || srcType == DType.I64 || dst.dtype() == DType.I32) {
            throw new LitException("upload: cannot convert " + srcType + " to " + dst.dtype());
        }
        ValueLayout.OfFloat fu = ValueLayout.JAVA_FLOAT_UNALIGNED;
        ValueLayout.OfShort su = ValueLayout.JAVA_SHORT_UNALIGNED;
        for (long i = 0; i < n; i++) {
            float v = switch (srcType) {
                case F32 -> src.getAtIndex(fu, i);
                case BF16 -> Floats.bf16ToF32(src.getAtIndex(su, i));
                case F16 -> Floats.f16ToF32(src.getAtIndex(su, i));
                default -> throw new AssertionError(srcType);
            };
            setF(d, dst.dtype(), i, v);
        }
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        if (src.length != dst.numel()) {
            throw new LitException("upload: " + src.length + " floats do not fill " + dst);
        }
        store(dst, src);
    }

    @Override
    public void upload(int[] src, Tensor dst) {
        Shapes.requireType("upload", "dst", dst, DType.I32);
        if (src.length != dst.numel()) {
            throw new LitException("upload: " + src.length + " ints do not fill " + dst);
        }
        MemorySegment.copy(src, 0, seg(dst), I, 0, src.length);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        if (dst.length != src.numel()) {
            throw new LitException("download: " + src + " does not fit " + dst.length + " floats");
        }
        if (src.dtype() == DType.I32) {
            MemorySegment s = seg(src);
            for (int i = 0; i < dst.length; i++) {
                dst[i] = s.getAtIndex(I, i);
            }
            return;
        }
        float[] v = floats(src);
        System.arraycopy(v, 0, dst, 0, v.length);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.numel() != dst.numel()) {
            throw new LitException("copy: " + src + " and " + dst + " differ in size");
        }
        upload(seg(src), src.dtype(), dst);
    }

    // ---------------------------------------------------------------- data movement

    @Override
    public void embedding(Tensor ids, Tensor table, Tensor out) {
        Shapes.requireType("embedding", "ids", ids, DType.I32);
        int v = table.dim(0);
        int d = table.dim(1);
        int[] expected = new int[ids.rank() + 1];
        System.arraycopy(ids.shape(), 0, expected, 0, ids.rank());
        expected[ids.rank()] = d;
        Shapes.require("embedding", "out", out, expected);
        if (out.dtype() != table.dtype()) {
            throw new LitException("embedding: out " + out + " must have the table's dtype " + table.dtype());
        }
        MemorySegment idSeg = seg(ids);
        MemorySegment tab = seg(table);
        MemorySegment o = seg(out);
        long rowBytes = (long) d * table.dtype().byteSize();
        for (long i = 0; i < ids.numel(); i++) {
            int id = idSeg.getAtIndex(I, i);
            if (id < 0 || id >= v) {
                throw new LitException("embedding: token id " + id + " at position " + i + " is outside the vocabulary [0, " + v + ")");
            }
            MemorySegment.copy(tab, id * rowBytes, o, i * rowBytes, rowBytes);
        }
    }

    @Override
    public void patchify(Tensor images, int patch, Tensor out) {
        int[] d = patchifyDims(images, patch, out);
        int b = d[0], h = d[1], w = d[2], c = d[3];
        int gh = h / patch, gw = w / patch;
        MemorySegment in = seg(images);
        MemorySegment o = seg(out);
        long es = images.dtype().byteSize();
        long rowBytes = (long) patch * c * es; // one patch row: p pixels x C channels, contiguous in NHWC
        long dst = 0;
        for (int n = 0; n < b; n++) {
            for (int py = 0; py < gh; py++) {
                for (int px = 0; px < gw; px++) {
                    for (int r = 0; r < patch; r++) {
                        long src = ((((long) n * h + py * patch + r) * w) + (long) px * patch) * c * es;
                        MemorySegment.copy(in, src, o, dst, rowBytes);
                        dst += rowBytes;
                    }
                }
            }
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
        MemorySegment tok = seg(token);
        MemorySegment in = seg(x);
        MemorySegment o = seg(out);
        long rowBytes = (long) d * x.dtype().byteSize();
        for (int n = 0; n < b; n++) {
            long base = (long) n * (t + 1) * rowBytes;
            MemorySegment.copy(tok, 0, o, base, rowBytes);
            MemorySegment.copy(in, (long) n * t * rowBytes, o, base + rowBytes, t * rowBytes);
        }
    }

    @Override
    public void pool(Tensor x, Pool pool, int from, Tensor out) {
        if (x.rank() != 3) {
            throw new LitException("pool: x must be [B,T,D], got " + x);
        }
        int b = x.dim(0), t = x.dim(1), d = x.dim(2);
        Shapes.require("pool", "out", out, b, d);
        MemorySegment in = seg(x);
        MemorySegment o = seg(out);
        switch (pool) {
            case FIRST, LAST -> {
                if (out.dtype() != x.dtype()) {
                    throw new LitException("pool: out " + out + " must have x's dtype " + x.dtype());
                }
                long rowBytes = (long) d * x.dtype().byteSize();
                int tok = pool == Pool.FIRST ? 0 : t - 1;
                for (int n = 0; n < b; n++) {
                    MemorySegment.copy(in, ((long) n * t + tok) * rowBytes, o, n * rowBytes, rowBytes);
                }
            }
            case MEAN -> {
                if (from < 0 || from >= t) {
                    throw new LitException("pool: mean from token " + from + " of " + t);
                }
                for (int n = 0; n < b; n++) {
                    for (int j = 0; j < d; j++) {
                        double acc = 0;
                        for (int i = from; i < t; i++) {
                            acc += getF(in, x.dtype(), ((long) n * t + i) * d + j);
                        }
                        setF(o, out.dtype(), (long) n * d + j, (float) (acc / (t - from)));
                    }
                }
            }
        }
    }

    @Override
    public void maskedMean(Tensor x, Tensor mask, Tensor out) {
        if (x.rank() != 3) {
            throw new LitException("maskedMean: x must be [B,T,D], got " + x);
        }
        int b = x.dim(0), t = x.dim(1), d = x.dim(2);
        Shapes.require("maskedMean", "mask", mask, b, t);
        Shapes.requireType("maskedMean", "mask", mask, DType.F32);
        Shapes.require("maskedMean", "out", out, b, d);
        MemorySegment in = seg(x), m = seg(mask), o = seg(out);
        double[] acc = new double[d];
        for (int n = 0; n < b; n++) {
            Arrays.fill(acc, 0);
            double count = 0;
            for (int i = 0; i < t; i++) {
                float k = m.getAtIndex(F, (long) n * t + i);
                if (k == 0) {
                    continue;
                }
                count += k;
                long row = ((long) n * t + i) * d;
                for (int j = 0; j < d; j++) {
                    acc[j] += k * getF(in, x.dtype(), row + j);
                }
            }
            double c = Math.max(count, 1e-9);
            for (int j = 0; j < d; j++) {
                setF(o, out.dtype(), (long) n * d + j, (float) (acc[j] / c));
            }
        }
    }

    // ---------------------------------------------------------------- backward of the data movement

    @Override
    public void maskedMeanBackward(Tensor dout, Tensor mask, Tensor dx) {
        int b = dx.dim(0), t = dx.dim(1), d = dx.dim(2);
        Shapes.require("maskedMeanBackward", "dout", dout, b, d);
        Shapes.require("maskedMeanBackward", "mask", mask, b, t);
        Shapes.requireType("maskedMeanBackward", "dx", dx, DType.F32);
        Shapes.requireType("maskedMeanBackward", "dout", dout, DType.F32);
        MemorySegment g = seg(dout), m = seg(mask), gx = seg(dx);
        for (int n = 0; n < b; n++) {
            double count = 0;
            for (int i = 0; i < t; i++) {
                count += m.getAtIndex(F, (long) n * t + i);
            }
            double c = Math.max(count, 1e-9);
            for (int i = 0; i < t; i++) {
                float k = (float) (m.getAtIndex(F, (long) n * t + i) / c);
                long row = ((long) n * t + i) * d;
                for (int j = 0; j < d; j++) {
                    gx.setAtIndex(F, row + j, g.getAtIndex(F, (long) n * d + j) * k);
                }
            }
        }
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        requireEmbeddingBackward(ids, dout, dtable);
        int v = dtable.dim(0), d = dtable.dim(1);
        MemorySegment idSeg = seg(ids), g = seg(dout), t = seg(dtable);
        t.fill((byte) 0);
        for (long i = 0; i < ids.numel(); i++) {
            int id = idSeg.getAtIndex(I, i);
            if (id < 0 || id >= v) {
                throw new LitException("embeddingBackward: token id " + id + " is outside the vocabulary [0, " + v + ")");
            }
            for (int j = 0; j < d; j++) {
                long o = (long) id * d + j;
                t.setAtIndex(F, o, t.getAtIndex(F, o) + g.getAtIndex(F, i * d + j));
            }
        }
    }

    @Override
    public void prependTokenBackward(Tensor dout, Tensor dtoken, Tensor dx) {
        int b = dx.dim(0), t = dx.dim(1), d = dx.dim(2);
        Shapes.require("prependTokenBackward", "dout", dout, b, t + 1, d);
        Shapes.require("prependTokenBackward", "dtoken", dtoken, d);
        Shapes.requireType("prependTokenBackward", "dout", dout, DType.F32);
        MemorySegment g = seg(dout), gt = seg(dtoken), gx = seg(dx);
        long rowBytes = (long) d * 4;
        for (int j = 0; j < d; j++) {
            double acc = 0;
            for (int n = 0; n < b; n++) {
                acc += g.getAtIndex(F, (long) n * (t + 1) * d + j);
            }
            gt.setAtIndex(F, j, (float) acc);
        }
        for (int n = 0; n < b; n++) {
            MemorySegment.copy(g, ((long) n * (t + 1) + 1) * rowBytes, gx, (long) n * t * rowBytes, t * rowBytes);
        }
    }

    @Override
    public void poolBackward(Tensor dout, Pool pool, int from, Tensor dx) {
        int b = dx.dim(0), t = dx.dim(1), d = dx.dim(2);
        Shapes.require("poolBackward", "dout", dout, b, d);
        Shapes.requireType("poolBackward", "dx", dx, DType.F32);
        MemorySegment g = seg(dout), gx = seg(dx);
        gx.fill((byte) 0);
        for (int n = 0; n < b; n++) {
            switch (pool) {
                case FIRST, LAST -> MemorySegment.copy(g, (long) n * d * 4, gx, ((long) n * t + (pool == Pool.FIRST ? 0 : t - 1)) * d * 4, d * 4L);
                case MEAN -> {
                    float k = 1f / (t - from);
                    for (int i = from; i < t; i++) {
                        for (int j = 0; j < d; j++) {
                            gx.setAtIndex(F, ((long) n * t + i) * d + j, g.getAtIndex(F, (long) n * d + j) * k);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void zero(Tensor t) {
        seg(t).fill((byte) 0);
    }

    // ---------------------------------------------------------------- checks shared by the arithmetic ops (the cuda backend uses them too)

    /** Validates a linear call and returns {N, K, M}. */
    public static int[] linearDims(Tensor x, Tensor w, Tensor bias, Tensor y) {
        if (w.rank() != 2) {
            throw new LitException("linear: weight must be [K,M], got " + w);
        }
        int k = w.dim(0), m = w.dim(1);
        if (x.dim(-1) != k) {
            throw new LitException("linear: x " + x + " has " + x.dim(-1) + " features but the weight " + w + " expects " + k);
        }
        int n = x.rows();
        if (y.dim(-1) != m || y.rows() != n) {
            throw new LitException("linear: y " + y + " should hold " + n + " rows of " + m + " (x " + x + ", w " + w + ")");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != m)) {
            throw new LitException("linear: bias " + bias + " should be [" + m + "] for weight " + w);
        }
        return new int[] {n, k, m};
    }

    /** Checks {@link #patchify}'s operands; returns {@code {B, H, W, C}}. */
    public static int[] patchifyDims(Tensor images, int patch, Tensor out) {
        if (images.rank() != 4) {
            throw new LitException("patchify: images must be [B,H,W,C], got " + images);
        }
        int b = images.dim(0), h = images.dim(1), w = images.dim(2), c = images.dim(3);
        if (patch <= 0 || h % patch != 0 || w % patch != 0) {
            throw new LitException("patchify: image " + h + "x" + w + " is not a multiple of patch size " + patch);
        }
        Shapes.require("patchify", "out", out, b, (h / patch) * (w / patch), patch * patch * c);
        if (out.dtype() != images.dtype()) {
            throw new LitException("patchify: out " + out + " must have the images' dtype " + images.dtype());
        }
        return new int[] {b, h, w, c};
    }

    /** embeddingBackward's operand checks (i32 ids, f32 dout and table, dout one table row per id), written once. */
    public static void requireEmbeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        Shapes.requireType("embeddingBackward", "ids", ids, DType.I32);
        Shapes.requireType("embeddingBackward", "dout", dout, DType.F32);
        Shapes.requireType("embeddingBackward", "dtable", dtable, DType.F32);
        if (dout.dim(-1) != dtable.dim(1) || dout.rows() != ids.numel()) {
            throw new LitException("embeddingBackward: dout " + dout + " does not match ids " + ids + " and table " + dtable);
        }
    }

    /** Checks {@link #adamw}'s operands: four fp32 tensors of one shape. */
    public static void requireAdamW(Tensor param, Tensor grad, Tensor m, Tensor v) {
        Shapes.requireSame("adamw", "param", param, "grad", grad);
        Shapes.requireSame("adamw", "param", param, "m", m);
        Shapes.requireSame("adamw", "param", param, "v", v);
        Shapes.requireType("adamw", "param", param, DType.F32);
    }

    /** Checks the bf16 copy an {@link #adamw} writes beside {@code param}: bf16, {@code param}'s shape. */
    public static void requireShadow(Tensor param, Tensor shadow) {
        Shapes.requireSameShape("adamw", "param", param, "shadow", shadow);
        Shapes.requireType("adamw", "shadow", shadow, DType.BF16);
    }

    /** Validates a matmul call and returns {batch, M, K, N, batchA, batchB}. */
    public static int[] matmulDims(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c) {
        if (a.rank() < 2 || a.rank() > 3 || b.rank() < 2 || b.rank() > 3 || c.rank() != Math.max(a.rank(), b.rank())) {
            throw new LitException("matmul: a " + a + ", b " + b + ", c " + c + " must be rank 2 or 3 (batched)");
        }
        int ba = a.rank() == 3 ? a.dim(0) : 1;
        int bb = b.rank() == 3 ? b.dim(0) : 1;
        int bc = c.rank() == 3 ? c.dim(0) : 1;
        int m = ta ? a.dim(-1) : a.dim(-2);
        int k = ta ? a.dim(-2) : a.dim(-1);
        int kb = tb ? b.dim(-1) : b.dim(-2);
        int n = tb ? b.dim(-2) : b.dim(-1);
        if (k != kb || c.dim(-2) != m || c.dim(-1) != n || (ba != bc && ba != 1) || (bb != bc && bb != 1)) {
            throw new LitException("matmul: shapes do not agree: a " + a + (ta ? "ᵀ" : "") + ", b " + b + (tb ? "ᵀ" : "") + ", c " + c);
        }
        return new int[] {bc, m, k, n, ba, bb};
    }

    /** Validates a LayerNorm backward's inputs and returns {rows, D}. */
    public static int[] layerNormBackwardDims(Tensor x, Tensor mean, Tensor variance, Tensor dy) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.requireSame("layerNormBackward", "x", x, "dy", dy);
        Shapes.require("layerNormBackward", "mean", mean, rows);
        Shapes.require("layerNormBackward", "variance", variance, rows);
        return new int[] {rows, d};
    }

    /** Validates an L2-normalisation backward's inputs and returns {rows, width}. */
    public static int[] l2NormalizeBackwardDims(Tensor x, Tensor norms, Tensor dy, Tensor dx) {
        Shapes.requireSame("l2NormalizeBackward", "x", x, "dy", dy);
        Shapes.requireSame("l2NormalizeBackward", "x", x, "dx", dx);
        Shapes.require("l2NormalizeBackward", "norms", norms, x.rows());
        return new int[] {x.rows(), x.dim(-1)};
    }

    /** Validates an attention call and returns {B, T, D, H, dh}. */
    public static int[] attentionDims(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out) {
        if (qkv.rank() != 3 || qkv.dim(2) % 3 != 0) {
            throw new LitException("attention: qkv must be [B,T,3D], got " + qkv);
        }
        int b = qkv.dim(0), t = qkv.dim(1), d = qkv.dim(2) / 3;
        if (heads <= 0 || d % heads != 0) {
            throw new LitException("attention: width " + d + " is not divisible by " + heads + " heads");
        }
        Shapes.require("attention", "out", out, b, t, d);
        Shapes.require("attention", "probs", probs, b, heads, t, t);
        if (keyMask != null) {
            Shapes.require("attention", "keyMask", keyMask, b, t);
        }
        return new int[] {b, t, d, heads, d / heads};
    }

    public static void requireBroadcast(Tensor a, Tensor b, Tensor out) {
        Shapes.requireSame("add", "a", a, "out", out);
        int[] as = a.shape(), bs = b.shape();
        boolean ok = bs.length <= as.length;
        for (int i = 1; ok && i <= bs.length; i++) {
            ok = as[as.length - i] == bs[bs.length - i];
        }
        if (!ok) {
            throw new LitException("add: b " + b + " does not broadcast over a " + a + " (its shape must be a trailing part of a's)");
        }
    }
}

package io.lit4j.backend.onednn;

import io.lit4j.backend.OpProfile;
import io.lit4j.backend.onednn.Dnnl.MemoryDesc;
import io.lit4j.backend.onednn.Dnnl.Primitive;
import io.lit4j.backend.onednn.DnnlPrimitives.Post;
import io.lit4j.simd.Kernels;
import io.lit4j.simd.WorkerPool;
import io.lit4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The multi-head self-attention core of the oneDNN backend, on fp32 buffers: the four products
 * ({@code q·kᵀ}, {@code P·v} forward; {@code dO·vᵀ}, {@code dS·k}, {@code dSᵀ·q}, {@code Pᵀ·dO}
 * backward) are oneDNN matmuls over strided 4-D views of the fused {@code qkv[B,T,3D]} buffer (no
 * head transposes are copied), and the masked softmax and its backward are Java {@link Kernels} rows on
 * the worker pool. {@code dims} is {B, T, D, H, dh} as {@code HostBackend.attentionDims} returns it.
 */
final class DnnlAttention {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final Kernels KERNELS = Kernels.get();

    private final DnnlRuntime rt;
    private final WorkerPool pool;

    DnnlAttention(DnnlRuntime rt, WorkerPool pool) {
        this.rt = rt;
        this.pool = pool;
    }

    /** Views of one qkv (or dqkv) buffer as per-head 4-D arrays for the strided matmuls. */
    private record HeadViews(int b, int t, int d, int h, int dh) {
        HeadViews(int[] dims) {
            this(dims[0], dims[1], dims[2], dims[3], dims[4]);
        }

        /** q, k or v as [B,H,T,dh]. */
        View heads() {
            return new View(new long[] {b, h, t, dh}, new long[] {(long) t * 3 * d, dh, 3L * d, 1});
        }

        /** k or v transposed, as [B,H,dh,T]. */
        View headsTransposed() {
            return new View(new long[] {b, h, dh, t}, new long[] {(long) t * 3 * d, dh, 1, 3L * d});
        }

        /** The attention output [B,T,D] as [B,H,T,dh]. */
        View outHeads() {
            return new View(new long[] {b, h, t, dh}, new long[] {(long) t * d, dh, d, 1});
        }

        View scores() {
            return new View(new long[] {b, h, t, t}, new long[] {(long) h * t * t, (long) t * t, t, 1});
        }

        View scoresTransposed() {
            return new View(new long[] {b, h, t, t}, new long[] {(long) h * t * t, (long) t * t, 1, t});
        }

        /** Byte offset of q, k or v ({@code part} 0, 1, 2) in a qkv row. */
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

    /** {@code dst = alpha · src · wts} over 4-D strided views (batch dims 0 and 1), cached by its views. */
    private Primitive stridedMatmul(String what, View src, View wts, View dst, float alpha) {
        String key = "strided " + what + " " + src + " " + wts + " " + dst + " " + alpha;
        return rt.primitive(key, e -> DnnlPrimitives.matmul(e, what + ": " + key, MemoryDesc.strided(DType.F32, src.dims(), src.strides()),
                MemoryDesc.strided(DType.F32, wts.dims(), wts.strides()), null, MemoryDesc.strided(DType.F32, dst.dims(), dst.strides()),
                alpha != 1f ? Post.SCALE : Post.NONE, alpha));
    }

    /**
     * {@code probs = softmax(q·kᵀ/√dh + mask)}, {@code out = probs·v}; {@code keep[B,T]} (1 keep, 0 pad) may be null.
     * With {@code causal}, query i's row is a softmax over keys 0..i and exactly 0 after.
     */
    void forward(int[] dims, MemorySegment qkv, MemorySegment keep, boolean causal, MemorySegment probs, MemorySegment out) {
        HeadViews hv = new HeadViews(dims);
        int b = hv.b(), t = hv.t(), d = hv.d(), h = hv.h(), dh = hv.dh();
        rt.run(stridedMatmul("attention q·kᵀ", hv.heads(), hv.headsTransposed(), hv.scores(), (float) (1.0 / Math.sqrt(dh))),
                qkv, qkv.asSlice(hv.partBytes(1)), probs);
        // at least ~32k elements per task: waking a worker costs more than a few short rows
        OpProfile.time("attention softmax (Java)", () -> pool.parallelFor(b * h * t, Math.max(64, (1 << 15) / t), (from, to) -> {
            for (int row = from; row < to; row++) {
                int seen = causal ? row % t + 1 : t; // row = (n·H + head)·T + query
                KERNELS.softmax(probs, (long) row * t, seen, keep, (long) (row / (h * t)) * t);
                if (seen < t) {
                    probs.asSlice(((long) row * t + seen) * Float.BYTES, (long) (t - seen) * Float.BYTES).fill((byte) 0);
                }
            }
        }));
        if (t == 1) {
            // One key: P is 1 (or 0 where masked) and out = P * v. oneDNN 3.13 misreads a strided
            // weights operand whose K is 1 (it takes the K stride for N), so do this case here.
            for (int n = 0; n < b; n++) {
                for (int hd = 0; hd < h; hd++) {
                    float w = probs.getAtIndex(F, (long) n * h + hd);
                    for (int c = 0; c < dh; c++) {
                        out.setAtIndex(F, (long) n * d + hd * dh + c, w * qkv.getAtIndex(F, n * 3L * d + 2L * d + hd * dh + c));
                    }
                }
            }
            return;
        }
        rt.run(stridedMatmul("attention p·v", hv.scores(), hv.heads(), hv.outHeads(), 1f), probs, qkv.asSlice(hv.partBytes(2)), out);
    }

    /** {@code dqkv} from {@code dout} and the forward's {@code qkv} and {@code probs}; {@code scratch} ([B,H,T,T]) is overwritten. */
    void backward(int[] dims, MemorySegment qkv, MemorySegment probs, MemorySegment dout, MemorySegment dqkv, MemorySegment scratch) {
        HeadViews hv = new HeadViews(dims);
        int b = hv.b(), t = hv.t(), d = hv.d(), h = hv.h(), dh = hv.dh();
        float scale = (float) (1.0 / Math.sqrt(dh));
        if (t == 1) { // one key: dq = dk = 0, dv = P · dout (see forward for why this case is separate)
            dqkv.fill((byte) 0);
            for (int n = 0; n < b; n++) {
                for (int hd = 0; hd < h; hd++) {
                    float w = probs.getAtIndex(F, (long) n * h + hd);
                    for (int c = 0; c < dh; c++) {
                        dqkv.setAtIndex(F, n * 3L * d + 2L * d + hd * dh + c, w * dout.getAtIndex(F, (long) n * d + hd * dh + c));
                    }
                }
            }
            scratch.fill((byte) 0);
            return;
        }
        // dP[b,h,i,j] = dout[b,i,h,:] · v[b,j,h,:]
        rt.run(stridedMatmul("attention dP = dO·vᵀ", hv.outHeads(), hv.headsTransposed(), hv.scores(), 1f), dout, qkv.asSlice(hv.partBytes(2)),
                scratch);
        // dS = P ⊙ (dP − rowsum(P ⊙ dP)) / sqrt(dh), in place
        OpProfile.time("attention softmax backward (Java)", () -> pool.parallelFor(b * h * t, 64, (from, to) -> {
            for (int row = from; row < to; row++) {
                KERNELS.softmaxBackward(probs, (long) row * t, scratch, (long) row * t, t, scale);
            }
        }));
        // dq = dS · k;  dk = dSᵀ · q;  dv = Pᵀ · dout   (each written into its third of dqkv)
        rt.run(stridedMatmul("attention dq = dS·k", hv.scores(), hv.heads(), hv.heads(), 1f), scratch, qkv.asSlice(hv.partBytes(1)), dqkv);
        rt.run(stridedMatmul("attention dk = dSᵀ·q", hv.scoresTransposed(), hv.heads(), hv.heads(), 1f), scratch, qkv,
                dqkv.asSlice(hv.partBytes(1)));
        rt.run(stridedMatmul("attention dv = Pᵀ·dO", hv.scoresTransposed(), hv.outHeads(), hv.heads(), 1f), probs, dout,
                dqkv.asSlice(hv.partBytes(2)));
    }
}

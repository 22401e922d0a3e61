package io.lit4j.simd;

import io.lit4j.tensor.Floats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@link Kernels} as plain loops, one element at a time: the slow twin of {@link VectorKernels}
 * that tests hold it to, and what runs when {@code jdk.incubator.vector} is not loaded (a plain
 * {@code java -jar}). Same formulas, same {@link FastExp}; only the order of the float sums differs.
 */
final class PlainKernels implements Kernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    @Override
    public String describe() {
        return "plain loops, not the Vector API (run java with --add-modules jdk.incubator.vector for the fast kernels)";
    }

    @Override
    public float dot(MemorySegment a, long ao, MemorySegment b, long bo, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum = Math.fma(a.getAtIndex(F, ao + i), b.getAtIndex(F, bo + i), sum);
        }
        return sum;
    }

    @Override
    public void softmax(MemorySegment s, long o, int n, MemorySegment keep, long ko) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (keep != null && keep.getAtIndex(F, ko + i) == 0f) {
                s.setAtIndex(F, o + i, Float.NEGATIVE_INFINITY);
            }
            m = Math.max(m, s.getAtIndex(F, o + i));
        }
        if (m == Float.NEGATIVE_INFINITY) {
            s.asSlice(o * 4, n * 4L).fill((byte) 0);
            return;
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = FastExp.exp(s.getAtIndex(F, o + i) - m);
            s.setAtIndex(F, o + i, e);
            sum += e;
        }
        scale(s, o, n, 1f / sum);
    }

    @Override
    public void scale(MemorySegment s, long o, int n, float k) {
        for (int i = 0; i < n; i++) {
            s.setAtIndex(F, o + i, s.getAtIndex(F, o + i) * k);
        }
    }

    @Override
    public void addInto(float[] acc, MemorySegment s, long o, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] += s.getAtIndex(F, o + i);
        }
    }

    @Override
    public float l2Normalize(MemorySegment x, long xo, int n, MemorySegment y, long yo) {
        float norm = (float) Math.sqrt(dot(x, xo, x, xo, n));
        float k = 1f / (norm + 1e-8f);
        for (int i = 0; i < n; i++) {
            y.setAtIndex(F, yo + i, x.getAtIndex(F, xo + i) * k);
        }
        return norm;
    }

    @Override
    public void softmaxBackward(MemorySegment p, long po, MemorySegment dp, long dpo, int n, float k) {
        float dot = dot(p, po, dp, dpo, n);
        for (int i = 0; i < n; i++) {
            dp.setAtIndex(F, dpo + i, (dp.getAtIndex(F, dpo + i) - dot) * p.getAtIndex(F, po + i) * k);
        }
    }

    @Override
    public void axpby(float a, MemorySegment x, long xo, float b, MemorySegment y, long yo, MemorySegment out, long oo, int n) {
        for (int i = 0; i < n; i++) {
            out.setAtIndex(F, oo + i, a * x.getAtIndex(F, xo + i) + b * y.getAtIndex(F, yo + i));
        }
    }

    @Override
    public void adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long o, int n, float gradScale,
                      float decay, float beta1, float beta2, float eps, float stepSize, float invSqrtC2, MemorySegment shadow) {
        for (int i = 0; i < n; i++) {
            long at = o + i;
            float gi = g.getAtIndex(F, at) * gradScale;
            float mi = m.getAtIndex(F, at) * beta1 + gi * (1 - beta1);
            float vi = v.getAtIndex(F, at) * beta2 + gi * gi * (1 - beta2);
            float denom = (float) Math.sqrt(vi) * invSqrtC2 + eps;
            float pi = p.getAtIndex(F, at) * decay - mi / denom * stepSize;
            m.setAtIndex(F, at, mi);
            v.setAtIndex(F, at, vi);
            p.setAtIndex(F, at, pi);
            if (shadow != null) {
                shadow.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at, Floats.f32ToBf16(pi));
            }
        }
    }

    @Override
    public float logSumExp(float[] v, int o, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, v[o + i]);
        }
        float sum = 0;
        for (int i = 0; i < len; i++) {
            sum += FastExp.exp(v[o + i] - max);
        }
        return max + (float) Math.log(sum);
    }

    @Override
    public void columnLogSumExpUpdate(float[] block, int rows, int n, float[] colMax, float[] colSum) {
        columnLogSumExpUpdate(block, rows, n, 0, colMax, colSum);
    }

    /** Columns {@code [from, n)} of {@link #columnLogSumExpUpdate}; the vector kernel's tail too. */
    static void columnLogSumExpUpdate(float[] block, int rows, int n, int from, float[] colMax, float[] colSum) {
        for (int j = from; j < n; j++) {
            float bm = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < rows; i++) {
                bm = Math.max(bm, block[i * n + j]);
            }
            float nm = Math.max(colMax[j], bm);
            float sum = colSum[j] * FastExp.exp(colMax[j] - nm);
            for (int i = 0; i < rows; i++) {
                sum += FastExp.exp(block[i * n + j] - nm);
            }
            colMax[j] = nm;
            colSum[j] = sum;
        }
    }

    @Override
    public double softmaxGradRow(float[] v, int o, int len, float rowLse, float[] colLse, float k) {
        double dot = 0;
        for (int i = 0; i < len; i++) {
            float l = v[o + i];
            float g = k * (FastExp.exp(l - rowLse) + FastExp.exp(l - colLse[i]));
            dot += (double) g * l;
            v[o + i] = g;
        }
        return dot;
    }
}

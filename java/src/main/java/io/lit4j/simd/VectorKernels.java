package io.lit4j.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector API kernels for the row-wise reductions that run in Java: softmax, LayerNorm, L2
 * normalisation, dot products. Each runs whole vectors up to {@code loopBound}, uses several
 * accumulators where a reduction is latency-bound, and finishes with a scalar tail. Offsets and
 * lengths are in fp32 elements; segments hold native-order fp32.
 */
public final class VectorKernels {
    /** The preferred species: 16 lanes on AVX-512, 8 on AVX2. */
    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private VectorKernels() {
    }

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(SPECIES, s, i * 4, NATIVE);
    }

    /** Sum of a[ao+i] * b[bo+i] for i in [0, n). */
    public static float dot(MemorySegment a, long ao, MemorySegment b, long bo, int n) {
        int i = 0;
        float sum = 0;
        if (n >= 4 * L) {
            FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
            int bound4 = n - n % (4 * L);
            for (; i < bound4; i += 4 * L) {
                s0 = load(a, ao + i).fma(load(b, bo + i), s0);
                s1 = load(a, ao + i + L).fma(load(b, bo + i + L), s1);
                s2 = load(a, ao + i + 2 * L).fma(load(b, bo + i + 2 * L), s2);
                s3 = load(a, ao + i + 3 * L).fma(load(b, bo + i + 3 * L), s3);
            }
            sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        int bound = i + SPECIES.loopBound(n - i);
        if (bound > i) {
            FloatVector s = FloatVector.zero(SPECIES);
            for (; i < bound; i += L) {
                s = load(a, ao + i).fma(load(b, bo + i), s);
            }
            sum += s.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a.getAtIndex(F, ao + i) * b.getAtIndex(F, bo + i);
        }
        return sum;
    }

    /** Largest of s[o..o+n). */
    public static float max(MemorySegment s, long o, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        int bound = SPECIES.loopBound(n);
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) {
                mv = mv.max(load(s, o + i));
            }
            m = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            m = Math.max(m, s.getAtIndex(F, o + i));
        }
        return m;
    }

    /**
     * In-place softmax of s[o..o+n) with max subtraction. When {@code keep} is non-null, the
     * positions where keep[ko+i] == 0 get probability exactly 0 (the row's max is taken over the
     * kept ones). A row with nothing kept, or all -inf, becomes all zeros.
     */
    public static void softmax(MemorySegment s, long o, int n, MemorySegment keep, long ko) {
        if (keep != null) {
            for (int i = 0; i < n; i++) {
                if (keep.getAtIndex(F, ko + i) == 0f) {
                    s.setAtIndex(F, o + i, Float.NEGATIVE_INFINITY);
                }
            }
        }
        float m = max(s, o, n);
        if (m == Float.NEGATIVE_INFINITY) {
            s.asSlice(o * 4, n * 4L).fill((byte) 0);
            return;
        }
        int i = 0;
        int bound = SPECIES.loopBound(n);
        float sum = 0;
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(SPECIES, m);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; i < bound; i += L) {
                FloatVector e = load(s, o + i).sub(mv).lanewise(VectorOperators.EXP);
                e.intoMemorySegment(s, (o + i) * 4, NATIVE);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(s.getAtIndex(F, o + i) - m);
            s.setAtIndex(F, o + i, e);
            sum += e;
        }
        scale(s, o, n, 1f / sum);
    }

    /** s[o+i] *= k. */
    public static void scale(MemorySegment s, long o, int n, float k) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector kv = FloatVector.broadcast(SPECIES, k);
        for (; i < bound; i += L) {
            load(s, o + i).mul(kv).intoMemorySegment(s, (o + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            s.setAtIndex(F, o + i, s.getAtIndex(F, o + i) * k);
        }
    }

    /** out[oo+i] = a[ao+i] + b[bo+i]. */
    public static void add(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment out, long oo, int n) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += L) {
            load(a, ao + i).add(load(b, bo + i)).intoMemorySegment(out, (oo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            out.setAtIndex(F, oo + i, a.getAtIndex(F, ao + i) + b.getAtIndex(F, bo + i));
        }
    }

    /**
     * LayerNorm of one row x[xo..xo+n) into y[yo..), two passes (mean, then the centred sum of
     * squares) so large offsets do not cancel. Returns {mean, rstd}.
     */
    public static float[] layerNorm(MemorySegment x, long xo, int n, MemorySegment g, MemorySegment b, float eps,
                                    MemorySegment y, long yo) {
        int bound = SPECIES.loopBound(n);
        int i = 0;
        float sum = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; i < bound; i += L) {
                acc = acc.add(load(x, xo + i));
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += x.getAtIndex(F, xo + i);
        }
        float mean = sum / n;
        FloatVector mv = FloatVector.broadcast(SPECIES, mean);
        i = 0;
        float ss = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; i < bound; i += L) {
                FloatVector dv = load(x, xo + i).sub(mv);
                acc = dv.fma(dv, acc);
            }
            ss = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float dv = x.getAtIndex(F, xo + i) - mean;
            ss += dv * dv;
        }
        float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
        FloatVector rv = FloatVector.broadcast(SPECIES, rstd);
        i = 0;
        for (; i < bound; i += L) {
            load(x, xo + i).sub(mv).mul(rv).fma(load(g, i), load(b, i)).intoMemorySegment(y, (yo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            y.setAtIndex(F, yo + i, (x.getAtIndex(F, xo + i) - mean) * rstd * g.getAtIndex(F, i) + b.getAtIndex(F, i));
        }
        return new float[] {mean, rstd};
    }

    /** y = x / (|x| + 1e-8) for one row; returns |x|. */
    public static float l2Normalize(MemorySegment x, long xo, int n, MemorySegment y, long yo) {
        float norm = (float) Math.sqrt(dot(x, xo, x, xo, n));
        float k = 1f / (norm + 1e-8f);
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector kv = FloatVector.broadcast(SPECIES, k);
        for (; i < bound; i += L) {
            load(x, xo + i).mul(kv).intoMemorySegment(y, (yo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            y.setAtIndex(F, yo + i, x.getAtIndex(F, xo + i) * k);
        }
        return norm;
    }

    /** Lanes of the preferred species, for {@code lit4j info}. */
    public static int lanes() {
        return L;
    }

}

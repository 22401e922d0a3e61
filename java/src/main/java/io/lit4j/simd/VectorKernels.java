package io.lit4j.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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

    // ------------------------------------------------------------------ deterministic building blocks
    // The Vector API's own lanewise(EXP) and reduceLanes(ADD) may give different bits before and
    // after the JIT compiles a loop (an interpreted fallback vs. a vector library and a tree
    // reduction). Training must be bit-reproducible, so lit4j builds both from IEEE-exact
    // operations (add, mul, fma, conversions), which every execution mode computes alike.

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    private static final float EXP_MIN = -87.33654f;
    private static final float EXP_MAX = 88.3f; // keeps n ≤ 127; softmax and the losses only take x ≤ 0

    /**
     * e^x per lane for x ≤ 88.3, within 3 ulp of the exact value: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6
     * polynomial for e^r, and 2^n from the exponent bits. Below -87.3 (and for -inf) the result is
     * exactly 0, so masked softmax entries get weight 0.
     */
    public static FloatVector exp(FloatVector x) {
        var underflow = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(SPECIES, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(SPECIES, 1f / 720);
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 0.5f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1f));
        jdk.incubator.vector.IntVector bits = ((jdk.incubator.vector.IntVector) n.convert(VectorOperators.F2I, 0))
                .add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).blend(0f, underflow);
    }

    /** Σ of the lanes, left to right (the same bits in every execution mode). */
    public static float sum(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0;
        for (int i = 0; i < L; i++) {
            s += lanes[i];
        }
        return s;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /** Scalar e^x matching {@link #exp(FloatVector)} bit for bit, for loop tails. */
    public static float exp(float x) {
        return exp(FloatVector.broadcast(SPECIES, x)).lane(0);
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
            sum = sum(s0.add(s1).add(s2.add(s3)));
        }
        int bound = i + SPECIES.loopBound(n - i);
        if (bound > i) {
            FloatVector s = FloatVector.zero(SPECIES);
            for (; i < bound; i += L) {
                s = load(a, ao + i).fma(load(b, bo + i), s);
            }
            sum += sum(s);
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
                FloatVector e = exp(load(s, o + i).sub(mv));
                e.intoMemorySegment(s, (o + i) * 4, NATIVE);
                acc = acc.add(e);
            }
            sum = sum(acc);
        }
        for (; i < n; i++) {
            float e = exp(s.getAtIndex(F, o + i) - m);
            s.setAtIndex(F, o + i, e);
            sum += e;
        }
        scale(s, o, n, 1f / sum);
    }

    /** s[o+i] *= k. */
    public static void scale(MemorySegment s, long o, int n, float k) {
        scale(s, o, n, k, s, o);
    }

    /** y[yo+i] = k · x[xo+i] (y may be x). */
    private static void scale(MemorySegment x, long xo, int n, float k, MemorySegment y, long yo) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector kv = FloatVector.broadcast(SPECIES, k);
        for (; i < bound; i += L) {
            load(x, xo + i).mul(kv).intoMemorySegment(y, (yo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            y.setAtIndex(F, yo + i, x.getAtIndex(F, xo + i) * k);
        }
    }

    /** acc[i] += s[o+i] for i in [0, n). */
    public static void addInto(float[] acc, MemorySegment s, long o, int n) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector.fromArray(SPECIES, acc, i).add(load(s, o + i)).intoArray(acc, i);
        }
        for (; i < n; i++) {
            acc[i] += s.getAtIndex(F, o + i);
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
            sum = sum(acc);
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
            ss = sum(acc);
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
        scale(x, xo, n, 1f / (norm + 1e-8f), y, yo);
        return norm;
    }

    /**
     * Softmax backward of one row, scaled: {@code ds[i] = k · p[i] · (dp[i] − Σ_j p[j] dp[j])},
     * written over {@code dp}.
     */
    public static void softmaxBackward(MemorySegment p, long po, MemorySegment dp, long dpo, int n, float k) {
        float dot = dot(p, po, dp, dpo, n);
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector dv = FloatVector.broadcast(SPECIES, dot);
        FloatVector kv = FloatVector.broadcast(SPECIES, k);
        for (; i < bound; i += L) {
            load(dp, dpo + i).sub(dv).mul(load(p, po + i)).mul(kv).intoMemorySegment(dp, (dpo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            dp.setAtIndex(F, dpo + i, k * p.getAtIndex(F, po + i) * (dp.getAtIndex(F, dpo + i) - dot));
        }
    }

    /** {@code out[i] = a · x[i] + b · y[i]}. */
    public static void axpby(float a, MemorySegment x, long xo, float b, MemorySegment y, long yo, MemorySegment out, long oo, int n) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector av = FloatVector.broadcast(SPECIES, a), bv = FloatVector.broadcast(SPECIES, b);
        for (; i < bound; i += L) {
            load(x, xo + i).mul(av).add(load(y, yo + i).mul(bv)).intoMemorySegment(out, (oo + i) * 4, NATIVE);
        }
        for (; i < n; i++) {
            out.setAtIndex(F, oo + i, a * x.getAtIndex(F, xo + i) + b * y.getAtIndex(F, yo + i));
        }
    }

    /** Σ s[o+i]², accumulated per vector chunk in double so long gradients keep their precision. */
    public static double sumOfSquares(MemorySegment s, long o, long n) {
        double total = 0;
        long i = 0;
        int chunk = 4096;
        while (i < n) {
            int len = (int) Math.min(chunk, n - i);
            total += dot(s, o + i, s, o + i, len);
            i += len;
        }
        return total;
    }

    /**
     * AdamW over n elements (torch.optim.AdamW): decay, moment updates, bias-corrected step.
     * {@code stepSize} = lr / (1 − β1^t); {@code invSqrtC2} = 1 / sqrt(1 − β2^t).
     */
    public static void adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long o, int n,
                             float decay, float beta1, float beta2, float eps, float stepSize, float invSqrtC2) {
        FloatVector b1 = FloatVector.broadcast(SPECIES, beta1), b1c = FloatVector.broadcast(SPECIES, 1 - beta1);
        FloatVector b2 = FloatVector.broadcast(SPECIES, beta2), b2c = FloatVector.broadcast(SPECIES, 1 - beta2);
        FloatVector dec = FloatVector.broadcast(SPECIES, decay), ep = FloatVector.broadcast(SPECIES, eps);
        FloatVector ss = FloatVector.broadcast(SPECIES, stepSize), ic = FloatVector.broadcast(SPECIES, invSqrtC2);
        // One masked loop, no scalar tail: a tail loop here made C2's loop predicates fail again and
        // again (parameters of every size pass through), deoptimising the kernel every step.
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> k = SPECIES.indexInRange(i, n);
            long off = (o + i) * 4;
            FloatVector gv = FloatVector.fromMemorySegment(SPECIES, g, off, NATIVE, k);
            FloatVector mv = FloatVector.fromMemorySegment(SPECIES, m, off, NATIVE, k).mul(b1).add(gv.mul(b1c));
            FloatVector vv = FloatVector.fromMemorySegment(SPECIES, v, off, NATIVE, k).mul(b2).add(gv.mul(gv).mul(b2c));
            FloatVector denom = vv.sqrt().mul(ic).add(ep);
            FloatVector pv = FloatVector.fromMemorySegment(SPECIES, p, off, NATIVE, k).mul(dec).sub(mv.div(denom).mul(ss));
            mv.intoMemorySegment(m, off, NATIVE, k);
            vv.intoMemorySegment(v, off, NATIVE, k);
            pv.intoMemorySegment(p, off, NATIVE, k);
        }
    }

    /** Lanes of the preferred species, for {@code lit4j info}. */
    public static int lanes() {
        return L;
    }

}

package io.lit4j.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The {@link Kernels} on the Vector API. Each runs whole vectors up to {@code loopBound}, uses
 * several accumulators where a reduction is latency-bound, and finishes with a scalar tail.
 * {@link KernelChoice} makes this class only when {@code jdk.incubator.vector} is in the boot
 * layer, so without the module it is never linked.
 */
final class VectorKernels implements Kernels {
    /** The preferred species: 16 lanes on AVX-512, 8 on AVX2. */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    @Override
    public String describe() {
        return "Vector API, " + SPECIES + " (" + L + " fp32 lanes, " + L * 32 + "-bit vectors)";
    }

    /** {@link FastExp#exp(float)} per lane, bit for bit. */
    static FloatVector exp(FloatVector x) {
        var underflow = x.compare(VectorOperators.LT, FastExp.MIN);
        FloatVector xc = x.max(FastExp.MIN).min(FastExp.MAX);
        FloatVector n = xc.mul(FastExp.LOG2E).add(FastExp.ROUND).sub(FastExp.ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -FastExp.LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(SPECIES, -FastExp.LN2_LO), r);
        FloatVector p = FloatVector.broadcast(SPECIES, FastExp.C6);
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C5));
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C4));
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C3));
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C2));
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C1));
        p = p.fma(r, FloatVector.broadcast(SPECIES, FastExp.C0));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).blend(0f, underflow);
    }

    /** Σ of the lanes, left to right (the same bits in every execution mode, unlike reduceLanes(ADD)). */
    static float sum(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0;
        for (int i = 0; i < L; i++) {
            s += lanes[i];
        }
        return s;
    }

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(SPECIES, s, i * 4, NATIVE);
    }

    @Override
    public float dot(MemorySegment a, long ao, MemorySegment b, long bo, int n) {
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
    private static float max(MemorySegment s, long o, int n) {
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

    @Override
    public void softmax(MemorySegment s, long o, int n, MemorySegment keep, long ko) {
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
            float e = FastExp.exp(s.getAtIndex(F, o + i) - m);
            s.setAtIndex(F, o + i, e);
            sum += e;
        }
        scale(s, o, n, 1f / sum);
    }

    @Override
    public void scale(MemorySegment s, long o, int n, float k) {
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

    @Override
    public void addInto(float[] acc, MemorySegment s, long o, int n) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector.fromArray(SPECIES, acc, i).add(load(s, o + i)).intoArray(acc, i);
        }
        for (; i < n; i++) {
            acc[i] += s.getAtIndex(F, o + i);
        }
    }

    @Override
    public float l2Normalize(MemorySegment x, long xo, int n, MemorySegment y, long yo) {
        float norm = (float) Math.sqrt(dot(x, xo, x, xo, n));
        scale(x, xo, n, 1f / (norm + 1e-8f), y, yo);
        return norm;
    }

    @Override
    public void softmaxBackward(MemorySegment p, long po, MemorySegment dp, long dpo, int n, float k) {
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

    @Override
    public void axpby(float a, MemorySegment x, long xo, float b, MemorySegment y, long yo, MemorySegment out, long oo, int n) {
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

    @Override
    public void adamw(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long o, int n, float gradScale,
                      float decay, float beta1, float beta2, float eps, float stepSize, float invSqrtC2, MemorySegment shadow) {
        FloatVector gs = FloatVector.broadcast(SPECIES, gradScale);
        FloatVector b1 = FloatVector.broadcast(SPECIES, beta1), b1c = FloatVector.broadcast(SPECIES, 1 - beta1);
        FloatVector b2 = FloatVector.broadcast(SPECIES, beta2), b2c = FloatVector.broadcast(SPECIES, 1 - beta2);
        FloatVector dec = FloatVector.broadcast(SPECIES, decay), ep = FloatVector.broadcast(SPECIES, eps);
        FloatVector ss = FloatVector.broadcast(SPECIES, stepSize), ic = FloatVector.broadcast(SPECIES, invSqrtC2);
        // One masked loop, no scalar tail: a tail loop here made C2's loop predicates fail again and
        // again (parameters of every size pass through), deoptimising the kernel every step. The bf16
        // rounding is written in the loop, not called: as a helper method it was compiled on its own
        // first, and the loop's later compilation then ran part of the sweep as boxed Java fallback
        // code (160 bytes allocated per 16 weights, AdamWBenchmark with -prof gc) at 2/3 the speed.
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> k = SPECIES.indexInRange(i, n);
            long off = (o + i) * 4;
            FloatVector gv = FloatVector.fromMemorySegment(SPECIES, g, off, NATIVE, k).mul(gs);
            FloatVector mv = FloatVector.fromMemorySegment(SPECIES, m, off, NATIVE, k).mul(b1).add(gv.mul(b1c));
            FloatVector vv = FloatVector.fromMemorySegment(SPECIES, v, off, NATIVE, k).mul(b2).add(gv.mul(gv).mul(b2c));
            FloatVector denom = vv.sqrt().mul(ic).add(ep);
            FloatVector pv = FloatVector.fromMemorySegment(SPECIES, p, off, NATIVE, k).mul(dec).sub(mv.div(denom).mul(ss));
            mv.intoMemorySegment(m, off, NATIVE, k);
            vv.intoMemorySegment(v, off, NATIVE, k);
            pv.intoMemorySegment(p, off, NATIVE, k);
            if (shadow != null) { // Floats.f32ToBf16 per lane (round to nearest even, NaN kept NaN), written out here: see above
                IntVector bits = pv.reinterpretAsInts();
                IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
                IntVector rounded = bits.add(high.and(1)).add(0x7fff).lanewise(VectorOperators.LSHR, 16);
                VectorMask<Integer> nan = bits.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
                rounded.blend(high.or(0x40), nan).convertShape(VectorOperators.I2S, HALF, 0)
                        .intoMemorySegment(shadow, (o + i) * 2, NATIVE, k.cast(HALF));
            }
        }
    }

    /** Shorts as wide as {@link #SPECIES} has lanes: where the bf16 roundings of a float vector go. */
    private static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(SPECIES.vectorBitSize() / 2));

    @Override
    public float logSumExp(float[] v, int o, int len) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        int bound = SPECIES.loopBound(len);
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) {
                mv = mv.max(FloatVector.fromArray(SPECIES, v, o + i));
            }
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < len; i++) {
            max = Math.max(max, v[o + i]);
        }
        FloatVector mb = FloatVector.broadcast(SPECIES, max);
        FloatVector acc = FloatVector.zero(SPECIES);
        i = 0;
        for (; i < bound; i += L) {
            acc = acc.add(exp(FloatVector.fromArray(SPECIES, v, o + i).sub(mb)));
        }
        float sum = sum(acc);
        for (; i < len; i++) {
            sum += FastExp.exp(v[o + i] - max);
        }
        return max + (float) Math.log(sum);
    }

    @Override
    public void columnLogSumExpUpdate(float[] block, int rows, int n, float[] colMax, float[] colSum) {
        int bound = SPECIES.loopBound(n);
        int j = 0;
        for (; j < bound; j += L) {
            FloatVector bm = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < rows; i++) {
                bm = bm.max(FloatVector.fromArray(SPECIES, block, i * n + j));
            }
            FloatVector old = FloatVector.fromArray(SPECIES, colMax, j);
            FloatVector nm = old.max(bm);
            FloatVector sum = FloatVector.fromArray(SPECIES, colSum, j).mul(exp(old.sub(nm)));
            for (int i = 0; i < rows; i++) {
                sum = sum.add(exp(FloatVector.fromArray(SPECIES, block, i * n + j).sub(nm)));
            }
            nm.intoArray(colMax, j);
            sum.intoArray(colSum, j);
        }
        PlainKernels.columnLogSumExpUpdate(block, rows, n, j, colMax, colSum);
    }

    @Override
    public double softmaxGradRow(float[] v, int o, int len, float rowLse, float[] colLse, float k) {
        int i = 0;
        int bound = SPECIES.loopBound(len);
        FloatVector rl = FloatVector.broadcast(SPECIES, rowLse), kv = FloatVector.broadcast(SPECIES, k);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < bound; i += L) {
            FloatVector l = FloatVector.fromArray(SPECIES, v, o + i);
            FloatVector g = exp(l.sub(rl)).add(exp(l.sub(FloatVector.fromArray(SPECIES, colLse, i)))).mul(kv);
            acc = g.fma(l, acc);
            g.intoArray(v, o + i);
        }
        double dot = sum(acc);
        for (; i < len; i++) {
            float l = v[o + i];
            float g = k * (FastExp.exp(l - rowLse) + FastExp.exp(l - colLse[i]));
            dot += (double) g * l;
            v[o + i] = g;
        }
        return dot;
    }
}

package io.lit4j.simd;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API kernels against their plain twin, on odd sizes (tails of every length) and random data. */
class VectorKernelsTest {
    private static final int[] SIZES = {1, 2, 3, 7, 8, 15, 17, 31, 33, 63, 65, 100, 129, 257, 1000, 4099};
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private final Kernels vector = new VectorKernels(), plain = new PlainKernels();
    private final Random random = new Random(7);

    @Test
    void vectorExpEqualsTheScalarExpBitForBit() {
        int l = VectorKernels.SPECIES.length();
        float[] x = new float[l];
        float[] got = new float[l];
        float[] edges = {0f, -0f, 1e-30f, -87.33654f, -87.4f, 88.3f, 100f, Float.NEGATIVE_INFINITY, Float.NaN, -1e-7f};
        for (int i = 0; i < 50_000; i++) {
            for (int j = 0; j < l; j++) {
                x[j] = i == 0 ? edges[j % edges.length] : (float) (random.nextDouble() * 180 - 90);
            }
            VectorKernels.exp(FloatVector.fromArray(VectorKernels.SPECIES, x, 0)).intoArray(got, 0);
            for (int j = 0; j < l; j++) {
                assertEquals(Float.floatToIntBits(FastExp.exp(x[j])), Float.floatToIntBits(got[j]), "exp(" + x[j] + ")");
            }
        }
    }

    @Test
    void laneSumsAreInLaneOrder() {
        float[] v = new float[VectorKernels.SPECIES.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 2 == 0 ? 1e8f : 1f) * (i % 3 == 0 ? -1 : 1);
        }
        float expected = 0;
        for (float f : v) {
            expected += f;
        }
        assertEquals(expected, VectorKernels.sum(FloatVector.fromArray(VectorKernels.SPECIES, v, 0)));
    }

    @Test
    void dotNormAndSumOfSquaresMatchThePlainLoops() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                MemorySegment a = randomSegment(arena, n + 3), b = randomSegment(arena, n + 5);
                assertEquals(plain.dot(a, 3, b, 5, n), vector.dot(a, 3, b, 5, n), 1e-4f * n, "dot n=" + n);
                assertEquals(plain.sumOfSquares(a, 1, n), vector.sumOfSquares(a, 1, n), 1e-4 * n, "sumOfSquares n=" + n);
                MemorySegment yp = arena.allocate(4L * n), yv = arena.allocate(4L * n);
                assertEquals(plain.l2Normalize(a, 2, n, yp, 0), vector.l2Normalize(a, 2, n, yv, 0), 1e-4f * n, "l2 norm n=" + n);
                assertClose(yp, yv, 1e-5f, "l2Normalize n=" + n);
            }
        }
    }

    @Test
    void elementwiseKernelsMatchThePlainLoops() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                MemorySegment x = randomSegment(arena, n), y = randomSegment(arena, n);
                MemorySegment sp = copy(arena, x), sv = copy(arena, x);
                plain.scale(sp, 0, n, -1.7f);
                vector.scale(sv, 0, n, -1.7f);
                assertClose(sp, sv, 0f, "scale n=" + n);
                MemorySegment op = arena.allocate(4L * n), ov = arena.allocate(4L * n);
                plain.axpby(0.3f, x, 0, -2f, y, 0, op, 0, n);
                vector.axpby(0.3f, x, 0, -2f, y, 0, ov, 0, n);
                assertClose(op, ov, 1e-6f, "axpby n=" + n);
                float[] accP = randomArray(n), accV = accP.clone();
                plain.addInto(accP, x, 0, n);
                vector.addInto(accV, x, 0, n);
                assertArrayEquals(accP, accV, 0f, "addInto n=" + n);
            }
        }
    }

    @Test
    void softmaxAndItsBackwardMatchThePlainLoops() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                MemorySegment logits = randomSegment(arena, n), keep = arena.allocate(4L * n);
                for (int i = 0; i < n; i++) {
                    keep.setAtIndex(F, i, i % 5 == 4 ? 0f : 1f);
                }
                for (MemorySegment mask : new MemorySegment[] {null, keep}) {
                    MemorySegment pp = copy(arena, logits), pv = copy(arena, logits);
                    plain.softmax(pp, 0, n, mask, 0);
                    vector.softmax(pv, 0, n, mask, 0);
                    assertClose(pp, pv, 1e-6f, "softmax n=" + n);
                    MemorySegment dp = randomSegment(arena, n), dpp = copy(arena, dp), dpv = copy(arena, dp);
                    plain.softmaxBackward(pp, 0, dpp, 0, n, 0.5f);
                    vector.softmaxBackward(pp, 0, dpv, 0, n, 0.5f);
                    assertClose(dpp, dpv, 1e-5f, "softmaxBackward n=" + n);
                }
            }
        }
    }

    /**
     * Bit for bit: both kernels do the same fp32 operations in the same order (IEEE mul, add, div,
     * sqrt; no fma), so any difference is a bug, not rounding. With and without the clip's scale and
     * the bf16 shadow, whose every element must be {@link io.lit4j.tensor.Floats#f32ToBf16} of the
     * new weight; the gradients are only read. Special values (NaN, ±inf, ±0, a bf16 tie) go through
     * the vector rounding too.
     */
    @Test
    void adamwMatchesThePlainLoopBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : SIZES) {
                for (float gradScale : new float[] {1f, 0.37f}) {
                    for (boolean withShadow : new boolean[] {false, true}) {
                        MemorySegment g = randomSegment(arena, n);
                        MemorySegment[] p = {randomSegment(arena, n), null}, m = {randomSegment(arena, n), null}, v = {squares(arena, n), null};
                        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, 0f, -0f, Float.intBitsToFloat(0x3f808000), 1e-40f};
                        for (int i = 0; i < Math.min(n, specials.length) && n > 20; i++) {
                            p[0].setAtIndex(F, 3 * i, specials[i]);
                        }
                        MemorySegment g0 = copy(arena, g);
                        p[1] = copy(arena, p[0]);
                        m[1] = copy(arena, m[0]);
                        v[1] = copy(arena, v[0]);
                        MemorySegment[] sh = withShadow ? new MemorySegment[] {arena.allocate(2L * n), arena.allocate(2L * n)} : new MemorySegment[2];
                        plain.adamw(p[0], g, m[0], v[0], 0, n, gradScale, 0.999f, 0.9f, 0.99f, 1e-8f, 1e-3f, 1.2f, sh[0]);
                        vector.adamw(p[1], g, m[1], v[1], 0, n, gradScale, 0.999f, 0.9f, 0.99f, 1e-8f, 1e-3f, 1.2f, sh[1]);
                        String what = "adamw n=" + n + " scale=" + gradScale + " shadow=" + withShadow;
                        assertArrayEquals(bits(p[0]), bits(p[1]), what + ": p");
                        assertArrayEquals(bits(m[0]), bits(m[1]), what + ": m");
                        assertArrayEquals(bits(v[0]), bits(v[1]), what + ": v");
                        assertArrayEquals(bits(g0), bits(g), what + ": g must only be read");
                        if (withShadow) {
                            short[] expected = new short[n];
                            for (int i = 0; i < n; i++) {
                                expected[i] = io.lit4j.tensor.Floats.f32ToBf16(p[0].getAtIndex(F, i));
                            }
                            assertArrayEquals(expected, sh[0].toArray(ValueLayout.JAVA_SHORT), what + ": plain shadow");
                            assertArrayEquals(expected, sh[1].toArray(ValueLayout.JAVA_SHORT), what + ": vector shadow");
                        }
                    }
                }
            }
        }
    }

    /** The gradient scale is the old separate clip pass folded in: the same bits as scaling g first. */
    @Test
    void adamwGradScaleEqualsScalingTheGradientFirst() {
        try (Arena arena = Arena.ofConfined()) {
            for (Kernels k : new Kernels[] {plain, vector}) {
                int n = 1000;
                MemorySegment g = randomSegment(arena, n), gs = copy(arena, g);
                k.scale(gs, 0, n, 0.37f);
                MemorySegment p = randomSegment(arena, n), m = randomSegment(arena, n), v = squares(arena, n);
                MemorySegment p2 = copy(arena, p), m2 = copy(arena, m), v2 = copy(arena, v);
                k.adamw(p, g, m, v, 0, n, 0.37f, 0.999f, 0.9f, 0.99f, 1e-8f, 1e-3f, 1.2f, null);
                k.adamw(p2, gs, m2, v2, 0, n, 1f, 0.999f, 0.9f, 0.99f, 1e-8f, 1e-3f, 1.2f, null);
                assertArrayEquals(bits(p2), bits(p), k.describe());
                assertArrayEquals(bits(v2), bits(v), k.describe());
            }
        }
    }

    private static int[] bits(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_INT);
    }

    @Test
    void contrastiveLossReductionsMatchThePlainLoops() {
        for (int n : SIZES) {
            if (n > 300) {
                continue; // [rows, n] blocks: the odd small sizes exercise every tail
            }
            int rows = 3;
            float[] block = new float[rows * n];
            for (int i = 0; i < block.length; i++) {
                block[i] = (float) (random.nextGaussian() * 4);
            }
            assertEquals(plain.logSumExp(block, n, n), vector.logSumExp(block, n, n), 1e-5f * (1 + n), "logSumExp n=" + n);
            float[] maxP = randomArray(n), sumP = squaresArray(n);
            float[] maxV = maxP.clone(), sumV = sumP.clone();
            plain.columnLogSumExpUpdate(block, rows, n, maxP, sumP);
            vector.columnLogSumExpUpdate(block, rows, n, maxV, sumV);
            assertArrayEquals(maxP, maxV, 0f, "column max n=" + n);
            assertArrayEquals(sumP, sumV, 1e-5f, "column sums n=" + n);
            float[] colLse = randomArray(n);
            float[] gp = Arrays.copyOf(block, n), gv = gp.clone();
            double dp = plain.softmaxGradRow(gp, 0, n, 2.5f, colLse, 0.1f);
            double dv = vector.softmaxGradRow(gv, 0, n, 2.5f, colLse, 0.1f);
            assertArrayEquals(gp, gv, 1e-5f, "softmax gradient row n=" + n);
            assertEquals(dp, dv, 1e-4 * (1 + Math.abs(dp)), "softmax gradient dot n=" + n);
        }
    }

    private MemorySegment randomSegment(Arena arena, int n) {
        MemorySegment s = arena.allocate(4L * n);
        for (int i = 0; i < n; i++) {
            s.setAtIndex(F, i, (float) random.nextGaussian());
        }
        return s;
    }

    private MemorySegment squares(Arena arena, int n) {
        MemorySegment s = randomSegment(arena, n);
        for (int i = 0; i < n; i++) {
            float x = s.getAtIndex(F, i);
            s.setAtIndex(F, i, x * x);
        }
        return s;
    }

    private float[] randomArray(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    private float[] squaresArray(int n) {
        float[] a = randomArray(n);
        for (int i = 0; i < n; i++) {
            a[i] *= a[i];
        }
        return a;
    }

    private static MemorySegment copy(Arena arena, MemorySegment s) {
        return arena.allocate(s.byteSize()).copyFrom(s);
    }

    private static void assertClose(MemorySegment expected, MemorySegment actual, float tol, String what) {
        assertArrayEquals(expected.toArray(F), actual.toArray(F), tol, what);
    }
}

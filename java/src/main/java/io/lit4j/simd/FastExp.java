package io.lit4j.simd;

/**
 * e^x from IEEE-exact operations (add, mul, fma, conversions), shared by both kernel sets. The
 * Vector API's own lanewise(EXP) may give different bits before and after the JIT compiles a loop;
 * training must be bit-reproducible, so lit4j computes e^x = 2^n · e^r with x = n·ln2 + r,
 * |r| ≤ ln2/2, and a degree-6 polynomial for e^r: within 3 ulp of the exact value for x ≤ 88.3,
 * exactly 0 below -87.3 (and for -inf), so masked softmax entries get weight 0. The lanes of
 * {@code VectorKernels.exp} equal {@link #exp(float)} bit for bit.
 */
final class FastExp {
    static final float LOG2E = 1.44269504f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    static final float MIN = -87.33654f;
    static final float MAX = 88.3f; // keeps n ≤ 127; softmax and the losses only take x ≤ 0
    static final float C6 = 1f / 720, C5 = 1f / 120, C4 = 1f / 24, C3 = 1f / 6, C2 = 0.5f, C1 = 1f, C0 = 1f; // e^r's Taylor terms

    private FastExp() {
    }

    static float exp(float x) {
        if (x < MIN) {
            return 0f;
        }
        float xc = Math.min(Math.max(x, MIN), MAX);
        float n = xc * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(C6, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, C1);
        p = Math.fma(p, r, C0);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}

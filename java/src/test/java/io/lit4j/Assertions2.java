package io.lit4j;

import static org.junit.jupiter.api.Assertions.fail;

/** Numeric comparisons with tolerances that scale with the problem, and messages that locate the miss. */
public final class Assertions2 {
    private Assertions2() {
    }

    /** ||actual - expected||_2 / ||expected||_2, or the absolute norm when expected is ~0. */
    public static double relativeError(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError("length " + actual.length + " != expected " + expected.length);
        }
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return den < 1e-30 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /**
     * Fails unless the relative L2 error is at most {@code rtol} and no element is off by more
     * than {@code 50 * rtol} times the largest expected magnitude (so one bad element among many
     * good ones is still caught). NaN anywhere fails.
     */
    public static void assertClose(String what, float[] expected, float[] actual, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + " != expected " + expected.length);
        }
        double maxRef = 0;
        for (float e : expected) {
            maxRef = Math.max(maxRef, Math.abs(e));
        }
        int worst = -1;
        double worstDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(actual[i]) != Float.isNaN(expected[i])) {
                fail(what + ": NaN mismatch at " + i + " (expected " + expected[i] + ", got " + actual[i] + ")");
            }
            double d = Math.abs((double) actual[i] - expected[i]);
            if (d > worstDiff) {
                worstDiff = d;
                worst = i;
            }
        }
        double rel = relativeError(expected, actual);
        double elemTol = 50 * rtol * Math.max(maxRef, 1e-30);
        if (rel > rtol || worstDiff > elemTol) {
            fail(String.format("%s: relative error %.3g (limit %.3g), worst element %d: expected %.8g got %.8g (|diff| %.3g, limit %.3g)",
                    what, rel, rtol, worst, expected[worst], actual[worst], worstDiff, elemTol));
        }
    }

    public static float[] random(java.util.Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float x;
            do {
                x = (r.nextFloat() * 2 - 1) * scale;
            } while (x == 0f);
            v[i] = x;
        }
        return v;
    }
}

package io.lit4j.simd;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorKernelsTest {
    @Test
    void expIsWithinThreeUlpOfTheExactValueAndZeroBelowRange() {
        Random r = new Random(1);
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = i < 100_000 ? (float) (r.nextDouble() * 175.6 - 87.3) : (float) (r.nextGaussian() * 3);
            double exact = Math.exp(x);
            float got = VectorKernels.exp(x);
            double ulps = Math.abs(got - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 3.0, "exp off by " + worst + " ulp");
        assertEquals(1f, VectorKernels.exp(0f));
        assertEquals(0f, VectorKernels.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorKernels.exp(-100f));
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
}

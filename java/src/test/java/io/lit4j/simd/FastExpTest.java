package io.lit4j.simd;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FastExpTest {
    @Test
    void expIsWithinThreeUlpOfTheExactValueAndZeroBelowRange() {
        Random r = new Random(1);
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = i < 100_000 ? (float) (r.nextDouble() * 175.6 - 87.3) : (float) (r.nextGaussian() * 3);
            double exact = Math.exp(x);
            float got = FastExp.exp(x);
            double ulps = Math.abs(got - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
        }
        assertTrue(worst <= 3.0, "exp off by " + worst + " ulp");
        assertEquals(1f, FastExp.exp(0f));
        assertEquals(0f, FastExp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, FastExp.exp(-100f));
    }
}

package io.lit4j.report;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AxisTest {
    static List<String> labels(Axis a) {
        return a.major.stream().map(t -> t.label().text() + (t.label().sup().isEmpty() ? "" : "^" + t.label().sup()))
                .toList();
    }

    @Test
    void stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(1, Axis.niceStep(0.97), 1e-12);
        assertEquals(0.5, Axis.niceStep(0.3), 1e-12);
        assertEquals(200, Axis.niceStep(101), 1e-9);
        assertEquals(5e-4, Axis.niceStep(4.2e-4), 1e-15);
        for (double raw = 1e-3; raw < 1e5; raw *= 1.37) {
            double step = Axis.niceStep(raw);
            double m = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
            assertTrue(Math.abs(m - 1) < 1e-9 || Math.abs(m - 2) < 1e-9 || Math.abs(m - 5) < 1e-9, "step " + step);
            assertTrue(step >= raw * (1 - 1e-9));
        }
    }

    @Test
    void linearTicksFitTheLimits() {
        Axis a = Axis.fixed(0.33, 6.1, false);
        a.ticks(6);
        assertEquals(List.of("1", "2", "3", "4", "5", "6"), labels(a));
        Axis acc = Axis.fixed(0, 1, false);
        acc.ticks(6);
        assertEquals(List.of("0", "0.2", "0.4", "0.6", "0.8", "1.0"), labels(acc));
        Axis neg = Axis.fixed(-0.23, 0.14, false);
        neg.ticks(8);
        assertEquals(List.of("−0.20", "−0.15", "−0.10", "−0.05", "0", "0.05", "0.10"), labels(neg));
    }

    @Test
    void hugeAndTinyValuesUseScientificLabels() {
        Axis a = Axis.fixed(0, 3e6, false);
        a.ticks(4);
        assertEquals(List.of("0", "1×10^6", "2×10^6", "3×10^6"), labels(a));
    }

    @Test
    void logTicksArePowersOfTen() {
        Axis a = Axis.fixed(1e-4, 20, true);
        a.ticks(8);
        assertEquals(List.of("10^−4", "10^−3", "10^−2", "10^−1", "10^0", "10^1"), labels(a));
        assertTrue(a.minor.contains(2e-4));
        Axis narrow = Axis.fixed(0.6, 6, true);
        narrow.ticks(8);
        assertEquals(List.of("1", "2", "5"), labels(narrow));
    }

    @Test
    void dataMarginsAndDegenerateRanges() {
        Axis a = Axis.around(0, 10, false, 0.05, Double.NaN, Double.NaN);
        assertEquals(-0.5, a.lo, 1e-12);
        assertEquals(10.5, a.hi, 1e-12);
        Axis flat = Axis.around(3, 3, false, 0.05, Double.NaN, Double.NaN);
        assertTrue(flat.lo < 3 && flat.hi > 3);
        Axis none = Axis.around(Double.NaN, Double.NaN, false, 0.05, Double.NaN, Double.NaN);
        assertEquals(0, none.lo);
        assertEquals(1, none.hi);
        Axis fixed = Axis.around(0.1, 0.7, false, 0.05, 0, 1);
        assertEquals(0, fixed.lo);
        assertEquals(1, fixed.hi);
    }
}

package io.lit4j.serve;

import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The timing headers' milliseconds are what {@code %.3f} writes, halves and carries included. */
class TimingHeaderTest {
    @Test
    void millisecondsAreWhatFormatWrites() {
        Random r = new Random(1);
        long[] edges = {0, 1, 499, 500, 501, 999, 1000, 1499, 1500, 9_500, 99_500, 999_499, 999_500, 1_000_000, 1_234_567, 59_999_999_500L,
                Long.MAX_VALUE / 2, -1, -1_500};
        for (long n : edges) {
            assertEquals(String.format(Locale.ROOT, "%.3f", n / 1e6), Endpoints.ms(n), n + " ns");
        }
        for (int i = 0; i < 100_000; i++) {
            long n = i % 2 == 0 ? r.nextInt(100_000_000) : r.nextInt(20_000) * 500L;
            assertEquals(String.format(Locale.ROOT, "%.3f", n / 1e6), Endpoints.ms(n), n + " ns");
        }
    }
}

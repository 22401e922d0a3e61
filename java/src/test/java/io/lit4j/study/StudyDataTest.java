package io.lit4j.study;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StudyDataTest {
    @Test
    void aSubsetIsSortedDistinctSeededAndAllWhenAskedForMore() {
        int[] a = StudyData.subset(1000, 100, 4);
        assertEquals(100, a.length);
        assertEquals(100, Arrays.stream(a).distinct().count());
        assertTrue(Arrays.stream(a).allMatch(i -> i >= 0 && i < 1000));
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i - 1] < a[i]);
        }
        assertArrayEquals(a, StudyData.subset(1000, 100, 4));
        assertTrue(!Arrays.equals(a, StudyData.subset(1000, 100, 5)));
        assertEquals(1000, StudyData.subset(1000, 0, 4).length);
        assertEquals(1000, StudyData.subset(1000, 5000, 4).length);
    }

    @Test
    void translateMovesEveryPixelAndFillsWithBlack() {
        SplittableRandom rng = new SplittableRandom(2);
        int w = 7, h = 5;
        byte[] px = new byte[w * h];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (1 + rng.nextInt(255));
        }
        for (int dx = -3; dx <= 3; dx++) {
            for (int dy = -2; dy <= 2; dy++) {
                byte[] out = StudyData.translate(px, w, h, dx, dy);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int sx = x - dx, sy = y - dy;
                        byte want = sx >= 0 && sx < w && sy >= 0 && sy < h ? px[sy * w + sx] : 0;
                        assertEquals(want, out[y * w + x], "dx " + dx + " dy " + dy + " at " + x + "," + y);
                    }
                }
            }
        }
    }
}

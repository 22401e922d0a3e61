package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.cuda.KernelLaunch.Dims;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launch sizes the kernels rely on: full warps, every element or row reached, nothing launched for empty tensors. */
class KernelLaunchTest {
    static final long[] COUNTS = {1, 2, 31, 32, 33, 255, 256, 257, 4099, 65_535, 1L << 24, (1L << 24) + 1, 3L * 256 * 197 * 768,
            (long) KernelLaunch.MAX_GRID * 256 + 1, 1L << 40};

    @Test
    void elementLaunchesCoverEveryElementOnceTheGridStrideIsCounted() {
        for (long n : COUNTS) {
            Dims d = KernelLaunch.elements(n);
            assertEquals(256, d.block());
            assertTrue(d.gridX() >= 1 && d.gridX() <= KernelLaunch.MAX_GRID, n + ": " + d);
            long threads = (long) d.gridX() * d.block();
            // grid-stride: thread i handles i, i + threads, ...; all n are reached when threads >= 1, and
            // no block is launched with no element at all
            assertTrue(threads < n + d.block(), n + ": a whole idle block in " + d);
            if (d.gridX() < KernelLaunch.MAX_GRID) {
                assertTrue(threads >= n, n + ": " + d + " leaves elements to a second stride although the grid is not capped");
            }
        }
        assertNull(KernelLaunch.elements(0));
        assertThrows(LitException.class, () -> KernelLaunch.elements(-1));
    }

    @Test
    void rowBlocksAreWholeWarpsSizedToTheRow() {
        for (int cols = 0; cols <= 70_000; cols += cols < 300 ? 1 : 977) {
            int b = KernelLaunch.rowBlock(cols);
            assertEquals(0, b % 32, cols + " -> " + b);
            assertEquals(1, Integer.bitCount(b), cols + " -> " + b + " is not a power of two");
            assertTrue(b >= 32 && b <= 1024, cols + " -> " + b);
            if (cols <= 256) {
                assertTrue(b >= cols && (b == 32 || b / 2 < cols), cols + " -> " + b + " is not the power of two at or above the row");
            } else if (cols <= 4096) {
                assertEquals(256, b, "rows up to 4096 use 256 threads, at most 16 elements each");
            }
            assertTrue((long) b * 64 >= cols || b == 1024, cols + " -> " + b + " leaves more than 64 elements a thread");
        }
        assertEquals(32, KernelLaunch.rowBlock(1));
        assertEquals(32, KernelLaunch.rowBlock(17));
        assertEquals(256, KernelLaunch.rowBlock(197));
        assertEquals(256, KernelLaunch.rowBlock(768));
        assertEquals(1024, KernelLaunch.rowBlock(50_000));
    }

    @Test
    void rowLaunchesAreOneBlockPerRowUpToTheCap() {
        assertEquals(new Dims(3, 256), KernelLaunch.rows(3, 768));
        assertEquals(new Dims(KernelLaunch.MAX_GRID, 256), KernelLaunch.rows(256L * 12 * 197, 197));
        assertEquals(new Dims(1, 32), KernelLaunch.rows(1, 0));
        assertNull(KernelLaunch.rows(0, 5));
        assertThrows(LitException.class, () -> KernelLaunch.rows(-1, 5));
        assertThrows(IllegalArgumentException.class, () -> new Dims(0, 32));
        assertThrows(IllegalArgumentException.class, () -> new Dims(1, 2048));
    }
}

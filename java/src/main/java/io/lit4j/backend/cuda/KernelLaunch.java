package io.lit4j.backend.cuda;

import io.lit4j.LitException;

/**
 * Launch sizes for the kernels in {@code native/cuda/lit4j_kernels.cu}, computed here (not on
 * the device) so they are unit-tested without a GPU. Two shapes, matching the two kernel styles:
 * <ul>
 *   <li>{@link #elements}: one thread per element, 256 threads a block, the grid capped at
 *       {@link #MAX_GRID} blocks (the kernels loop grid-stride over the rest);</li>
 *   <li>{@link #rows}: one block per row (grid-stride past {@link #MAX_GRID} rows), the block a
 *       power of two in [32, 1024] sized to the row, so every warp is full (the kernels' shuffle
 *       reductions need that) and a short row does not idle hundreds of threads.</li>
 * </ul>
 */
public final class KernelLaunch {
    /** Threads per block of an element-wise kernel. */
    public static final int ELEMENT_BLOCK = 256;
    /** The most blocks a launch asks for; far below the driver's 2^31 - 1, and enough to fill any GPU many times. */
    public static final int MAX_GRID = 1 << 16;

    private KernelLaunch() {
    }

    /** A one-dimensional launch: {@code gridX} blocks of {@code block} threads. */
    public record Dims(int gridX, int block) {
        public Dims {
            if (gridX < 1 || block < 1 || block > 1024) {
                throw new IllegalArgumentException("bad launch " + gridX + "x" + block);
            }
        }

        @Override
        public String toString() {
            return "grid " + gridX + " x block " + block;
        }
    }

    /** For {@code n} independent elements; null when there is nothing to do ({@code n == 0}). */
    public static Dims elements(long n) {
        if (n < 0) {
            throw new LitException("negative element count " + n);
        }
        if (n == 0) {
            return null;
        }
        long blocks = (n + ELEMENT_BLOCK - 1) / ELEMENT_BLOCK;
        return new Dims((int) Math.min(blocks, MAX_GRID), ELEMENT_BLOCK);
    }

    /** For {@code rows} rows of {@code cols} elements, one block each; null when there are no rows. */
    public static Dims rows(long rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new LitException("negative row shape " + rows + "x" + cols);
        }
        if (rows == 0) {
            return null;
        }
        return new Dims((int) Math.min(rows, MAX_GRID), rowBlock(cols));
    }

    /**
     * Threads for one row of {@code cols}: the power of two at or above it, at least one warp (32),
     * at most 256 up to 4096 columns (each thread then strides over at most 16 elements), then up
     * to 1024 for longer rows.
     */
    public static int rowBlock(int cols) {
        int cap = cols > 16384 ? 1024 : cols > 4096 ? 512 : 256;
        int p = 32;
        while (p < cols && p < cap) {
            p <<= 1;
        }
        return p;
    }
}

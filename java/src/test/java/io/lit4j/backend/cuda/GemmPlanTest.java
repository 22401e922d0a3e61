package io.lit4j.backend.cuda;

import io.lit4j.backend.cuda.Cublas.Fused;
import io.lit4j.backend.cuda.Cublas.Gemm;
import io.lit4j.backend.cuda.Cublas.Type;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The row-major-to-cuBLAS mapping in {@link Gemm#plan}, checked without a GPU: a column-major
 * GEMM written out the way the cuBLASLt documentation defines it ({@code D = op(A)·op(B)} on
 * matrices stored column-major with a leading dimension, batches at a stride) is run on the
 * layouts and operation flags the plan hands cuBLASLt, and must give the row-major product the
 * Backend contract asks for, over every transpose combination, odd sizes, batches and a
 * broadcast (stride 0) operand.
 */
class GemmPlanTest {

    /** cuBLAS semantics: D[r,c] (col-major, ld) = Σ op(A)[r,q] · op(B)[q,c] for each batch. */
    static float[] columnMajorGemm(boolean opA, float[] a, long[] la, boolean opB, float[] b, long[] lb, long[] ld, int batch, long sa, long sb,
                                   long sd) {
        int rows = (int) ld[0], cols = (int) ld[1];
        int inner = (int) (opA ? la[0] : la[1]);
        assertEquals(opA ? la[1] : la[0], rows, "op(A) rows must equal D rows");
        assertEquals(opB ? lb[0] : lb[1], cols, "op(B) cols must equal D cols");
        assertEquals(opB ? lb[1] : lb[0], inner, "inner sizes must agree");
        float[] d = new float[(int) (sd * (batch - 1) + ld[2] * cols)];
        for (int p = 0; p < batch; p++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    double acc = 0;
                    for (int q = 0; q < inner; q++) {
                        // element (i, j) of a col-major matrix is at i + j * ld
                        float av = opA ? a[(int) (p * sa + q + r * la[2])] : a[(int) (p * sa + r + q * la[2])];
                        float bv = opB ? b[(int) (p * sb + c + q * lb[2])] : b[(int) (p * sb + q + c * lb[2])];
                        acc += (double) av * bv;
                    }
                    d[(int) (p * sd + r + c * ld[2])] = (float) acc;
                }
            }
        }
        return d;
    }

    /** The Backend contract in row-major terms: C[p] = op(A[p])·op(B[p]). */
    static float[] rowMajor(float[] a, boolean ta, float[] b, boolean tb, int m, int n, int k, int batch, long sa, long sb) {
        float[] c = new float[batch * m * n];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < k; q++) {
                        float av = ta ? a[(int) (p * sa + q * m + i)] : a[(int) (p * sa + i * k + q)];
                        float bv = tb ? b[(int) (p * sb + j * k + q)] : b[(int) (p * sb + q * n + j)];
                        acc += (double) av * bv;
                    }
                    c[(p * m + i) * n + j] = (float) acc;
                }
            }
        }
        return c;
    }

    @Test
    void thePlanGivesTheRowMajorProductForEveryTransposeAndBatch() {
        Random rnd = new Random(3);
        int[][] shapes = {{1, 1, 1, 1}, {3, 5, 7, 1}, {17, 3, 33, 2}, {2, 19, 5, 3}, {8, 8, 1, 4}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2], batch = s[3];
            for (int flags = 0; flags < 8; flags++) {
                boolean ta = (flags & 1) != 0, tb = (flags & 2) != 0, broadcastB = (flags & 4) != 0;
                long sa = (long) m * k, sb = broadcastB ? 0 : (long) k * n;
                float[] a = random(rnd, batch * m * k, 1f), b = random(rnd, (broadcastB ? 1 : batch) * k * n, 1f);
                Gemm g = new Gemm(ta, tb, m, n, k, batch, sa, sb, (long) m * n, Type.F32, Type.F32, Fused.NONE, 256);
                long[][] plan = g.plan();
                // cuBLASLt's A is our B (TRANSA = transB), its B our A (TRANSB = transA), as Cublas.plan sets them
                float[] d = columnMajorGemm(tb, b, plan[0], ta, a, plan[1], plan[2], batch, sb, sa, g.strideD());
                float[] expected = rowMajor(a, ta, b, tb, m, n, k, batch, sa, sb);
                assertClose("gemm m=" + m + " n=" + n + " k=" + k + " batch=" + batch + " ta=" + ta + " tb=" + tb + " bcastB=" + broadcastB,
                        expected, d, 1e-6);
            }
        }
    }

    @Test
    void theBiasOfTheFusedEpilogueRunsAlongTheRowMajorColumns() {
        // cuBLASLt adds bias[i] to row i of its column-major D, and D's rows are our output columns
        Gemm g = new Gemm(false, false, 4, 6, 3, 1, 0, 0, 24, Type.F32, Type.F32, Fused.BIAS, 256);
        assertEquals(6, g.plan()[2][0], "D's rows (the bias length) must be n, the row-major column count");
        assertEquals(6, g.plan()[2][2], "D's leading dimension is the row-major row length");
    }

    @Test
    void alignmentIsTheLargestPowerOfTwoDividingEveryPointerUpTo256() {
        assertEquals(256, Cublas.alignment(0x1000, 0x2000));
        assertEquals(16, Cublas.alignment(0x1000, 0x2010));
        assertEquals(2, Cublas.alignment(0x1002));
        assertEquals(256, Cublas.alignment(0x1000, 0L), "a null bias pointer does not lower the alignment");
    }
}

package io.lit4j.eval;

import io.lit4j.LitException;

import java.util.Arrays;

/** Row-major embedding matrices on the heap and the few operations evaluation needs. */
public final class Embeddings {
    private Embeddings() {
    }

    /** Rows of {@code v} ({@code [n, dim]}) scaled to unit length ({@code x / (|x| + 1e-8)}). */
    public static float[] normalizeRows(float[] v, int dim) {
        if (dim <= 0 || v.length % dim != 0) {
            throw new LitException(v.length + " values are not rows of " + dim);
        }
        float[] out = new float[v.length];
        for (int r = 0; r < v.length / dim; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) v[r * dim + i] * v[r * dim + i];
            }
            double k = 1 / (Math.sqrt(ss) + 1e-8);
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = (float) (v[r * dim + i] * k);
            }
        }
        return out;
    }

    /** {@code a [n, dim] · bᵀ [dim, m]} as [n, m]: cosine similarities when both are normalised. */
    public static float[] similarities(float[] a, float[] b, int dim) {
        int n = a.length / dim, m = b.length / dim;
        float[] s = new float[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double acc = 0;
                for (int k = 0; k < dim; k++) {
                    acc += (double) a[i * dim + k] * b[j * dim + k];
                }
                s[i * m + j] = (float) acc;
            }
        }
        return s;
    }

    /** Indices of the {@code k} largest of row {@code r} of {@code s [rows, cols]}, largest first (ties: lower index first). */
    public static int[] topK(float[] s, int cols, int r, int k) {
        int kk = Math.min(k, cols);
        int[] best = new int[kk];
        float[] val = new float[kk];
        int filled = 0;
        for (int j = 0; j < cols; j++) {
            float v = s[r * cols + j];
            if (filled < kk || v > val[filled - 1]) {
                int pos = filled < kk ? filled++ : kk - 1;
                while (pos > 0 && val[pos - 1] < v) {
                    best[pos] = best[pos - 1];
                    val[pos] = val[pos - 1];
                    pos--;
                }
                best[pos] = j;
                val[pos] = v;
            }
        }
        return best;
    }

    /** {@code v} ({@code [n, dim]}, row-major) as n arrays of dim. */
    public static float[][] rows(float[] v, int dim) {
        if (dim <= 0 || v.length % dim != 0) {
            throw new LitException(v.length + " values are not rows of " + dim);
        }
        float[][] out = new float[v.length / dim][];
        for (int r = 0; r < out.length; r++) {
            out[r] = Arrays.copyOfRange(v, r * dim, (r + 1) * dim);
        }
        return out;
    }

    /** The rows back as one row-major {@code [n, dim]} array; {@code what} names them in the error for a row of another length. */
    public static float[] flatten(float[][] rows, int dim, String what) {
        float[] out = new float[rows.length * dim];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != dim) {
                throw new LitException(what + ": row " + r + " has " + (rows[r] == null ? "no" : rows[r].length) + " values, expected "
                        + dim + " (this model's embedding size)");
            }
            System.arraycopy(rows[r], 0, out, r * dim, dim);
        }
        return out;
    }

    /** softmax(t · s) over row {@code r} of {@code s [rows, cols]}, with max subtraction. */
    public static double[] softmax(float[] s, int cols, int r, float temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) {
            max = Math.max(max, temperature * s[r * cols + j]);
        }
        double sum = 0;
        double[] p = new double[cols];
        for (int j = 0; j < cols; j++) {
            p[j] = Math.exp(temperature * s[r * cols + j] - max);
            sum += p[j];
        }
        for (int j = 0; j < cols; j++) {
            p[j] /= sum;
        }
        return p;
    }
}

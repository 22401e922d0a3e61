package io.lit4j.backend;

import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;
import java.util.function.Function;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;

/**
 * Every backward op of both backends against central finite differences of an independent
 * double-precision forward written here: for L = Σ g ⊙ f(x) with a random g, the backend's
 * dL/dx must match (L(x + h) − L(x − h)) / 2h.
 */
class GradientCheckTest {
    static final double RTOL = 2e-4;
    @AutoClose
    static final ScalarBackend scalar = new ScalarBackend();
    @AutoClose
    static final Backend fast = UnderTest.open();
    static final Backend[] backends = {scalar, fast};

    @BeforeAll
    static void theBackendUnderTestCanRun() {
        UnderTest.assumeAvailable();
    }

    /** A forward pass in double of one input, the others held fixed. */
    interface Fwd extends Function<double[], double[]> {
    }

    static double[] d(float[] f) {
        double[] r = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = f[i];
        }
        return r;
    }

    /** Central differences of Σ g ⊙ f(x) with respect to x, as floats. */
    static float[] numeric(Fwd f, float[] x, float[] g) {
        double[] xs = d(x);
        float[] out = new float[x.length];
        double h = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double keep = xs[i];
            xs[i] = keep + h;
            double lp = dotWith(f.apply(xs), g);
            xs[i] = keep - h;
            double lm = dotWith(f.apply(xs), g);
            xs[i] = keep;
            out[i] = (float) ((lp - lm) / (2 * h));
        }
        return out;
    }

    static double dotWith(double[] y, float[] g) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * g[i];
        }
        return s;
    }

    static Tensor put(Backend be, TensorArena a, float[] v, int... shape) {
        Tensor t = a.allocate(DType.F32, shape);
        be.upload(v, t);
        return t;
    }

    // ------------------------------------------------------------------ reference forwards in double

    static double[] linear(double[] x, double[] w, double[] b, int n, int k, int m) {
        double[] y = new double[n * m];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < m; c++) {
                double acc = b[c];
                for (int i = 0; i < k; i++) {
                    acc += x[r * k + i] * w[i * m + c];
                }
                y[r * m + c] = acc;
            }
        }
        return y;
    }

    static double[] layerNorm(double[] x, double[] g, double[] b, int rows, int d, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int i = 0; i < d; i++) {
                mu += x[r * d + i];
            }
            mu /= d;
            for (int i = 0; i < d; i++) {
                var += (x[r * d + i] - mu) * (x[r * d + i] - mu);
            }
            var /= d;
            for (int i = 0; i < d; i++) {
                y[r * d + i] = (x[r * d + i] - mu) / Math.sqrt(var + eps) * g[i] + b[i];
            }
        }
        return y;
    }

    static double[] softmaxRows(double[] x, int rows, int c) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < c; i++) {
                max = Math.max(max, x[r * c + i]);
            }
            if (max == Double.NEGATIVE_INFINITY) {
                continue;
            }
            for (int i = 0; i < c; i++) {
                y[r * c + i] = Math.exp(x[r * c + i] - max);
                sum += y[r * c + i];
            }
            for (int i = 0; i < c; i++) {
                y[r * c + i] /= sum;
            }
        }
        return y;
    }

    static double[] attention(double[] qkv, float[] keep, int b, int t, int d, int h) {
        return attention(qkv, keep, false, b, t, d, h);
    }

    /** With {@code causal}, query i attends to keys j ≤ i only. */
    static double[] attention(double[] qkv, float[] keep, boolean causal, int b, int t, int d, int h) {
        int dh = d / h;
        double[] out = new double[b * t * d];
        for (int n = 0; n < b; n++) {
            for (int hd = 0; hd < h; hd++) {
                double[] s = new double[t * t];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        double acc = 0;
                        for (int c = 0; c < dh; c++) {
                            acc += qkv[(n * t + i) * 3 * d + hd * dh + c] * qkv[(n * t + j) * 3 * d + d + hd * dh + c];
                        }
                        s[i * t + j] = (keep != null && keep[n * t + j] == 0f) || (causal && j > i) ? Double.NEGATIVE_INFINITY
                                : acc / Math.sqrt(dh);
                    }
                }
                double[] p = softmaxRows(s, t, t);
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < dh; c++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) {
                            acc += p[i * t + j] * qkv[(n * t + j) * 3 * d + 2 * d + hd * dh + c];
                        }
                        out[(n * t + i) * d + hd * dh + c] = acc;
                    }
                }
            }
        }
        return out;
    }

    static double gelu(double v, Gelu kind) {
        if (kind == Gelu.TANH) {
            return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        }
        if (kind == Gelu.QUICK) { // transformers' QuickGELUActivation: x * sigmoid(1.702 * x)
            return v / (1 + Math.exp(-1.702 * v));
        }
        // erf via its Taylor series (|x| small here)
        double x = v / Math.sqrt(2), term = x, sum = x;
        for (int n = 1; n < 60; n++) {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 0.5 * v * (1 + 2 / Math.sqrt(Math.PI) * sum);
    }

    // ------------------------------------------------------------------ the checks

    @Test
    void linear() {
        int n = 3, k = 5, m = 4;
        Random r = new Random(1);
        float[] x = random(r, n * k, 1), w = random(r, k * m, 1), bias = random(r, m, 1), g = random(r, n * m, 1);
        float[] nx = numeric(v -> linear(v, d(w), d(bias), n, k, m), x, g);
        float[] nw = numeric(v -> linear(d(x), v, d(bias), n, k, m), w, g);
        float[] nb = numeric(v -> linear(d(x), d(w), v, n, k, m), bias, g);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                Tensor dx = a.allocate(DType.F32, n, k), dw = a.allocate(DType.F32, k, m), db = a.allocate(DType.F32, m);
                be.linearBackward(put(be, a, x, n, k), put(be, a, w, k, m), put(be, a, g, n, m), dx, dw, db);
                assertClose(be.name() + " linear dx", nx, be.download(dx), RTOL);
                assertClose(be.name() + " linear dw", nw, be.download(dw), RTOL);
                assertClose(be.name() + " linear db", nb, be.download(db), RTOL);
            }
        }
    }

    @Test
    void layerNorm() {
        int rows = 3, dd = 7;
        float eps = 1e-5f;
        Random r = new Random(2);
        float[] x = random(r, rows * dd, 2), sc = random(r, dd, 1), sh = random(r, dd, 1), g = random(r, rows * dd, 1);
        float[] nx = numeric(v -> layerNorm(v, d(sc), d(sh), rows, dd, eps), x, g);
        float[] ns = numeric(v -> layerNorm(d(x), v, d(sh), rows, dd, eps), sc, g);
        float[] nb = numeric(v -> layerNorm(d(x), d(sc), v, rows, dd, eps), sh, g);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                Tensor xt = put(be, a, x, rows, dd), st = put(be, a, sc, dd), bt = put(be, a, sh, dd);
                Tensor y = a.allocate(DType.F32, rows, dd), mean = a.allocate(DType.F32, rows), var = a.allocate(DType.F32, rows);
                be.layerNorm(xt, st, bt, eps, y, mean, var);
                Tensor dx = a.allocate(DType.F32, rows, dd), ds = a.allocate(DType.F32, dd), db = a.allocate(DType.F32, dd);
                be.layerNormBackward(xt, st, mean, var, eps, put(be, a, g, rows, dd), dx, ds, db);
                assertClose(be.name() + " layerNorm dx", nx, be.download(dx), RTOL);
                assertClose(be.name() + " layerNorm dscale", ns, be.download(ds), RTOL);
                assertClose(be.name() + " layerNorm dbias", nb, be.download(db), RTOL);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Gelu.class)
    void gelu(Gelu kind) {
        Random r = new Random(3);
        float[] x = random(r, 37, 3), g = random(r, 37, 1);
        float[] nx = numeric(v -> {
            double[] y = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                y[i] = gelu(v[i], kind);
            }
            return y;
        }, x, g);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                Tensor dx = a.allocate(DType.F32, 37);
                be.geluBackward(put(be, a, x, 37), put(be, a, g, 37), dx, kind);
                assertClose(be.name() + " gelu " + kind, nx, be.download(dx), RTOL);
            }
        }
    }

    @Test
    void softmax() {
        int rows = 3, c = 9;
        Random r = new Random(4);
        float[] x = random(r, rows * c, 3), g = random(r, rows * c, 1);
        float[] nx = numeric(v -> softmaxRows(v, rows, c), x, g);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                Tensor xt = put(be, a, x, rows, c), y = a.allocate(DType.F32, rows, c), dx = a.allocate(DType.F32, rows, c);
                be.softmax(xt, y);
                be.softmaxBackward(y, put(be, a, g, rows, c), dx);
                assertClose(be.name() + " softmax", nx, be.download(dx), RTOL);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5})
    void attention(int t) {
        int b = 2, dd = 6, h = 2;
        Random r = new Random(5 + t);
        float[] qkv = random(r, b * t * 3 * dd, 1.5f), g = random(r, b * t * dd, 1);
        float[] keep = new float[b * t];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = i % t == 0 || r.nextBoolean() ? 1f : 0f;
        }
        for (int variant = 0; variant < 4; variant++) { // padding mask: off/on, causal: off/on
            boolean masked = (variant & 1) != 0, causal = (variant & 2) != 0;
            float[] mask = masked ? keep : null;
            float[] nq = numeric(v -> attention(v, mask, causal, b, t, dd, h), qkv, g);
            for (Backend be : backends) {
                try (TensorArena a = be.newArena()) {
                    Tensor q = put(be, a, qkv, b, t, 3 * dd), p = a.allocate(DType.F32, b, h, t, t), o = a.allocate(DType.F32, b, t, dd);
                    be.attention(q, masked ? put(be, a, keep, b, t) : null, causal, h, p, o);
                    Tensor dq = a.allocate(DType.F32, b, t, 3 * dd), scratch = a.allocate(DType.F32, b, h, t, t);
                    be.attentionBackward(q, p, h, put(be, a, g, b, t, dd), dq, scratch);
                    assertClose(be.name() + " attention T=" + t + " masked=" + masked + " causal=" + causal, nq, be.download(dq), RTOL);
                }
            }
        }
    }

    @Test
    void embeddingSumPrependPoolAndL2() {
        Random r = new Random(6);
        int b = 2, t = 3, dd = 5, v = 7;
        int[] ids = {3, 1, 3, 6, 0, 3};
        float[] table = random(r, v * dd, 1), g = random(r, b * t * dd, 1);
        float[] nTable = numeric(tab -> {
            double[] y = new double[b * t * dd];
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(tab, ids[i] * dd, y, i * dd, dd);
            }
            return y;
        }, table, g);
        float[] bias = random(r, t * dd, 1), x = random(r, b * t * dd, 1);
        float[] nBias = numeric(bb -> {
            double[] y = d(x);
            for (int i = 0; i < y.length; i++) {
                y[i] += bb[i % bb.length];
            }
            return y;
        }, bias, g);
        float[] token = random(r, dd, 1), g1 = random(r, b * (t + 1) * dd, 1);
        Fwd prep = xs -> {
            double[] y = new double[b * (t + 1) * dd];
            for (int n = 0; n < b; n++) {
                for (int j = 0; j < dd; j++) {
                    y[n * (t + 1) * dd + j] = token[j];
                }
                System.arraycopy(xs, n * t * dd, y, (n * (t + 1) + 1) * dd, t * dd);
            }
            return y;
        };
        float[] nPrepX = numeric(prep, x, g1);
        float[] nPrepTok = numeric(tok -> {
            double[] y = new double[b * (t + 1) * dd];
            for (int n = 0; n < b; n++) {
                System.arraycopy(tok, 0, y, n * (t + 1) * dd, dd);
            }
            return y;
        }, token, g1);
        float[] gp = random(r, b * dd, 1);
        float[] nMean = numeric(xs -> {
            double[] y = new double[b * dd];
            for (int n = 0; n < b; n++) {
                for (int j = 0; j < dd; j++) {
                    for (int i = 1; i < t; i++) {
                        y[n * dd + j] += xs[(n * t + i) * dd + j] / (t - 1);
                    }
                }
            }
            return y;
        }, x, gp);
        float[] nL2 = numeric(xs -> {
            double[] y = new double[xs.length];
            for (int row = 0; row < b * t; row++) {
                double ss = 0;
                for (int j = 0; j < dd; j++) {
                    ss += xs[row * dd + j] * xs[row * dd + j];
                }
                for (int j = 0; j < dd; j++) {
                    y[row * dd + j] = xs[row * dd + j] / (Math.sqrt(ss) + 1e-8);
                }
            }
            return y;
        }, x, g);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                Tensor idt = a.allocate(DType.I32, b, t);
                be.upload(ids, idt);
                Tensor dTable = a.allocate(DType.F32, v, dd);
                be.embeddingBackward(idt, put(be, a, g, b, t, dd), dTable);
                assertClose(be.name() + " embedding", nTable, be.download(dTable), RTOL);

                Tensor dBias = a.allocate(DType.F32, t, dd);
                be.sumToShape(put(be, a, g, b, t, dd), dBias);
                assertClose(be.name() + " sumToShape", nBias, be.download(dBias), RTOL);

                Tensor dTok = a.allocate(DType.F32, dd), dX = a.allocate(DType.F32, b, t, dd);
                be.prependTokenBackward(put(be, a, g1, b, t + 1, dd), dTok, dX);
                assertClose(be.name() + " prepend dx", nPrepX, be.download(dX), RTOL);
                assertClose(be.name() + " prepend dtoken", nPrepTok, be.download(dTok), RTOL);

                Tensor dPool = a.allocate(DType.F32, b, t, dd);
                be.poolBackward(put(be, a, gp, b, dd), Pool.MEAN, 1, dPool);
                assertClose(be.name() + " mean pool", nMean, be.download(dPool), RTOL);

                Tensor xt = put(be, a, x, b * t, dd), y = a.allocate(DType.F32, b * t, dd), norms = a.allocate(DType.F32, b * t);
                be.l2Normalize(xt, y, norms);
                Tensor dl2 = a.allocate(DType.F32, b * t, dd);
                be.l2NormalizeBackward(xt, norms, put(be, a, g, b * t, dd), dl2);
                assertClose(be.name() + " l2Normalize", nL2, be.download(dl2), RTOL);
            }
        }
    }
}

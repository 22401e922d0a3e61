package io.lit4j.backend.scalar;

import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;

import java.util.List;

/**
 * The oracle: every op as the plainest loop that is obviously right, accumulating in double.
 * Single-threaded and slow on purpose; every fast backend is tested against it.
 */
public final class ScalarBackend extends HostBackend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public List<String> describe() {
        return List.of("scalar backend: plain Java loops, double accumulation, 1 thread (the reference)");
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y, Epilogue epilogue) {
        int[] d = linearDims(x, w, bias, y);
        int n = d[0], k = d[1], m = d[2];
        float[] xs = floats(x), ws = floats(w), bs = bias == null ? null : floats(bias);
        float[] ys = epilogue == Epilogue.ACCUMULATE ? floats(y) : new float[n * m];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < m; c++) {
                double acc = bs == null ? 0 : bs[c];
                for (int i = 0; i < k; i++) {
                    acc += (double) xs[r * k + i] * ws[i * m + c];
                }
                ys[r * m + c] = switch (epilogue) {
                    case NONE -> (float) acc;
                    case GELU_TANH -> (float) gelu(acc, Gelu.TANH);
                    case GELU_ERF -> (float) gelu(acc, Gelu.ERF);
                    case ACCUMULATE -> (float) (ys[r * m + c] + acc);
                };
            }
        }
        store(y, ys);
    }

    @Override
    public void matmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, float alpha) {
        int[] d = matmulDims(a, ta, b, tb, c);
        int batch = d[0], m = d[1], k = d[2], n = d[3];
        float[] as = floats(a), bs = floats(b), cs = new float[batch * m * n];
        for (int p = 0; p < batch; p++) {
            int ao = d[4] == 1 ? 0 : p * m * k;
            int bo = d[5] == 1 ? 0 : p * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < k; q++) {
                        float av = ta ? as[ao + q * m + i] : as[ao + i * k + q];
                        float bv = tb ? bs[bo + j * k + q] : bs[bo + q * n + j];
                        acc += (double) av * bv;
                    }
                    cs[(p * m + i) * n + j] = (float) (alpha * acc);
                }
            }
        }
        store(c, cs);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        requireBroadcast(a, b, out);
        float[] as = floats(a), bs = floats(b);
        float[] os = new float[as.length];
        for (int i = 0; i < as.length; i++) {
            os[i] = as[i] + bs[i % bs.length];
        }
        store(out, os);
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor rstd) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.require("layerNorm", "scale", scale, d);
        Shapes.require("layerNorm", "bias", bias, d);
        Shapes.requireSame("layerNorm", "x", x, "y", y);
        float[] xs = floats(x), g = floats(scale), bb = floats(bias), ys = new float[xs.length];
        float[] ms = new float[rows], rs = new float[rows];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int i = 0; i < d; i++) {
                mu += xs[r * d + i];
            }
            mu /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                double dv = xs[r * d + i] - mu;
                var += dv * dv;
            }
            var /= d;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < d; i++) {
                ys[r * d + i] = (float) ((xs[r * d + i] - mu) * inv * g[i] + bb[i]);
            }
            ms[r] = (float) mu;
            rs[r] = (float) inv;
        }
        store(y, ys);
        if (mean != null) {
            Shapes.require("layerNorm", "mean", mean, rows);
            store(mean, ms);
        }
        if (rstd != null) {
            Shapes.require("layerNorm", "rstd", rstd, rows);
            store(rstd, rs);
        }
    }

    @Override
    public void gelu(Tensor x, Tensor y, Gelu kind) {
        Shapes.requireSame("gelu", "x", x, "y", y);
        float[] xs = floats(x);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) gelu(xs[i], kind);
        }
        store(y, xs);
    }

    static double gelu(double v, Gelu kind) {
        if (kind == Gelu.TANH) {
            return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        }
        return 0.5 * v * (1 + Erf.erf(v / Math.sqrt(2)));
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        Shapes.requireSame("softmax", "x", x, "y", y);
        int c = x.dim(-1), rows = x.rows();
        float[] xs = floats(x);
        for (int r = 0; r < rows; r++) {
            softmaxRow(xs, r * c, c);
        }
        store(y, xs);
    }

    /** In-place softmax of v[off, off+n); rows that are all -inf become all zeros. */
    private static void softmaxRow(float[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[off + i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(v, off, off + n, 0f);
            return;
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(v[off + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) {
            v[off + i] = (float) (e[i] / sum);
        }
    }

    @Override
    public void attention(Tensor qkv, Tensor keyMask, int heads, Tensor probs, Tensor out) {
        int[] d = attentionDims(qkv, keyMask, heads, probs, out);
        int b = d[0], t = d[1], w = d[2], h = d[3], dh = d[4];
        float[] in = floats(qkv), mask = keyMask == null ? null : floats(keyMask);
        float[] p = new float[b * h * t * t], o = new float[b * t * w];
        double scale = 1.0 / Math.sqrt(dh);
        for (int n = 0; n < b; n++) {
            for (int hd = 0; hd < h; hd++) {
                for (int i = 0; i < t; i++) {
                    int row = ((n * h + hd) * t + i) * t;
                    for (int j = 0; j < t; j++) {
                        if (mask != null && mask[n * t + j] == 0f) {
                            p[row + j] = Float.NEGATIVE_INFINITY;
                            continue;
                        }
                        double acc = 0;
                        for (int q = 0; q < dh; q++) {
                            acc += (double) in[(n * t + i) * 3 * w + hd * dh + q] * in[(n * t + j) * 3 * w + w + hd * dh + q];
                        }
                        p[row + j] = (float) (acc * scale);
                    }
                    softmaxRow(p, row, t);
                    for (int q = 0; q < dh; q++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) {
                            acc += (double) p[row + j] * in[(n * t + j) * 3 * w + 2 * w + hd * dh + q];
                        }
                        o[(n * t + i) * w + hd * dh + q] = (float) acc;
                    }
                }
            }
        }
        store(probs, p);
        store(out, o);
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y, Tensor norms) {
        Shapes.requireSame("l2Normalize", "x", x, "y", y);
        int c = x.dim(-1), rows = x.rows();
        float[] xs = floats(x), ns = new float[rows];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < c; i++) {
                ss += (double) xs[r * c + i] * xs[r * c + i];
            }
            double norm = Math.sqrt(ss);
            for (int i = 0; i < c; i++) {
                xs[r * c + i] = (float) (xs[r * c + i] / (norm + 1e-8));
            }
            ns[r] = (float) norm;
        }
        store(y, xs);
        if (norms != null) {
            Shapes.require("l2Normalize", "norms", norms, rows);
            store(norms, ns);
        }
    }

    @Override
    public void close() {
        // nothing native to free
    }
}

package io.lit4j.backend.scalar;

import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.HostBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.Arrays;
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
        boolean bf16 = bf16Product(x, w);
        float[] xs = operand(x, bf16), ws = operand(w, bf16), bs = bias == null ? null : floats(bias);
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
                    case GELU_QUICK -> (float) gelu(acc, Gelu.QUICK);
                    case ACCUMULATE -> (float) (ys[r * m + c] + acc);
                };
            }
        }
        store(y, ys);
    }

    /**
     * A product with a bf16 operand is a bf16 product (what the fast backends compute): every operand
     * rounded to bf16, then multiplied and summed in double.
     */
    private static boolean bf16Product(Tensor x, Tensor w) {
        return x.dtype() == DType.BF16 || w.dtype() == DType.BF16;
    }

    private static float[] operand(Tensor t, boolean bf16) {
        float[] v = floats(t);
        if (bf16 && t.dtype() != DType.BF16) {
            for (int i = 0; i < v.length; i++) {
                v[i] = Floats.bf16ToF32(Floats.f32ToBf16(v[i]));
            }
        }
        return v;
    }

    /** The oracle has no special layouts: a plain copy, rounded to bf16 when asked. */
    @Override
    public Tensor packWeights(Tensor w, DType precision, TensorArena arena) {
        Tensor p = arena.allocate(precision, w.shape());
        copy(w, p);
        return p;
    }

    @Override
    public void repackWeights(Tensor w, Tensor packed) {
        copy(w, packed);
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
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor y, Tensor mean, Tensor variance) {
        int d = x.dim(-1), rows = x.rows();
        Shapes.require("layerNorm", "scale", scale, d);
        Shapes.require("layerNorm", "bias", bias, d);
        Shapes.requireSameShape("layerNorm", "x", x, "y", y);
        float[] xs = floats(x), g = floats(scale), bb = floats(bias), ys = new float[xs.length];
        float[] ms = new float[rows], vs = new float[rows];
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
            vs[r] = (float) var;
        }
        store(y, ys);
        if (mean != null) {
            Shapes.require("layerNorm", "mean", mean, rows);
            store(mean, ms);
        }
        if (variance != null) {
            Shapes.require("layerNorm", "variance", variance, rows);
            store(variance, vs);
        }
    }

    @Override
    public void gelu(Tensor x, Tensor y, Gelu kind) {
        Shapes.requireSameShape("gelu", "x", x, "y", y);
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
        if (kind == Gelu.QUICK) {
            return v / (1 + Math.exp(-Gelu.QUICK_ALPHA * v));
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
            Arrays.fill(v, off, off + n, 0f);
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
    public void attention(Tensor qkv, Tensor keyMask, boolean causal, int heads, Tensor probs, Tensor out) {
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
                        if ((mask != null && mask[n * t + j] == 0f) || (causal && j > i)) {
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

    // ---------------------------------------------------------------- backward

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = linearDims(x, w, null, dy);
        int n = d[0], k = d[1], m = d[2];
        boolean bf16 = bf16Product(x, w);
        float[] xs = operand(x, bf16), ws = operand(w, bf16), g = operand(dy, bf16);
        if (dx != null) {
            Shapes.requireSameShape("linearBackward", "x", x, "dx", dx);
            Shapes.requireType("linearBackward", "dx", dx, DType.F32);
            float[] out = new float[n * k];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < k; i++) {
                    double acc = 0;
                    for (int c = 0; c < m; c++) {
                        acc += (double) g[r * m + c] * ws[i * m + c];
                    }
                    out[r * k + i] = (float) acc;
                }
            }
            store(dx, out);
        }
        if (dw != null) {
            Shapes.requireSameShape("linearBackward", "w", w, "dw", dw);
            float[] out = new float[k * m];
            for (int i = 0; i < k; i++) {
                for (int c = 0; c < m; c++) {
                    double acc = 0;
                    for (int r = 0; r < n; r++) {
                        acc += (double) xs[r * k + i] * g[r * m + c];
                    }
                    out[i * m + c] = (float) acc;
                }
            }
            store(dw, out);
        }
        if (db != null) {
            Shapes.require("linearBackward", "db", db, m);
            sumToShape(dy, db);
        }
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor scale, Tensor mean, Tensor variance, float eps, Tensor dy, Tensor dx,
                                  Tensor dscale, Tensor dbias) {
        int[] dims = layerNormBackwardDims(x, mean, variance, dy);
        int rows = dims[0], d = dims[1];
        float[] xs = floats(x), g = floats(scale), ms = floats(mean), vs = floats(variance), gy = floats(dy);
        float[] gx = new float[xs.length];
        double[] gs = new double[d], gb = new double[d];
        for (int r = 0; r < rows; r++) {
            double rstd = 1.0 / Math.sqrt(vs[r] + (double) eps);
            double meanD = 0, meanDX = 0;
            for (int i = 0; i < d; i++) {
                double xhat = (xs[r * d + i] - ms[r]) * rstd;
                double dn = (double) gy[r * d + i] * g[i];
                meanD += dn;
                meanDX += dn * xhat;
                gs[i] += gy[r * d + i] * xhat;
                gb[i] += gy[r * d + i];
            }
            meanD /= d;
            meanDX /= d;
            for (int i = 0; i < d; i++) {
                double xhat = (xs[r * d + i] - ms[r]) * rstd;
                double dn = (double) gy[r * d + i] * g[i];
                gx[r * d + i] = (float) (rstd * (dn - meanD - xhat * meanDX));
            }
        }
        if (dx != null) {
            Shapes.requireSame("layerNormBackward", "x", x, "dx", dx);
            store(dx, gx);
        }
        if (dscale != null) {
            store(dscale, toFloats(gs));
        }
        if (dbias != null) {
            store(dbias, toFloats(gb));
        }
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, Gelu kind) {
        Shapes.requireSame("geluBackward", "x", x, "dy", dy);
        Shapes.requireSame("geluBackward", "x", x, "dx", dx);
        float[] xs = floats(x), g = floats(dy);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (geluDerivative(xs[i], kind) * g[i]);
        }
        store(dx, xs);
    }

    static double geluDerivative(double v, Gelu kind) {
        if (kind == Gelu.TANH) {
            double c = Math.sqrt(2 / Math.PI);
            double th = Math.tanh(c * (v + 0.044715 * v * v * v));
            return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * 0.044715 * v * v);
        }
        if (kind == Gelu.QUICK) { // d/dv v·σ(av) = σ(av) + a·v·σ(av)(1 − σ(av))
            double sg = 1 / (1 + Math.exp(-Gelu.QUICK_ALPHA * v));
            return sg + Gelu.QUICK_ALPHA * v * sg * (1 - sg);
        }
        return 0.5 * (1 + Erf.erf(v / Math.sqrt(2))) + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Shapes.requireSame("softmaxBackward", "y", y, "dy", dy);
        Shapes.requireSame("softmaxBackward", "y", y, "dx", dx);
        int c = y.dim(-1), rows = y.rows();
        float[] ys = floats(y), g = floats(dy), out = new float[ys.length];
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += (double) ys[r * c + i] * g[r * c + i];
            }
            for (int i = 0; i < c; i++) {
                out[r * c + i] = (float) (ys[r * c + i] * (g[r * c + i] - dot));
            }
        }
        store(dx, out);
    }

    @Override
    public void attentionBackward(Tensor qkv, Tensor probs, int heads, Tensor dout, Tensor dqkv, Tensor scratch) {
        int[] d = attentionDims(qkv, null, heads, probs, dout);
        int b = d[0], t = d[1], w = d[2], h = d[3], dh = d[4];
        Shapes.requireSame("attentionBackward", "qkv", qkv, "dqkv", dqkv);
        Shapes.requireSame("attentionBackward", "probs", probs, "scratch", scratch);
        float[] in = floats(qkv), p = floats(probs), go = floats(dout), ds = new float[p.length];
        double[] gi = new double[in.length];
        double scale = 1.0 / Math.sqrt(dh);
        for (int n = 0; n < b; n++) {
            for (int hd = 0; hd < h; hd++) {
                for (int i = 0; i < t; i++) {
                    int row = ((n * h + hd) * t + i) * t;
                    double[] dp = new double[t];
                    double dot = 0;
                    for (int j = 0; j < t; j++) {
                        double acc = 0;
                        for (int c = 0; c < dh; c++) {
                            acc += (double) go[(n * t + i) * w + hd * dh + c] * in[(n * t + j) * 3 * w + 2 * w + hd * dh + c];
                        }
                        dp[j] = acc;
                        dot += acc * p[row + j];
                    }
                    for (int j = 0; j < t; j++) {
                        double dsc = p[row + j] * (dp[j] - dot) * scale; // d(score) where score = q·k / sqrt(dh)
                        ds[row + j] = (float) dsc;
                        for (int c = 0; c < dh; c++) {
                            int qi = (n * t + i) * 3 * w + hd * dh + c;
                            int kj = (n * t + j) * 3 * w + w + hd * dh + c;
                            int vj = (n * t + j) * 3 * w + 2 * w + hd * dh + c;
                            gi[qi] += dsc * in[kj];
                            gi[kj] += dsc * in[qi];
                            gi[vj] += (double) p[row + j] * go[(n * t + i) * w + hd * dh + c];
                        }
                    }
                }
            }
        }
        store(scratch, ds);
        store(dqkv, toFloats(gi));
    }

    @Override
    public void sumToShape(Tensor dy, Tensor db) {
        requireBroadcast(dy, db, dy);
        float[] g = floats(dy);
        double[] acc = new double[Math.toIntExact(db.numel())];
        for (int i = 0; i < g.length; i++) {
            acc[i % acc.length] += g[i];
        }
        store(db, toFloats(acc));
    }

    @Override
    public void l2NormalizeBackward(Tensor x, Tensor norms, Tensor dy, Tensor dx) {
        int[] dims = l2NormalizeBackwardDims(x, norms, dy, dx);
        int rows = dims[0], c = dims[1];
        float[] xs = floats(x), ns = floats(norms), g = floats(dy), out = new float[xs.length];
        for (int r = 0; r < rows; r++) {
            double n = ns[r], ne = n + 1e-8;
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += (double) xs[r * c + i] * g[r * c + i];
            }
            // y = x / (n + e): dx = dy / (n + e) - x (x·dy) / (n (n + e)^2)
            double k = n > 0 ? dot / (n * ne * ne) : 0;
            for (int i = 0; i < c; i++) {
                out[r * c + i] = (float) (g[r * c + i] / ne - xs[r * c + i] * k);
            }
        }
        store(dx, out);
    }

    // ---------------------------------------------------------------- optimizer support

    @Override
    public void scale(Tensor t, float k) {
        float[] v = floats(t);
        for (int i = 0; i < v.length; i++) {
            v[i] *= k;
        }
        store(t, v);
    }

    @Override
    public double sumOfSquares(Tensor t) {
        double acc = 0;
        for (float f : floats(t)) {
            acc += (double) f * f;
        }
        return acc;
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        Shapes.requireSame("adamw", "param", param, "grad", grad);
        Shapes.requireSame("adamw", "param", param, "m", m);
        Shapes.requireSame("adamw", "param", param, "v", v);
        float[] p = floats(param), g = floats(grad), ms = floats(m), vs = floats(v);
        double c1 = s.correction1(), c2 = s.correction2();
        for (int i = 0; i < p.length; i++) {
            double pi = p[i] * (1.0 - (double) s.lr() * s.weightDecay());
            ms[i] = (float) (s.beta1() * (double) ms[i] + (1 - (double) s.beta1()) * g[i]);
            vs[i] = (float) (s.beta2() * (double) vs[i] + (1 - (double) s.beta2()) * (double) g[i] * g[i]);
            double mhat = ms[i] / c1, vhat = vs[i] / c2;
            p[i] = (float) (pi - s.lr() * mhat / (Math.sqrt(vhat) + s.eps()));
        }
        store(param, p);
        store(m, ms);
        store(v, vs);
    }

    @Override
    public void close() {
        // nothing native to free
    }
}

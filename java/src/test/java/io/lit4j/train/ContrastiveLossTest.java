package io.lit4j.train;

import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Both losses, blocked or not, against a double-precision reference and its finite differences. */
class ContrastiveLossTest {
    @AutoClose
    static final ScalarBackend scalar = new ScalarBackend();
    @AutoClose
    static final OneDnnBackend onednn = new OneDnnBackend(2);
    static final Backend[] backends = {scalar, onednn};

    static double reference(TwoTowerConfig.Loss kind, double[] zi, double[] zt, int n, int e, double t, double b) {
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < e; k++) {
                    dot += zi[i * e + k] * zt[j * e + k];
                }
                l[i][j] = Math.exp(t) * dot + (kind == TwoTowerConfig.Loss.SIGMOID ? b : 0);
            }
        }
        double loss = 0;
        if (kind == TwoTowerConfig.Loss.SIGMOID) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double z = i == j ? 1 : -1;
                    loss += Math.log1p(Math.exp(-z * l[i][j]));
                }
            }
            return loss / n;
        }
        for (int i = 0; i < n; i++) {
            double rs = 0, cs = 0;
            for (int j = 0; j < n; j++) {
                rs += Math.exp(l[i][j]);
                cs += Math.exp(l[j][i]);
            }
            loss += 0.5 * (Math.log(rs) - l[i][i]) + 0.5 * (Math.log(cs) - l[i][i]);
        }
        return loss / n;
    }

    static float[] unitRows(Random r, int n, int e) {
        float[] v = new float[n * e];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int k = 0; k < e; k++) {
                v[i * e + k] = (float) r.nextGaussian();
                ss += v[i * e + k] * v[i * e + k];
            }
            for (int k = 0; k < e; k++) {
                v[i * e + k] /= (float) Math.sqrt(ss);
            }
        }
        return v;
    }

    static double[] d(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    @ParameterizedTest(name = "{0} n={1} e={2} block rows={3}")
    @CsvSource({"SOFTMAX,1,4,8", "SOFTMAX,7,5,64", "SOFTMAX,33,17,5", "SOFTMAX,33,17,33", "SIGMOID,7,5,64", "SIGMOID,33,17,4"})
    void matchesTheReferenceAndItsFiniteDifferences(TwoTowerConfig.Loss kind, int n, int e, int blockRows) {
        Random r = new Random(n * 31 + e);
        float[] zi = unitRows(r, n, e), zt = unitRows(r, n, e);
        double t = Math.log(10), b = -2.5;
        double expected = reference(kind, d(zi), d(zt), n, e, t, b);
        double h = 1e-6;
        float[] gi = new float[zi.length], gt = new float[zt.length];
        for (int which = 0; which < 2; which++) {
            float[] src = which == 0 ? zi : zt;
            float[] dst = which == 0 ? gi : gt;
            double[] a = d(zi), c = d(zt);
            double[] x = which == 0 ? a : c;
            for (int k = 0; k < src.length; k++) {
                double keep = x[k];
                x[k] = keep + h;
                double lp = reference(kind, a, c, n, e, t, b);
                x[k] = keep - h;
                double lm = reference(kind, a, c, n, e, t, b);
                x[k] = keep;
                dst[k] = (float) ((lp - lm) / (2 * h));
            }
        }
        double dT = (reference(kind, d(zi), d(zt), n, e, t + h, b) - reference(kind, d(zi), d(zt), n, e, t - h, b)) / (2 * h);
        double dB = (reference(kind, d(zi), d(zt), n, e, t, b + h) - reference(kind, d(zi), d(zt), n, e, t, b - h)) / (2 * h);
        for (Backend be : backends) {
            try (TensorArena a = be.newArena()) {
                ContrastiveLoss loss = new ContrastiveLoss(kind, a, n, e, blockRows);
                Tensor ti = a.allocate(DType.F32, n, e), tt = a.allocate(DType.F32, n, e);
                be.upload(zi, ti);
                be.upload(zt, tt);
                Tensor di = a.allocate(DType.F32, n, e), dt = a.allocate(DType.F32, n, e);
                ContrastiveLoss.Result res = loss.compute(be, ti, tt, (float) t, (float) b, di, dt);
                String what = be.name() + " " + kind + " n=" + n;
                assertEquals(expected, res.loss(), 2e-5 * Math.max(1, Math.abs(expected)), what + " loss");
                assertClose(what + " dzimg", gi, be.download(di), 2e-4);
                assertClose(what + " dztxt", gt, be.download(dt), 2e-4);
                assertEquals(dT, res.dLogT(), 2e-4 * Math.max(1, Math.abs(dT)), what + " dlogT");
                if (kind == TwoTowerConfig.Loss.SIGMOID) {
                    assertEquals(dB, res.dBias(), 2e-4 * Math.max(1, Math.abs(dB)), what + " dbias");
                }
                // a second call reuses the buffers and gives the same answer
                assertEquals(res.loss(), loss.compute(be, ti, tt, (float) t, (float) b, di, dt).loss(), 0.0, what + " repeat");
            }
        }
    }
}

package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MAP-pooled image pass's backward against central finite differences of its own forward
 * (GradientCheckTest's method, on the tower): for L = Σ g ⊙ pooled with a random g, every MAP head
 * parameter and the block and embedding parameters below it, on odd sizes and random weights, on
 * the scalar oracle; the oneDNN backend's gradients are then held to the oracle's.
 */
class MapHeadGradientTest {
    @AutoClose
    static final ScalarBackend scalar = new ScalarBackend();
    @AutoClose
    static final OneDnnBackend onednn = new OneDnnBackend(2);

    // 3x3 grid of 3-pixel patches, width 12 in 3 heads, MLP 10: nothing a power of two
    static ViTConfig config(Gelu gelu) {
        return new ViTConfig(9, 3, 3, 12, 1, 3, 10, ViTConfig.Pooling.MAP, 1e-5f, gelu, 0);
    }

    static final int BATCH = 2;

    /** A model with random weights (LayerNorm scales near 1) on {@code be}. */
    static TwoTower model(Backend be, ViTConfig c, long seed) {
        TwoTower m = TwoTower.allocate(be, new TwoTowerConfig(c, null, null));
        Random r = new Random(seed);
        for (ParamSpec s : m.config().params()) {
            float[] v = random(r, (int) s.numel(), 0.5f);
            if (s.name().endsWith(".scale")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = 1 + 0.2f * v[i];
                }
            }
            m.params().set(be, s.name(), s.shape(), v);
        }
        return m;
    }

    /** Σ g ⊙ pooled in double for the model's current weights. */
    static double loss(Backend be, TwoTower m, ViTConfig c, float[] images, float[] g) {
        try (TensorArena a = be.newArena()) {
            TowerPass.Image pass = TowerPass.image(be, m.params(), a, c, BATCH, Precision.FP32, TowerPass.Mode.TRAINING);
            Tensor x = a.allocate(DType.F32, BATCH, c.imageSize(), c.imageSize(), c.channels());
            be.upload(images, x);
            pass.forward(x, ForwardObserver.NONE);
            float[] out = be.download(pass.output());
            double s = 0;
            for (int i = 0; i < out.length; i++) {
                s += (double) out[i] * g[i];
            }
            return s;
        }
    }

    /** The backward's gradient of every parameter for Σ g ⊙ pooled. */
    static List<float[]> analytic(Backend be, TwoTower m, ViTConfig c, float[] images, float[] g) {
        List<ParamSpec> specs = m.config().params();
        try (TensorArena a = be.newArena()) {
            Grads grads = new Grads(a, specs, c.width());
            TowerPass.Image pass = TowerPass.image(be, m.params(), a, c, BATCH, Precision.FP32, TowerPass.Mode.TRAINING);
            Tensor x = a.allocate(DType.F32, BATCH, c.imageSize(), c.imageSize(), c.channels());
            be.upload(images, x);
            pass.forward(x, ForwardObserver.NONE);
            be.upload(g, pass.outputGradient());
            pass.backwardFromOutput(grads);
            List<float[]> out = new ArrayList<>();
            for (ParamSpec s : specs) {
                out.add(be.download(grads.get(s.name())));
            }
            return out;
        }
    }

    @ParameterizedTest
    @EnumSource(Gelu.class)
    void everyParameterMatchesFiniteDifferencesAndOneDnnMatchesTheOracle(Gelu gelu) {
        ViTConfig c = config(gelu);
        Random r = new Random(11);
        float[] images = random(r, BATCH * c.imageSize() * c.imageSize() * c.channels(), 1f);
        float[] g = random(r, BATCH * c.width(), 1f);
        try (TwoTower m = model(scalar, c, 3); TwoTower o = model(onednn, c, 3)) {
            List<ParamSpec> specs = m.config().params();
            List<float[]> ana = analytic(scalar, m, c, images, g);
            double h = 1e-2;
            int checked = 0;
            for (int p = 0; p < specs.size(); p++) {
                ParamSpec s = specs.get(p);
                Tensor t = m.params().get(s.name());
                float[] w = scalar.download(t);
                // a few entries of each parameter (all of a small one)
                for (int k = 0; k < Math.min(w.length, 6); k++) {
                    int i = (int) ((long) k * 7919 % w.length);
                    float keep = w[i];
                    w[i] = (float) (keep + h);
                    scalar.upload(w, t);
                    double lp = loss(scalar, m, c, images, g);
                    w[i] = (float) (keep - h);
                    scalar.upload(w, t);
                    double lm = loss(scalar, m, c, images, g);
                    w[i] = keep;
                    scalar.upload(w, t);
                    double num = (lp - lm) / ((double) (float) (keep + h) - (float) (keep - h));
                    double a = ana.get(p)[i];
                    assertTrue(Math.abs(num - a) <= 2e-3 * Math.max(1, Math.abs(a)),
                            gelu + " " + s.name() + "[" + i + "]: finite differences " + num + ", backward " + a);
                    checked++;
                }
            }
            assertTrue(checked > 80, "checked only " + checked);
            List<float[]> dnn = analytic(onednn, o, c, images, g);
            for (int p = 0; p < specs.size(); p++) {
                assertClose(gelu + " oneDNN vs oracle: " + specs.get(p).name(), ana.get(p), dnn.get(p), 1e-4);
            }
        }
    }
}

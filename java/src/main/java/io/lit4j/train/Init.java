package io.lit4j.train;

import io.lit4j.backend.Backend;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Params;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Random initialisation of a tower ({@code u} in a setup, or a model built from presets), after
 * big_vision: Xavier-uniform dense kernels (q, k and v each as its own D x D matrix), zero biases,
 * unit LayerNorm scales, position and token embeddings ~ N(0, 1/D) (the MAP head's probe too, at about
 * the scale of big_vision's Xavier-uniform probe), a zero CLS token. BERT
 * towers use BERT's truncated normal (std 0.02). Each parameter draws from its own stream seeded
 * by (seed, name), so the result does not depend on the order of parameters.
 */
public final class Init {
    private Init() {
    }

    /** Re-initialises every parameter whose name starts with {@code prefix} ("img." or "txt."). */
    public static void tower(Backend be, Params params, String prefix, boolean bert, long seed) {
        for (ParamSpec s : params.specs()) {
            if (s.name().startsWith(prefix)) {
                be.upload(values(s, bert, seed), params.get(s.name()));
            }
        }
    }

    /** Sets the log temperature (and the sigmoid bias, when the model has one). */
    public static void temperature(Backend be, Params params, double temperature, double bias) {
        be.upload(new float[] {(float) Math.log(temperature)}, params.get("t"));
        if (params.has("b")) {
            be.upload(new float[] {(float) bias}, params.get("b"));
        }
    }

    static float[] values(ParamSpec s, boolean bert, long seed) {
        String n = s.name();
        int[] shape = s.shape();
        float[] v = new float[(int) s.numel()];
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ n.hashCode());
        if (n.endsWith(".scale")) {
            Arrays.fill(v, 1f);
        } else if (n.endsWith(".bias") || n.equals("img.cls")) {
            return v;
        } else if (bert && n.startsWith("txt.") && !n.startsWith("txt.head")) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (0.02 * truncatedNormal(r));
            }
        } else if (n.endsWith(".kernel")) {
            int fanIn = shape[0];
            int fanOut = n.endsWith("attn.qkv.kernel") ? shape[1] / 3 : shape[1];
            double limit = Math.sqrt(6.0 / (fanIn + fanOut));
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((r.nextDouble() * 2 - 1) * limit);
            }
        } else { // embeddings and position tables
            double std = 1 / Math.sqrt(shape[shape.length - 1]);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (std * r.nextGaussian());
            }
        }
        return v;
    }

    private static double truncatedNormal(SplittableRandom r) {
        double x;
        do {
            x = r.nextGaussian();
        } while (Math.abs(x) > 2);
        return x;
    }
}

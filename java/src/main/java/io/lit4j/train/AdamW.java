package io.lit4j.train;

import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Backend;
import io.lit4j.model.Grads;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Params;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * AdamW over the trainable parameters, with global gradient-norm clipping and a schedule. Both
 * moments live in slabs laid out like the gradients; a step allocates nothing. By default only
 * dense kernels decay (no decay on biases, LayerNorm, embeddings, the temperature).
 */
public final class AdamW {
    /** Hyper-parameters. {@code clipNorm} ≤ 0 disables clipping. */
    public record Config(Schedule schedule, float beta1, float beta2, float eps, float weightDecay, float clipNorm,
                         Predicate<String> decays) {
        public static Predicate<String> kernelsOnly() {
            return name -> name.endsWith(".kernel");
        }
    }

    /** What a step did, for logs. */
    public record StepInfo(double lr, double gradNorm, boolean clipped) {
    }

    private final Backend be;
    private final Params params;
    private final Grads grads;
    private final Params m;
    private final Params v;
    private final Config cfg;
    private Map<String, Tensor> shadows = Map.of();
    private long updates;

    public AdamW(Backend be, TensorArena arena, Params params, Grads grads, Config cfg) {
        this.be = be;
        this.params = params;
        this.grads = grads;
        this.cfg = cfg;
        this.m = Params.allocate(arena, grads.params().specs(), DType.F32);
        this.v = Params.allocate(arena, grads.params().specs(), DType.F32);
    }

    /** Global L2 norm of the trainable gradients. */
    public double gradNorm() {
        return Math.sqrt(be.sumOfSquares(grads.params().slab()));
    }

    /**
     * Bf16 copies of some parameters (by name: the plain-layout copies a bf16 tower multiplies by)
     * that each {@link #step} writes in the same pass as the weights, so they need no separate
     * conversion; the caller then tells the model they are current (see
     * {@code TwoTower.weightsChanged(Collection, Map)}).
     */
    public void writeShadows(Map<String, Tensor> shadows) {
        for (String name : shadows.keySet()) {
            if (grads.get(name) == null) {
                throw new IllegalArgumentException("a bf16 shadow for '" + name + "', which is not trained");
            }
        }
        this.shadows = Map.copyOf(shadows);
    }

    /**
     * Clips, then updates every trainable parameter; {@code step} is the 0-based step index. Two
     * passes over the gradients: the global norm, then one sweep per parameter that reads the
     * gradient scaled by the clip (the gradients themselves are left unscaled), updates the moments
     * and the weight, and writes the weight's bf16 shadow when it has one.
     */
    public StepInfo step(long step) {
        double norm = gradNorm();
        boolean clipped = cfg.clipNorm() > 0 && norm > cfg.clipNorm();
        float gradScale = clipped ? (float) (cfg.clipNorm() / (norm + 1e-6)) : 1f;
        double lr = cfg.schedule().lr(step);
        updates++;
        for (ParamSpec s : grads.params().specs()) {
            float wd = cfg.decays().test(s.name()) ? cfg.weightDecay() : 0f;
            AdamWStep st = new AdamWStep((float) lr, cfg.beta1(), cfg.beta2(), cfg.eps(), wd, updates);
            be.adamw(params.get(s.name()), grads.get(s.name()), gradScale, m.get(s.name()), v.get(s.name()), shadows.get(s.name()), st);
        }
        return new StepInfo(lr, norm, clipped);
    }

    /** Bytes one {@link #step} moves through memory (the norm's read, then p, g, m, v read and p, m, v, shadows written). */
    public long bytesPerStep() {
        long n = grads.params().slab().numel(), shadowed = 0;
        for (Tensor t : shadows.values()) {
            shadowed += t.numel();
        }
        return n * 4 + n * 7 * 4 + shadowed * 2;
    }

    /** First and second moments (saved with checkpoints). */
    public Params firstMoments() {
        return m;
    }

    public Params secondMoments() {
        return v;
    }

    /** Updates done so far (the bias-correction count). */
    public long updates() {
        return updates;
    }

    /** Restores the update count after loading the moments from a checkpoint. */
    public void restore(long updateCount) {
        this.updates = updateCount;
    }

    /** Every moment tensor by name, for checkpointing. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.tensors().forEach((k, t) -> out.put("m/" + k, t));
        v.tensors().forEach((k, t) -> out.put("v/" + k, t));
        return out;
    }
}

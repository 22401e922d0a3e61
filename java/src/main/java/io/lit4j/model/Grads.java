package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.List;

/**
 * Gradients of the trainable parameters only (one slab, laid out like {@link Params}); a frozen
 * parameter has none, and the backward passes skip its gradient.
 */
public final class Grads {
    private final Params slab;
    private final Tensor lnScratchScale;
    private final Tensor lnScratchBias;

    public Grads(TensorArena arena, List<ParamSpec> trainable, int maxWidth) {
        this.slab = Params.allocate(arena, trainable, DType.F32);
        this.lnScratchScale = arena.allocate(DType.F32, Math.max(1, maxWidth));
        this.lnScratchBias = arena.allocate(DType.F32, Math.max(1, maxWidth));
    }

    /** The gradient of {@code name}, or null when it is frozen. */
    public Tensor get(String name) {
        return slab.has(name) ? slab.get(name) : null;
    }

    public boolean has(String name) {
        return slab.has(name);
    }

    public Params params() {
        return slab;
    }

    boolean anyUnder(String prefix) {
        for (ParamSpec s : slab.specs()) {
            if (s.name().startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** LayerNorm backward with its scale/bias gradients when either is trainable (a frozen one goes to scratch). */
    void layerNorm(Backend be, Tensor x, Params p, String name, Tensor mean, Tensor var, float eps, Tensor dy, Tensor dx) {
        Tensor ds = get(name + ".scale"), db = get(name + ".bias");
        if (ds != null || db != null) {
            int d = x.dim(-1);
            ds = ds != null ? ds : lnScratchScale.slice(0, d);
            db = db != null ? db : lnScratchBias.slice(0, d);
        }
        be.layerNormBackward(x, p.get(name + ".scale"), mean, var, eps, dy, dx, ds, db);
    }
}

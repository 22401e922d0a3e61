package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters in one slab (llm.c style): one allocation, sliced into named tensors in
 * spec order, each 64-byte aligned. Gradients and optimizer moments use the same layout, so a
 * parameter, its gradient and its moments share an index.
 */
public final class Params {
    private static final int ALIGN_BYTES = 64;

    private final List<ParamSpec> specs;
    private final Map<String, Tensor> byName;
    private final Tensor slab;

    private Params(List<ParamSpec> specs, Map<String, Tensor> byName, Tensor slab) {
        this.specs = specs;
        this.byName = byName;
        this.slab = slab;
    }

    /** Allocates zeroed parameters for {@code specs} in {@code arena}. */
    public static Params allocate(TensorArena arena, List<ParamSpec> specs, DType dtype) {
        long elems = 0;
        long alignElems = ALIGN_BYTES / dtype.byteSize();
        for (ParamSpec s : specs) {
            elems += (s.numel() + alignElems - 1) / alignElems * alignElems;
        }
        if (elems > Integer.MAX_VALUE) {
            throw new LitException("parameters need " + elems + " elements; lit4j's slab limit is " + Integer.MAX_VALUE);
        }
        Tensor slab = arena.allocate(dtype, (int) Math.max(elems, 1));
        Map<String, Tensor> map = new LinkedHashMap<>();
        long off = 0;
        for (ParamSpec s : specs) {
            if (map.containsKey(s.name())) {
                throw new LitException("duplicate parameter name " + s.name());
            }
            map.put(s.name(), slab.sub(off * dtype.byteSize(), dtype, s.shape()));
            off += (s.numel() + alignElems - 1) / alignElems * alignElems;
        }
        return new Params(List.copyOf(specs), Collections.unmodifiableMap(map), slab);
    }

    /**
     * A view of these parameters in which the named ones are replaced (e.g. kernels by packed
     * copies for inference); the slab and specs are shared.
     */
    public Params withReplacements(Map<String, Tensor> replacements) {
        Map<String, Tensor> map = new LinkedHashMap<>(byName);
        for (var e : replacements.entrySet()) {
            if (!map.containsKey(e.getKey())) {
                throw new LitException("cannot replace unknown parameter '" + e.getKey() + "'");
            }
            map.put(e.getKey(), e.getValue());
        }
        return new Params(specs, Collections.unmodifiableMap(map), slab);
    }

    /** The parameter called {@code name}; an error naming it if the model has none. */
    public Tensor get(String name) {
        Tensor t = byName.get(name);
        if (t == null) {
            throw new LitException("model has no parameter '" + name + "'");
        }
        return t;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    public List<ParamSpec> specs() {
        return specs;
    }

    /** Name to tensor, in spec order. */
    public Map<String, Tensor> tensors() {
        return byName;
    }

    /** The whole slab (padding included): for optimizers that sweep every element. */
    public Tensor slab() {
        return slab;
    }

    public long count() {
        long n = 0;
        for (ParamSpec s : specs) {
            n += s.numel();
        }
        return n;
    }

    /** Uploads host values into the parameter {@code name}, checking the shape. */
    public void set(Backend backend, String name, int[] shape, float[] values) {
        Tensor t = get(name);
        Shapes.require("load", name, t, shape);
        backend.upload(values, t);
    }
}

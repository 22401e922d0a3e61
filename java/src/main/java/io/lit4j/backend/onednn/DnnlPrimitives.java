package io.lit4j.backend.onednn;

import io.lit4j.backend.Gelu;
import io.lit4j.backend.onednn.Dnnl.Attr;
import io.lit4j.backend.onednn.Dnnl.Engine;
import io.lit4j.backend.onednn.Dnnl.MemoryDesc;
import io.lit4j.backend.onednn.Dnnl.PdFactory;
import io.lit4j.backend.onednn.Dnnl.Primitive;
import io.lit4j.backend.onednn.Dnnl.PrimitiveDesc;
import io.lit4j.bindings.dnnl.dnnl_h;
import io.lit4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Every oneDNN primitive the backend uses, built from memory descriptors: the one place that
 * creates primitive descriptors ({@code dnnl_*_primitive_desc_create}) and names execution
 * arguments ({@code DNNL_ARG_*}). Each factory takes ownership of the descriptors it is given
 * (the primitive closes them), and returns a primitive whose execution buffers come in the order
 * its javadoc lists. Every primitive uses a user-managed scratchpad (see {@link Attr}).
 */
final class DnnlPrimitives {
    private DnnlPrimitives() {
    }

    /** What a matmul does to its product before storing it. */
    enum Post {
        NONE, GELU_TANH, GELU_ERF,
        /** {@code dst += product} */
        ACCUMULATE,
        /** {@code dst = alpha · product} */
        SCALE
    }

    /**
     * {@code dst = post(src · wts + bias)}; {@code bias} may be null. Buffers: src, wts, [bias], dst.
     * {@code alpha} is used by {@link Post#SCALE} only.
     */
    static Primitive matmul(Engine engine, String context, MemoryDesc src, MemoryDesc wts, MemoryDesc bias, MemoryDesc dst, Post post,
                            float alpha) {
        try (Attr attr = new Attr()) {
            switch (post) {
                case GELU_TANH -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_tanh(), 0f, 0f);
                case GELU_ERF -> attr.eltwise(dnnl_h.dnnl_eltwise_gelu_erf(), 0f, 0f);
                case ACCUMULATE -> attr.sum();
                case SCALE -> attr.eltwise(dnnl_h.dnnl_eltwise_linear(), alpha, 0f);
                case NONE -> { }
            }
            attr.build();
            PdFactory f = out -> dnnl_h.dnnl_matmul_primitive_desc_create(out, engine.handle, src.handle, wts.handle,
                    bias == null ? MemorySegment.NULL : bias.handle, dst.handle, attr.handle);
            return bias == null
                    ? new Primitive(engine, context, f, new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()},
                            new MemoryDesc[] {src, wts, dst})
                    : new Primitive(engine, context, f,
                            new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_BIAS(), dnnl_h.DNNL_ARG_DST()},
                            new MemoryDesc[] {src, wts, bias, dst});
        }
    }

    /**
     * The blocked layout a matmul of {@code rows} activations of type {@code precision} by a
     * {@code [k, m]} weight of the same type wants its weights in (asked with "any"); the caller owns it.
     */
    static MemoryDesc preferredWeights(Engine engine, String context, DType precision, int rows, int k, int m) {
        try (MemoryDesc src = MemoryDesc.dense(precision, rows, k);
             MemoryDesc wts = MemoryDesc.any(precision, k, m);
             MemoryDesc dst = MemoryDesc.dense(DType.F32, rows, m);
             Attr attr = new Attr().build();
             PrimitiveDesc pd = new PrimitiveDesc(context, o -> dnnl_h.dnnl_matmul_primitive_desc_create(o, engine.handle, src.handle,
                     wts.handle, MemorySegment.NULL, dst.handle, attr.handle))) {
            return pd.queryMd(dnnl_h.dnnl_query_weights_md(), context);
        }
    }

    /** A copy between layouts and/or data types. Buffers: from, to. */
    static Primitive reorder(Engine engine, String context, MemoryDesc from, MemoryDesc to) {
        try (Attr attr = new Attr().build()) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_reorder_primitive_desc_create(o, from.handle, engine.handle, to.handle, engine.handle, attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_FROM(), dnnl_h.DNNL_ARG_TO()}, new MemoryDesc[] {from, to});
        }
    }

    /** {@code dst = a + b} with {@code b} broadcast over a's rows. Buffers: a, b, dst. */
    static Primitive add(Engine engine, String context, MemoryDesc a, MemoryDesc b, MemoryDesc dst) {
        try (Attr attr = new Attr().build()) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_binary_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_binary_add(), a.handle, b.handle, dst.handle,
                            attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC_0(), dnnl_h.DNNL_ARG_SRC_1(), dnnl_h.DNNL_ARG_DST()}, new MemoryDesc[] {a, b, dst});
        }
    }

    private static int layerNormForward(Engine engine, MemorySegment out, boolean training, MemoryDesc src, MemoryDesc dst, MemoryDesc stat,
                                        float eps, Attr attr) {
        int prop = training ? dnnl_h.dnnl_forward_training() : dnnl_h.dnnl_forward_inference();
        return dnnl_h.dnnl_layer_normalization_forward_primitive_desc_create(out, engine.handle, prop, src.handle, dst.handle, stat.handle,
                eps, dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift(), attr.handle);
    }

    /**
     * Row-wise LayerNorm with scale and shift over {@code rows x d}. Buffers: src, scale, shift, dst,
     * and with {@code stats} (training) mean and variance.
     */
    static Primitive layerNorm(Engine engine, String context, DType x, DType y, int rows, int d, float eps, boolean stats) {
        MemoryDesc src = MemoryDesc.dense(x, rows, d);
        MemoryDesc dst = MemoryDesc.dense(y, rows, d);
        MemoryDesc scale = MemoryDesc.dense(DType.F32, d);
        MemoryDesc shift = MemoryDesc.dense(DType.F32, d);
        MemoryDesc mean = MemoryDesc.dense(DType.F32, rows);
        MemoryDesc var = MemoryDesc.dense(DType.F32, rows);
        try (Attr attr = new Attr().build()) {
            PdFactory f = o -> layerNormForward(engine, o, stats, src, dst, mean, eps, attr);
            if (stats) {
                return new Primitive(engine, context, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST(),
                                dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE()},
                        new MemoryDesc[] {src, scale, shift, dst, mean, var});
            }
            try (mean; var) { // inference writes no statistics: their descriptor only shapes the primitive
                return new Primitive(engine, context, f,
                        new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_SHIFT(), dnnl_h.DNNL_ARG_DST()},
                        new MemoryDesc[] {src, scale, shift, dst});
            }
        }
    }

    /**
     * LayerNorm's backward from the forward's statistics (fp32), with the scale and shift
     * gradients (oneDNN has no data-only backward for a LayerNorm with scale and shift). Buffers:
     * src, mean, variance, diff_dst, scale, diff_src, diff_scale, diff_shift.
     */
    static Primitive layerNormBackward(Engine engine, String context, int rows, int d, float eps) {
        MemoryDesc src = MemoryDesc.dense(DType.F32, rows, d);
        MemoryDesc gdst = MemoryDesc.dense(DType.F32, rows, d);
        MemoryDesc gsrc = MemoryDesc.dense(DType.F32, rows, d);
        MemoryDesc mean = MemoryDesc.dense(DType.F32, rows);
        MemoryDesc var = MemoryDesc.dense(DType.F32, rows);
        MemoryDesc scale = MemoryDesc.dense(DType.F32, d);
        MemoryDesc gscale = MemoryDesc.dense(DType.F32, d);
        MemoryDesc gshift = MemoryDesc.dense(DType.F32, d);
        try (Attr attr = new Attr().build();
             PrimitiveDesc hint = new PrimitiveDesc(context + " (forward hint)", o -> layerNormForward(engine, o, true, src, src, mean, eps, attr))) {
            PdFactory f = o -> dnnl_h.dnnl_layer_normalization_backward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_backward(),
                    gsrc.handle, gdst.handle, src.handle, mean.handle, eps, dnnl_h.dnnl_use_scale() | dnnl_h.dnnl_use_shift(), hint.handle,
                    attr.handle);
            return new Primitive(engine, context, f,
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_MEAN(), dnnl_h.DNNL_ARG_VARIANCE(), dnnl_h.DNNL_ARG_DIFF_DST(),
                            dnnl_h.DNNL_ARG_SCALE(), dnnl_h.DNNL_ARG_DIFF_SRC(), dnnl_h.DNNL_ARG_DIFF_SCALE(), dnnl_h.DNNL_ARG_DIFF_SHIFT()},
                    new MemoryDesc[] {src, mean, var, gdst, scale, gsrc, gscale, gshift});
        }
    }

    private static int algorithm(Gelu kind) {
        return kind == Gelu.TANH ? dnnl_h.dnnl_eltwise_gelu_tanh() : dnnl_h.dnnl_eltwise_gelu_erf();
    }

    /** GELU over {@code n} elements. Buffers: src, dst. */
    static Primitive gelu(Engine engine, String context, Gelu kind, DType x, DType y, long n) {
        MemoryDesc src = MemoryDesc.dense(x, n);
        MemoryDesc dst = MemoryDesc.dense(y, n);
        try (Attr attr = new Attr().build()) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_eltwise_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_inference(), algorithm(kind),
                            src.handle, dst.handle, 0f, 0f, attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()}, new MemoryDesc[] {src, dst});
        }
    }

    /** GELU's backward from the forward's input (fp32). Buffers: src, diff_dst, diff_src. */
    static Primitive geluBackward(Engine engine, String context, Gelu kind, long n) {
        MemoryDesc src = MemoryDesc.dense(DType.F32, n);
        MemoryDesc gdst = MemoryDesc.dense(DType.F32, n);
        MemoryDesc gsrc = MemoryDesc.dense(DType.F32, n);
        int alg = algorithm(kind);
        try (Attr attr = new Attr().build();
             PrimitiveDesc hint = new PrimitiveDesc(context + " (forward hint)",
                     o -> dnnl_h.dnnl_eltwise_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_training(), alg, src.handle,
                             src.handle, 0f, 0f, attr.handle))) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_eltwise_backward_primitive_desc_create(o, engine.handle, alg, gsrc.handle, gdst.handle, src.handle, 0f, 0f,
                            hint.handle, attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()}, new MemoryDesc[] {src, gdst, gsrc});
        }
    }

    /** Row-wise softmax (the accurate one: max-subtracted) over {@code rows x cols}. Buffers: src, dst. */
    static Primitive softmax(Engine engine, String context, DType x, DType y, int rows, int cols) {
        MemoryDesc src = MemoryDesc.dense(x, rows, cols);
        MemoryDesc dst = MemoryDesc.dense(y, rows, cols);
        try (Attr attr = new Attr().build()) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_softmax_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_inference(),
                            dnnl_h.dnnl_softmax_accurate(), src.handle, dst.handle, 1, attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()}, new MemoryDesc[] {src, dst});
        }
    }

    /** Softmax's backward from the forward's output (fp32). Buffers: dst, diff_dst, diff_src. */
    static Primitive softmaxBackward(Engine engine, String context, int rows, int cols) {
        MemoryDesc dst = MemoryDesc.dense(DType.F32, rows, cols);
        MemoryDesc gdst = MemoryDesc.dense(DType.F32, rows, cols);
        MemoryDesc gsrc = MemoryDesc.dense(DType.F32, rows, cols);
        try (Attr attr = new Attr().build();
             PrimitiveDesc hint = new PrimitiveDesc(context + " (forward hint)",
                     o -> dnnl_h.dnnl_softmax_forward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_forward_training(),
                             dnnl_h.dnnl_softmax_accurate(), dst.handle, dst.handle, 1, attr.handle))) {
            return new Primitive(engine, context,
                    o -> dnnl_h.dnnl_softmax_backward_primitive_desc_create(o, engine.handle, dnnl_h.dnnl_softmax_accurate(), gsrc.handle,
                            gdst.handle, dst.handle, 1, hint.handle, attr.handle),
                    new int[] {dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()}, new MemoryDesc[] {dst, gdst, gsrc});
        }
    }
}

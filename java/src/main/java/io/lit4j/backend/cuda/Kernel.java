package io.lit4j.backend.cuda;

import io.lit4j.LitException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernels of {@code native/cuda/lit4j_kernels.cu}, each with its parameter list as one letter
 * per parameter: {@code P} a device pointer (a {@code long}, 0 for NULL), {@code I} an {@code int},
 * {@code L} a 64-bit {@code long long}, {@code F} a {@code float}. {@code KernelSignatureTest}
 * parses the .cu file and holds these to it, so a launch can never pass a kernel the wrong
 * number or kind of arguments. {@link #arguments} packs values into cuLaunchKernel's
 * {@code kernelParams} (an array of pointers, one to each value).
 */
public enum Kernel {
    CONVERT("lit4j_convert", "PIPIL"),
    SCALE("lit4j_scale", "PILF"),
    ADD("lit4j_add", "PIPILPIL"),
    LINEAR_EPILOGUE("lit4j_linear_epilogue", "PPIPILLI"),
    GELU("lit4j_gelu", "PIPILI"),
    GELU_BACKWARD("lit4j_gelu_backward", "PIPIPILI"),
    LAYERNORM("lit4j_layernorm", "PIPIPIPIPPLIF"),
    LAYERNORM_BACKWARD("lit4j_layernorm_backward", "PIPIPPPPLIF"),
    LAYERNORM_BACKWARD_PARAMS("lit4j_layernorm_backward_params", "PIPPPPPLIF"),
    SOFTMAX("lit4j_softmax", "PIPILIFPLI"),
    SOFTMAX_BACKWARD("lit4j_softmax_backward", "PIPIPILIF"),
    SPLIT_HEADS("lit4j_split_heads", "PIPIIIIII"),
    MERGE_HEADS("lit4j_merge_heads", "PIPIIIIII"),
    EMBEDDING("lit4j_embedding", "PPPILIIP"),
    EMBEDDING_BACKWARD("lit4j_embedding_backward", "PPPLII"),
    PATCHIFY("lit4j_patchify", "PPIIIIII"),
    PREPEND_TOKEN("lit4j_prepend_token", "PPPIIII"),
    PREPEND_TOKEN_BACKWARD("lit4j_prepend_token_backward", "PPPIII"),
    POOL("lit4j_pool", "PIPIIIIII"),
    POOL_BACKWARD("lit4j_pool_backward", "PPIIIII"),
    SUM_TO_SHAPE("lit4j_sum_to_shape", "PIPILL"),
    L2_NORMALIZE("lit4j_l2_normalize", "PIPIPLI"),
    L2_NORMALIZE_BACKWARD("lit4j_l2_normalize_backward", "PIPPPLI"),
    SUM_OF_SQUARES("lit4j_sum_of_squares", "PILP"),
    ROW_LOGSUMEXP("lit4j_row_logsumexp", "PPLI"),
    SIGMOID_LOSS_ROWS("lit4j_sigmoid_loss_rows", "PPPI"),
    ADAMW("lit4j_adamw", "PPPPLFFFFFFF");

    private final String symbol;
    private final String params;

    Kernel(String symbol, String params) {
        this.symbol = symbol;
        this.params = params;
    }

    /** The kernel's name in the module. */
    public String symbol() {
        return symbol;
    }

    /** One letter per parameter (P, I, L, F). */
    public String params() {
        return params;
    }

    /**
     * The launch's kernelParams in {@code arena}: checks each value's Java type against the
     * declared kind ({@code P} and {@code L} take a Long, {@code I} an Integer, {@code F} a Float).
     */
    public MemorySegment arguments(Arena arena, Object... values) {
        if (values.length != params.length()) {
            throw new LitException(symbol + " takes " + params.length() + " arguments (" + params + "), got " + values.length);
        }
        MemorySegment slots = arena.allocate(8L * values.length, 8);
        MemorySegment pointers = arena.allocate(ValueLayout.ADDRESS, values.length);
        for (int i = 0; i < values.length; i++) {
            MemorySegment slot = slots.asSlice(8L * i, 8);
            char kind = params.charAt(i);
            Object v = values[i];
            switch (kind) {
                case 'P', 'L' -> slot.set(ValueLayout.JAVA_LONG, 0, as(Long.class, v, i));
                case 'I' -> slot.set(ValueLayout.JAVA_INT, 0, as(Integer.class, v, i));
                case 'F' -> slot.set(ValueLayout.JAVA_FLOAT, 0, as(Float.class, v, i));
                default -> throw new AssertionError(kind);
            }
            pointers.setAtIndex(ValueLayout.ADDRESS, i, slot);
        }
        return pointers;
    }

    private <T> T as(Class<T> type, Object v, int i) {
        if (!type.isInstance(v)) {
            throw new LitException(symbol + " argument " + i + " must be " + type.getSimpleName() + " (" + params.charAt(i) + " in "
                    + params + "), got " + (v == null ? "null" : v.getClass().getSimpleName()));
        }
        return type.cast(v);
    }
}

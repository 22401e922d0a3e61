package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.util.Locale;

/**
 * How the towers multiply, in inference and in training alike. {@link #BF16}: the encoder blocks'
 * matmuls take bf16 operands (bf16 copies of their kernels, refreshed after each update; the
 * LayerNorm outputs and the attention output kept in bf16, and in inference the fused MLP hidden
 * too; other operands converted as they go in) and accumulate in fp32. The residual stream, LayerNorm statistics, softmax, gradients,
 * master weights and optimizer state stay fp32, and so do the patch embedding and the heads. The
 * backends choose their kernels from the operands' types, so this is the one switch.
 */
public enum Precision {
    FP32(DType.F32), BF16(DType.BF16);

    private final DType operands;

    Precision(DType operands) {
        this.operands = operands;
    }

    /** The element type of the blocks' matmul operands. */
    public DType operands() {
        return operands;
    }

    /** "fp32" or "bf16", as the command line and run.json spell it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code fp32} (also f32, float32) or {@code bf16} (also bfloat16). */
    public static Precision parse(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "fp32", "f32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new LitException("precision must be fp32 or bf16, got '" + s + "'");
        };
    }
}

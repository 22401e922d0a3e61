package io.lit4j.backend;

/** What a {@link Backend#linear} does to {@code x·w + b} before storing it in {@code y}. */
public enum Epilogue {
    /** {@code y = x·w + b} */
    NONE,
    /** {@code y = gelu_tanh(x·w + b)} */
    GELU_TANH,
    /** {@code y = gelu_erf(x·w + b)} */
    GELU_ERF,
    /** {@code y = quick_gelu(x·w + b)}: {@code v · sigmoid(1.702 v)} (CLIP) */
    GELU_QUICK,
    /** {@code y = y + x·w + b}: a residual add fused into the matmul. */
    ACCUMULATE;

    public static Epilogue of(Gelu g) {
        return switch (g) {
            case TANH -> GELU_TANH;
            case ERF -> GELU_ERF;
            case QUICK -> GELU_QUICK;
        };
    }
}

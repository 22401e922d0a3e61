package io.lit4j.backend;

import io.lit4j.LitException;

import java.util.Locale;

/** The GELU variants real checkpoints were trained with. */
public enum Gelu {
    /** {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: flax's default, used by big_vision. */
    TANH,
    /** {@code 0.5 x (1 + erf(x / sqrt 2))}: exact, used by HuggingFace ViT and BERT. */
    ERF,
    /**
     * {@code x · sigmoid(1.702 x)}: OpenAI CLIP's "quick GELU" (transformers' {@code QuickGELUActivation},
     * {@code hidden_act: quick_gelu}), a cheap approximation that CLIP was trained with and must be run with.
     */
    QUICK;

    /** Quick GELU's sigmoid slope: {@code x · sigmoid(QUICK_ALPHA · x)}. */
    public static final float QUICK_ALPHA = 1.702f;

    public static Gelu parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "tanh", "gelu_tanh", "gelu_new", "gelu_pytorch_tanh" -> TANH;
            case "erf", "exact", "gelu" -> ERF;
            case "quick", "quick_gelu" -> QUICK;
            default -> throw new LitException("unknown gelu '" + s + "' (tanh, erf or quick)");
        };
    }

    public String configName() {
        return switch (this) {
            case TANH -> "tanh";
            case ERF -> "erf";
            case QUICK -> "quick";
        };
    }
}

package io.lit4j.backend;

import io.lit4j.LitException;

import java.util.Locale;

/** The two GELU variants real checkpoints were trained with. */
public enum Gelu {
    /** {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: flax's default, used by big_vision. */
    TANH,
    /** {@code 0.5 x (1 + erf(x / sqrt 2))}: exact, used by HuggingFace ViT and BERT. */
    ERF;

    public static Gelu parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "tanh", "gelu_tanh", "gelu_new", "gelu_pytorch_tanh" -> TANH;
            case "erf", "exact", "gelu" -> ERF;
            default -> throw new LitException("unknown gelu '" + s + "' (tanh or erf)");
        };
    }

    public String configName() {
        return this == TANH ? "tanh" : "erf";
    }
}

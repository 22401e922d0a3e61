package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Gelu;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Named configurations (big_vision's variants, BERT's sizes, the paper's LiT pairs) and a tiny
 * {@code smoke} model for tests. Image presets use big_vision numerics (LayerNorm eps 1e-6,
 * tanh GELU) and CLS pooling; their heads are left out (set by the pair).
 */
public final class Presets {
    private Presets() {
    }

    private static final Map<String, ViTConfig> IMAGE = new LinkedHashMap<>();
    private static final Map<String, TextConfig> TEXT = new LinkedHashMap<>();
    private static final Map<String, TwoTowerConfig> PAIRS = new LinkedHashMap<>();

    private static ViTConfig vit(int patch, int width, int depth, int heads, int mlp) {
        return new ViTConfig(224, patch, 3, width, depth, heads, mlp, ViTConfig.Pooling.TOK, 1e-6f, Gelu.TANH, 0);
    }

    private static TextTransformerConfig tt(int width, int depth, int heads, int mlp) {
        return new TextTransformerConfig(32_000, 16, width, depth, heads, mlp, TextTransformerConfig.Pooling.LAST, 1e-6f,
                Gelu.TANH, 0);
    }

    /** big_vision's MAP-pooled ViT as SigLIP publishes it: no CLS token, no linear head. */
    private static ViTConfig siglipVit(int size, int patch, int width, int depth, int heads, int mlp) {
        return new ViTConfig(size, patch, 3, width, depth, heads, mlp, ViTConfig.Pooling.MAP, 1e-6f, Gelu.TANH, 0);
    }

    /**
     * A SigLIP pair (big_vision {@code configs/proj/image_text/SigLIP_demo.ipynb}: {@code out_dim
     * (None, width)}, text of the image's variant, pooled at its last token, a head to the image width).
     */
    private static TwoTowerConfig siglip(int size, int patch, String variant, int vocab, int seqLen) {
        int[] v = switch (variant) {
            case "B" -> new int[] {768, 12, 12, 3072};
            case "L" -> new int[] {1024, 24, 16, 4096};
            case "So400m" -> new int[] {1152, 27, 16, 4304};
            default -> throw new IllegalArgumentException(variant);
        };
        ViTConfig img = siglipVit(size, patch, v[0], v[1], v[2], v[3]);
        TextTransformerConfig txt = new TextTransformerConfig(vocab, seqLen, v[0], v[1], v[2], v[3], TextTransformerConfig.Pooling.LAST,
                1e-6f, Gelu.TANH, v[0]);
        return new TwoTowerConfig(img, txt, TwoTowerConfig.Loss.SIGMOID);
    }

    private static BertConfig bert(int width, int depth, int heads, int mlp) {
        // flaxformer's BERT, as big_vision's LiT uses it: eps 1e-12, tanh GELU; 16 tokens.
        return new BertConfig(30_522, 512, 2, 16, width, depth, heads, mlp, 1e-12f, Gelu.TANH, 0);
    }

    static {
        IMAGE.put("Ti/16", vit(16, 192, 12, 3, 768));
        IMAGE.put("S/16", vit(16, 384, 12, 6, 1536));
        IMAGE.put("B/16", vit(16, 768, 12, 12, 3072));
        IMAGE.put("B/32", vit(32, 768, 12, 12, 3072));
        IMAGE.put("L/16", vit(16, 1024, 24, 16, 4096));
        IMAGE.put("So400m/14", siglipVit(224, 14, 1152, 27, 16, 4304)); // SigLIP's shape-optimised ViT, MAP-pooled
        IMAGE.put("smoke", new ViTConfig(32, 8, 3, 32, 2, 4, 64, ViTConfig.Pooling.TOK, 1e-6f, Gelu.TANH, 0));

        TEXT.put("bert-base", bert(768, 12, 12, 3072));
        TEXT.put("bert-large", bert(1024, 24, 16, 4096));
        TEXT.put("text-Ti", tt(192, 12, 3, 768));
        TEXT.put("text-S", tt(384, 12, 6, 1536));
        TEXT.put("text-B", tt(768, 12, 12, 3072));
        TEXT.put("text-L", tt(1024, 24, 16, 4096));
        TEXT.put("smoke", new TextTransformerConfig(128, 8, 32, 2, 4, 64, TextTransformerConfig.Pooling.LAST, 1e-6f, Gelu.TANH, 0));

        // The paper's pairs: LiT-B16B (ViT-B/16 + BERT-base), LiT-L16L (ViT-L/16 + BERT-large),
        // LiT-L16S and LiT-L16Ti (ViT-L/16 + small text transformers); heads to 768 / 1024 as published.
        PAIRS.put("lit-b16b", pair("B/16", "bert-base", 768));
        PAIRS.put("lit-l16l", pair("L/16", "bert-large", 1024));
        PAIRS.put("lit-l16s", pair("L/16", "text-S", 1024));
        PAIRS.put("lit-l16ti", pair("L/16", "text-Ti", 1024));
        PAIRS.put("lit-b16-text-b", pair("B/16", "text-B", 768));
        PAIRS.put("smoke", pair("smoke", "smoke", 24));

        // SigLIP (big_vision webli_en_*: 32k English SentencePiece vocabulary) and SigLIP 2
        // (256k Gemma vocabulary, 64 tokens); HF google/siglip-* and google/siglip2-* have these shapes.
        PAIRS.put("siglip-b16-224", siglip(224, 16, "B", 32_000, 64));
        PAIRS.put("siglip-b16-256", siglip(256, 16, "B", 32_000, 64));
        PAIRS.put("siglip-l16-256", siglip(256, 16, "L", 32_000, 64));
        PAIRS.put("siglip-so400m14-224", siglip(224, 14, "So400m", 32_000, 16));
        PAIRS.put("siglip2-b16-224", siglip(224, 16, "B", 256_000, 64));
        PAIRS.put("siglip2-l16-256", siglip(256, 16, "L", 256_000, 64));
        PAIRS.put("siglip2-so400m14-224", siglip(224, 14, "So400m", 256_000, 64));
    }

    private static TwoTowerConfig pair(String img, String txt, int dim) {
        return new TwoTowerConfig(IMAGE.get(img).withHeadDim(dim), TEXT.get(txt).withHeadDim(dim), TwoTowerConfig.Loss.SOFTMAX);
    }

    public static ViTConfig image(String name) {
        ViTConfig c = IMAGE.get(name);
        if (c == null) {
            throw new LitException("unknown image preset '" + name + "'; known: " + IMAGE.keySet());
        }
        return c;
    }

    public static TextConfig text(String name) {
        TextConfig c = TEXT.get(name);
        if (c == null) {
            throw new LitException("unknown text preset '" + name + "'; known: " + TEXT.keySet());
        }
        return c;
    }

    public static TwoTowerConfig pair(String name) {
        TwoTowerConfig c = PAIRS.get(name);
        if (c == null) {
            throw new LitException("unknown model preset '" + name + "'; known: " + PAIRS.keySet());
        }
        return c;
    }

    public static boolean isPair(String name) {
        return PAIRS.containsKey(name);
    }

    /** All preset names by kind, for help texts. */
    public static Map<String, Set<String>> names() {
        Map<String, Set<String>> m = new TreeMap<>();
        m.put("image", IMAGE.keySet());
        m.put("text", TEXT.keySet());
        m.put("model", PAIRS.keySet());
        return m;
    }
}

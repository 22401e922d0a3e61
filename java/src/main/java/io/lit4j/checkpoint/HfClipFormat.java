package io.lit4j.checkpoint;

import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.checkpoint.HuggingFaceFormat.HfConfig;
import io.lit4j.checkpoint.WeightMap.Arr;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.ClipTextConfig;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * HuggingFace CLIP safetensors ({@code model_type: clip}: {@code openai/clip-vit-base-patch32},
 * {@code openai/clip-vit-large-patch14}, ...), or one of its towers alone ({@code CLIPVisionModel},
 * {@code CLIPTextModel}, with or without their projection). Every convention is read from
 * transformers' {@code models/clip/modeling_clip.py}:
 * <ul>
 *   <li>{@code CLIPVisionEmbeddings}: a bias-free patch conv, {@code class_embedding} prepended,
 *       then {@code position_embedding} over all {@code 1 + patches} tokens. lit4j adds positions
 *       to the patches before prepending the token, so position row 0 is folded into {@code img.cls}.</li>
 *   <li>{@code CLIPVisionTransformer}: {@code pre_layrnorm} before the blocks ({@code img.pre_norm}),
 *       {@code post_layernorm} on the CLS token ({@code img.norm}: LayerNorm is row-wise, so
 *       normalising every token and pooling the first is the same), {@code visual_projection} without bias.</li>
 *   <li>{@code CLIPEncoderLayer}: pre-LN blocks, {@code q_proj}/{@code k_proj}/{@code v_proj}
 *       fused into lit4j's qkv, {@code hidden_act} from the config (quick GELU in openai's).</li>
 *   <li>{@code CLIPTextTransformer}: token + position embeddings, causal blocks,
 *       {@code final_layer_norm}, pooling at the end-of-text token ({@link ClipTextConfig}),
 *       {@code text_projection} without bias; {@code logit_scale} is lit4j's {@code t} (both are the
 *       log of the logits' scale).</li>
 * </ul>
 * Sizes come from {@code config.json} beside the weights ({@code vision_config}, {@code text_config},
 * {@code projection_dim}), and from the arrays' shapes where it is silent, with transformers'
 * defaults for what neither says (heads: width / 64, as in every openai size; eps 1e-5; quick GELU).
 */
final class HfClipFormat {
    private HfClipFormat() {
    }

    static final String V = "vision_model.", T = "text_model.";
    private static final String PATCH = V + "embeddings.patch_embedding.weight";
    private static final String WORDS = T + "embeddings.token_embedding.weight";

    /** CLIP's key prefixes, and not SigLIP's file (which shares them; see {@link HfSiglipFormat#looksLike}). */
    static boolean looksLike(ArraySource src) {
        return (src.contains(PATCH) || src.contains(WORDS)) && !HfSiglipFormat.looksLike(src);
    }

    // ------------------------------------------------------------------ config.json

    /** The {@code config.json} beside {@code weights}, as its top-level section (empty when there is none). */
    private static HfConfig config(Path weights) {
        Path cfg = weights.toAbsolutePath().getParent().resolve("config.json");
        return new HfConfig(cfg, Files.isRegularFile(cfg) ? HfConfig.readObject(cfg, " CLIP") : null);
    }

    /** The config of a tower: {@code vision_config}/{@code text_config}, or the top level of a single-tower config. */
    private static HfConfig tower(HfConfig root, String sub, String singleType) {
        HfConfig s = root.sub(sub);
        if (s != null) {
            return s;
        }
        return root.stringOr("model_type", "").equals(singleType) ? root : new HfConfig(root.file(), sub + ".", null);
    }

    /** CLIP's numerics where config.json is silent: eps 1e-5, quick GELU. */
    private static float eps(HfConfig c) {
        return c.epsOr(1e-5f);
    }

    private static Gelu act(HfConfig c) {
        return c.geluOr(Gelu.QUICK, "a string (quick_gelu, gelu, ...)");
    }

    static TwoTowerConfig inferConfig(ArraySource src) {
        HfConfig root = config(src.file());
        String type = root.stringOr("model_type", "clip");
        if (!type.startsWith("clip")) {
            throw new CheckpointException(src.file(), "its keys are HuggingFace CLIP's, but " + root.file() + " says model_type '" + type + "'");
        }
        int projection = root.intOr("projection_dim", 0);
        ViTConfig image = null;
        if (src.contains(PATCH)) {
            HfConfig c = tower(root, "vision_config", "clip_vision_model");
            Dims k = Dims.of(src, PATCH, "[D, C, P, P]");
            int width = k.size(0), channels = k.size(1), patch = k.size(2);
            long tokens = Dims.of(src, V + "embeddings.position_embedding.weight", "[N, D]").size(0);
            int grid = (int) Math.round(Math.sqrt(tokens - 1));
            int mlp = Dims.of(src, V + "encoder.layers.0.mlp.fc1.weight", "[M, D]").size(0);
            int head = projection(src, root, "visual_projection.weight", projection);
            int w = c.intOr("hidden_size", width);
            image = fromConfig(root, () -> new ViTConfig(c.intOr("image_size", grid * patch), c.intOr("patch_size", patch), c.intOr("num_channels", channels),
                    w, c.intOr("num_hidden_layers", BlockCount.encoderLayers(src, V + "encoder.layers.")), c.intOr("num_attention_heads", Math.max(1, w / 64)),
                    c.intOr("intermediate_size", mlp), ViTConfig.Pooling.TOK, eps(c), act(c), head,
                    ViTConfig.Layout.CLIP));
        }
        ClipTextConfig text = null;
        if (src.contains(WORDS)) {
            HfConfig c = tower(root, "text_config", "clip_text_model");
            Dims tok = Dims.of(src, WORDS, "[V, D]");
            int positions = Dims.of(src, T + "embeddings.position_embedding.weight", "[P, D]").size(0);
            int mlp = Dims.of(src, T + "encoder.layers.0.mlp.fc1.weight", "[M, D]").size(0);
            int head = projection(src, root, "text_projection.weight", projection);
            int w = c.intOr("hidden_size", tok.size(1));
            // no config: the rule of the openai configs (eos_token_id 2: pool at the largest id, <|endoftext|>)
            text = fromConfig(root, () -> new ClipTextConfig(c.intOr("vocab_size", tok.size(0)), c.intOr("max_position_embeddings", positions), w,
                    c.intOr("num_hidden_layers", BlockCount.encoderLayers(src, T + "encoder.layers.")), c.intOr("num_attention_heads", Math.max(1, w / 64)),
                    c.intOr("intermediate_size", mlp), eps(c), act(c), head,
                    c.intOr("eos_token_id", ClipTextConfig.LEGACY_EOS)));
        }
        return new TwoTowerConfig(image, text, TwoTowerConfig.Loss.SOFTMAX);
    }

    /** The width of projection {@code key} (0 when the file has none), which must be config.json's {@code projection_dim} when it says one. */
    private static int projection(ArraySource src, HfConfig root, String key, int projectionDim) {
        if (!src.contains(key)) {
            return 0;
        }
        int p = Dims.of(src, key, "[P, D]").size(0);
        if (projectionDim > 0 && projectionDim != p) {
            throw new CheckpointException(src.file(), key, "has " + p + " rows but " + root.file() + " says projection_dim " + projectionDim);
        }
        return p;
    }

    /** A tower config from config.json's values: its own checks' errors name the file. */
    private static <C> C fromConfig(HfConfig root, Supplier<C> make) {
        try {
            return make.get();
        } catch (LitException e) {
            throw e.getMessage().startsWith(root.file().toString()) ? e : new LitException(root.file() + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ weights

    /** A torch Linear weight [out, in] as lit4j's kernel [in, out]. */
    private static Arr kernel(WeightMap.Reader r, String key) {
        return r.read(key).transpose();
    }

    private static void layerNorm(WeightMap map, String lit, String hf) {
        map.copy(lit + ".scale", hf + "weight");
        map.copy(lit + ".bias", hf + "bias");
    }

    /** {@code CLIPEncoderLayer} {@code s} as lit4j block {@code b}. */
    private static void block(WeightMap map, String b, String s) {
        String a = s + "self_attn.";
        layerNorm(map, b + "ln1", s + "layer_norm1.");
        map.put(b + "attn.qkv.kernel", r -> Arr.concatLast(kernel(r, a + "q_proj.weight"), kernel(r, a + "k_proj.weight"),
                kernel(r, a + "v_proj.weight")));
        map.put(b + "attn.qkv.bias", r -> Arr.concatLast(r.read(a + "q_proj.bias"), r.read(a + "k_proj.bias"), r.read(a + "v_proj.bias")));
        map.put(b + "attn.out.kernel", r -> kernel(r, a + "out_proj.weight"));
        map.copy(b + "attn.out.bias", a + "out_proj.bias");
        layerNorm(map, b + "ln2", s + "layer_norm2.");
        map.put(b + "mlp.fc1.kernel", r -> kernel(r, s + "mlp.fc1.weight"));
        map.copy(b + "mlp.fc1.bias", s + "mlp.fc1.bias");
        map.put(b + "mlp.fc2.kernel", r -> kernel(r, s + "mlp.fc2.weight"));
        map.copy(b + "mlp.fc2.bias", s + "mlp.fc2.bias");
    }

    static WeightMap weightMap(TwoTowerConfig cfg, ArraySource src) {
        WeightMap map = new WeightMap();
        if (cfg.hasImage() != src.contains(PATCH) || cfg.hasText() != src.contains(WORDS)) {
            throw new LitException(src.file() + ": the config's towers (image " + cfg.hasImage() + ", text " + cfg.hasText()
                    + ") are not the file's (image " + src.contains(PATCH) + ", text " + src.contains(WORDS) + ")");
        }
        if (cfg.hasImage()) {
            ViTConfig c = cfg.image();
            if (c.layout() != ViTConfig.Layout.CLIP) {
                throw new LitException(src.file() + ": a CLIP vision tower needs an image config with layout clip");
            }
            int n = c.numPatches();
            String pos = V + "embeddings.position_embedding.weight";
            map.put("img.patch.kernel", r -> {
                Arr w = r.read(PATCH).permute(2, 3, 1, 0); // [D,C,P,P] -> [P(row),P(col),C,D]
                return w.reshape(w.data().length / w.dim(-1), w.dim(-1));
            });
            map.put("img.pos", r -> r.read(pos).index0Range(1, n + 1));
            map.put("img.cls", r -> { // CLIP adds position row 0 to the class token after prepending it: fold it in
                float[] cls = r.read(V + "embeddings.class_embedding").data().clone();
                float[] pe = r.read(pos).data();
                if (pe.length < cls.length) {
                    throw new CheckpointException(src.file(), pos, "has fewer values than one position row");
                }
                for (int i = 0; i < cls.length; i++) {
                    cls[i] += pe[i];
                }
                return new Arr(new long[] {cls.length}, cls);
            });
            layerNorm(map, "img.pre_norm", V + "pre_layrnorm.");
            for (int i = 0; i < c.depth(); i++) {
                block(map, "img.blocks." + i + ".", V + "encoder.layers." + i + ".");
            }
            layerNorm(map, "img.norm", V + "post_layernorm.");
            if (c.headDim() > 0) {
                map.put("img.head.kernel", r -> kernel(r, "visual_projection.weight"));
            }
        }
        if (cfg.hasText()) {
            if (!(cfg.text() instanceof ClipTextConfig c)) {
                throw new LitException(src.file() + ": a CLIP text tower needs a text config of kind clip");
            }
            map.copy("txt.tok", WORDS);
            map.copy("txt.pos", T + "embeddings.position_embedding.weight");
            for (int i = 0; i < c.depth(); i++) {
                block(map, "txt.blocks." + i + ".", T + "encoder.layers." + i + ".");
            }
            layerNorm(map, "txt.norm", T + "final_layer_norm.");
            if (c.headDim() > 0) {
                map.put("txt.head.kernel", r -> kernel(r, "text_projection.weight"));
            }
        }
        if (cfg.hasImage() && cfg.hasText()) {
            map.put("t", r -> r.read("logit_scale").reshape(1));
        }
        map.ignore(k -> k.endsWith("embeddings.position_ids"), "the position_ids buffers (0, 1, 2, ...) older transformers saved");
        return map;
    }
}

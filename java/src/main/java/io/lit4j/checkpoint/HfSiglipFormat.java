package io.lit4j.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.checkpoint.HuggingFaceFormat.HfConfig;
import io.lit4j.checkpoint.WeightMap.Arr;
import io.lit4j.checkpoint.WeightMap.Reader;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.TextTransformerConfig;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;

import java.util.Map;

/**
 * HuggingFace SigLIP safetensors ({@code model_type: siglip}: {@code google/siglip-*} and the
 * fixed-resolution {@code google/siglip2-*}), as transformers' {@code modeling_siglip.py} lays
 * them out: {@code vision_model.*} (a ViT without CLS token, {@code post_layernorm}, and the MAP
 * head {@code head.*} with torch's packed {@code attention.in_proj_weight}), {@code text_model.*}
 * (token + position embeddings, pre-LN layers, {@code final_layer_norm}, the last token through
 * {@code head}), and {@code logit_scale} / {@code logit_bias}. Either tower may be absent
 * ({@code SiglipVisionModel}, {@code SiglipTextModel} files).
 *
 * <p>The config comes from the array shapes; {@code config.json} (its {@code vision_config} and
 * {@code text_config}) supplies what the file cannot carry (head counts, LayerNorm eps, GELU,
 * the image size), with transformers' defaults where a field is absent; a size it gives must
 * equal the arrays'. Numerics default to SigLIP's (eps 1e-6, tanh GELU).
 */
final class HfSiglipFormat {
    private HfSiglipFormat() {
    }

    static final String V = "vision_model.";
    static final String T = "text_model.";
    private static final String PATCH = V + "embeddings.patch_embedding.weight";
    private static final String WORDS = T + "embeddings.token_embedding.weight";

    /** A SigLIP file: its config says so, or it has what only SigLIP has (the MAP head, the text head, the logit bias). */
    static boolean looksLike(ArraySource src) {
        HfConfig hf = HfConfig.beside(src.file());
        String type = hf.json() != null && hf.json().has("model_type") && hf.json().get("model_type").isJsonPrimitive()
                ? hf.json().get("model_type").getAsString() : "";
        if (type.startsWith("siglip")) {
            return true;
        }
        return (src.contains(PATCH) || src.contains(WORDS))
                && (src.contains(V + "head.probe") || src.contains(T + "head.weight") || src.contains("logit_bias"));
    }

    /** The sub-config {@code name} ("vision_config"), or the top level of a single-tower config. */
    private static HfConfig sub(HfConfig hf, String name, String singleType) {
        JsonObject o = hf.json();
        if (o == null) {
            return hf;
        }
        String type = o.has("model_type") && o.get("model_type").isJsonPrimitive() ? o.get("model_type").getAsString() : "";
        if (type.equals("siglip2")) {
            throw new LitException(hf.file() + ": model_type 'siglip2' is the NaFlex SigLIP 2 (variable patch grids), which lit4j"
                    + " does not read; the fixed-resolution google/siglip2-* checkpoints (model_type 'siglip') load");
        }
        if (type.equals(singleType)) {
            return hf;
        }
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) {
            return new HfConfig(hf.file(), null);
        }
        if (!e.isJsonObject()) {
            throw new LitException(hf.file() + ": field '" + name + "' should be an object, got " + e);
        }
        return new HfConfig(hf.file(), e.getAsJsonObject());
    }

    /** A size from the config when it has one, which must then be the file's. */
    private static int size(HfConfig c, String field, int fromFile, ArraySource src, String key) {
        int v = c.intOr(field, fromFile);
        if (v != fromFile) {
            throw new CheckpointException(src.file(), key, c.file().getFileName() + " says " + field + " " + v + " but the array "
                    + src.info(key).shapeString() + " has " + fromFile);
        }
        return v;
    }

    /** The published SigLIP widths and their head counts (64-wide heads except So400m's 1152 / 16 and g's 1536 / 16). */
    private static final Map<Integer, Integer> HEADS = Map.of(768, 12, 1024, 16, 1152, 16, 1536, 16);

    private static int heads(HfConfig c, int width) {
        return c.intOr("num_attention_heads", HEADS.getOrDefault(width, Math.max(1, width / 64)));
    }

    private static float eps(HfConfig c) {
        return c.json() != null && c.json().has("layer_norm_eps") ? c.epsOr() : 1e-6f;
    }

    private static Gelu gelu(HfConfig c) {
        return c.json() != null && c.json().has("hidden_act") ? c.geluOr() : Gelu.TANH;
    }

    static TwoTowerConfig inferConfig(ArraySource src) {
        HfConfig hf = HfConfig.beside(src.file());
        ViTConfig img = null;
        TextTransformerConfig txt = null;
        if (src.contains(PATCH)) {
            HfConfig c = sub(hf, "vision_config", "siglip_vision_model");
            if (!src.contains(V + "head.probe")) {
                throw new CheckpointException(src.file(), V + "head.probe", "missing: lit4j reads SigLIP vision towers with their"
                        + " attention-pooling head (vision_use_head true)");
            }
            Dims k = Dims.of(src, PATCH, "[D, C, P, P]");
            if (k.size(2) != k.size(3)) {
                throw new CheckpointException(src.file(), PATCH, "expected a square patch kernel [D, C, P, P], got " + src.info(PATCH).shapeString());
            }
            int width = size(c, "hidden_size", k.size(0), src, PATCH);
            int channels = size(c, "num_channels", k.size(1), src, PATCH);
            int patch = size(c, "patch_size", k.size(2), src, PATCH);
            String pe = V + "embeddings.position_embedding.weight";
            long n = Dims.of(src, pe, "[N, D]").size(0);
            int grid = (int) Math.round(Math.sqrt(n));
            if ((long) grid * grid != n) {
                throw new CheckpointException(src.file(), pe, n + " position embeddings do not make a square patch grid");
            }
            int said = c.intOr("image_size", grid * patch);
            if (said / patch != grid) {
                throw new CheckpointException(src.file(), pe, c.file().getFileName() + " says image_size " + said + " but the "
                        + n + " position embeddings make a " + grid + "x" + grid + " grid of " + patch + "-pixel patches");
            }
            // So400m/14 at 384: the stride-14 conv leaves the last 384 - 27 * 14 = 6 pixels unused; lit4j's input is the 378 it reads
            int imageSize = grid * patch;
            String fc1 = V + "encoder.layers.0.mlp.fc1.weight";
            int mlp = size(c, "intermediate_size", Dims.of(src, fc1, "[M, D]").size(0), src, fc1);
            int depth = size(c, "num_hidden_layers", BlockCount.encoderLayers(src, V + "encoder.layers."), src, V + "encoder.layers.0.layer_norm1.weight");
            img = new ViTConfig(imageSize, patch, channels, width, depth, heads(c, width), mlp, ViTConfig.Pooling.MAP, eps(c),
                    gelu(c), 0);
        }
        if (src.contains(WORDS)) {
            HfConfig c = sub(hf, "text_config", "siglip_text_model");
            Dims tok = Dims.of(src, WORDS, "[V, D]");
            int vocab = size(c, "vocab_size", tok.size(0), src, WORDS);
            int width = size(c, "hidden_size", tok.size(1), src, WORDS);
            String pe = T + "embeddings.position_embedding.weight";
            int positions = size(c, "max_position_embeddings", Dims.of(src, pe, "[L, D]").size(0), src, pe);
            String fc1 = T + "encoder.layers.0.mlp.fc1.weight";
            int mlp = size(c, "intermediate_size", Dims.of(src, fc1, "[M, D]").size(0), src, fc1);
            int depth = size(c, "num_hidden_layers", BlockCount.encoderLayers(src, T + "encoder.layers."), src, T + "encoder.layers.0.layer_norm1.weight");
            int head = 0;
            if (src.contains(T + "head.weight")) {
                head = size(c, "projection_size", Dims.of(src, T + "head.weight", "[E, D]").size(0), src, T + "head.weight");
            }
            txt = new TextTransformerConfig(vocab, positions, width, depth, heads(c, width), mlp, TextTransformerConfig.Pooling.LAST,
                    eps(c), gelu(c), head);
        }
        if (img == null && txt == null) {
            throw new CheckpointException(src.file(), "not a HuggingFace SigLIP file (no " + PATCH + " or " + WORDS + ")");
        }
        boolean pair = img != null && txt != null;
        if (pair && (!src.contains("logit_scale") || !src.contains("logit_bias"))) {
            throw new CheckpointException(src.file(), src.contains("logit_scale") ? "logit_bias" : "logit_scale",
                    "missing: a two-tower SigLIP file carries logit_scale and logit_bias");
        }
        return new TwoTowerConfig(img, txt, TwoTowerConfig.Loss.SIGMOID);
    }

    /** A torch Linear weight [out, in] as lit4j's kernel [in, out]. */
    private static Arr kernel(Reader r, String key) {
        return r.read(key).transpose();
    }

    private static void linear(WeightMap map, String lit, String hf) {
        map.put(lit + ".kernel", r -> kernel(r, hf + ".weight"));
        map.copy(lit + ".bias", hf + ".bias");
    }

    private static void layerNorm(WeightMap map, String lit, String hf) {
        map.copy(lit + ".scale", hf + ".weight");
        map.copy(lit + ".bias", hf + ".bias");
    }

    /** transformers' SiglipEncoderLayer {@code s} as lit4j's pre-LN block {@code b}. */
    private static void layers(WeightMap map, String lit, String hf, int depth) {
        for (int i = 0; i < depth; i++) {
            String s = hf + "encoder.layers." + i + ".";
            String b = lit + ".blocks." + i + ".";
            String a = s + "self_attn.";
            layerNorm(map, b + "ln1", s + "layer_norm1");
            map.put(b + "attn.qkv.kernel", r -> Arr.concatLast(kernel(r, a + "q_proj.weight"), kernel(r, a + "k_proj.weight"),
                    kernel(r, a + "v_proj.weight")));
            map.put(b + "attn.qkv.bias", r -> Arr.concatLast(r.read(a + "q_proj.bias"), r.read(a + "k_proj.bias"), r.read(a + "v_proj.bias")));
            linear(map, b + "attn.out", a + "out_proj");
            layerNorm(map, b + "ln2", s + "layer_norm2");
            linear(map, b + "mlp.fc1", s + "mlp.fc1");
            linear(map, b + "mlp.fc2", s + "mlp.fc2");
        }
    }

    static WeightMap weightMap(TwoTowerConfig cfg, ArraySource src) {
        WeightMap map = new WeightMap();
        if (cfg.hasImage()) {
            ViTConfig c = cfg.image();
            if (c.pool() != ViTConfig.Pooling.MAP || c.headDim() != 0) {
                throw new LitException(src.file() + ": a HuggingFace SigLIP vision tower pools by its MAP head and has no linear head;"
                        + " the config must say pool 'map', head_dim 0");
            }
            map.put("img.patch.kernel", r -> {
                Arr w = r.read(PATCH).permute(2, 3, 1, 0); // [D,C,P,P] -> [P(row),P(col),C,D]
                return w.reshape(w.data().length / w.dim(-1), w.dim(-1));
            });
            map.copy("img.patch.bias", V + "embeddings.patch_embedding.bias");
            map.copy("img.pos", V + "embeddings.position_embedding.weight");
            layers(map, "img", V, c.depth());
            layerNorm(map, "img.norm", V + "post_layernorm");
            String h = V + "head.";
            map.put("img.map.probe", r -> BigVisionFormat.flat(r.read(h + "probe")));
            map.put("img.map.attn.qkv.kernel", r -> kernel(r, h + "attention.in_proj_weight")); // [3D, D]: q, k, v rows
            map.copy("img.map.attn.qkv.bias", h + "attention.in_proj_bias");
            linear(map, "img.map.attn.out", h + "attention.out_proj");
            layerNorm(map, "img.map.ln", h + "layernorm");
            linear(map, "img.map.mlp.fc1", h + "mlp.fc1");
            linear(map, "img.map.mlp.fc2", h + "mlp.fc2");
        }
        if (cfg.hasText()) {
            if (!(cfg.text() instanceof TextTransformerConfig tc) || tc.pool() != TextTransformerConfig.Pooling.LAST) {
                throw new LitException(src.file() + ": a HuggingFace SigLIP text tower is a text transformer pooled at its last token");
            }
            map.copy("txt.tok", WORDS);
            map.copy("txt.pos", T + "embeddings.position_embedding.weight");
            layers(map, "txt", T, tc.depth());
            layerNorm(map, "txt.norm", T + "final_layer_norm");
            if (tc.headDim() > 0) {
                linear(map, "txt.head", T + "head");
            }
        }
        if (cfg.hasImage() && cfg.hasText()) {
            map.copy("t", "logit_scale");
            if (cfg.loss() == TwoTowerConfig.Loss.SIGMOID) {
                map.copy("b", "logit_bias");
            }
        }
        map.ignore(k -> k.endsWith("embeddings.position_ids"), "the position_ids buffers older transformers saved");
        return map;
    }
}

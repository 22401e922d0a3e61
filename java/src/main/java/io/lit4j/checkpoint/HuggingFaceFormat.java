package io.lit4j.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.checkpoint.WeightMap.Arr;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.BertConfig;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * HuggingFace safetensors of a single tower: {@code ViTModel} ({@code google/vit-*} names) or
 * {@code BertModel} ({@code bert-base-uncased} names), with or without the {@code vit.} /
 * {@code bert.} prefix. Linear weights are {@code [out, in]} there and are transposed; the
 * patch conv {@code [D, C, P, P]} becomes lit4j's {@code [(P, P, C), D]}. HF numerics (eps 1e-12,
 * exact GELU) unless the {@code config.json} beside the file says otherwise. The pooler, the MLM
 * and NSP heads and an image classifier are known and skipped. SigLIP files go to {@link HfSiglipFormat}.
 */
final class HuggingFaceFormat {
    private HuggingFaceFormat() {
    }

    private static final String VIT_PATCH = "embeddings.patch_embeddings.projection.weight";
    private static final String BERT_WORDS = "embeddings.word_embeddings.weight";

    /** "vit." or "" when the file is a ViT; null otherwise. */
    static String vitPrefix(ArraySource src) {
        return src.contains("vit." + VIT_PATCH) ? "vit." : src.contains(VIT_PATCH) ? "" : null;
    }

    static String bertPrefix(ArraySource src) {
        return src.contains("bert." + BERT_WORDS) ? "bert." : src.contains(BERT_WORDS) ? "" : null;
    }

    static boolean looksLike(ArraySource src) {
        return HfSiglipFormat.looksLike(src) || vitPrefix(src) != null || bertPrefix(src) != null;
    }

    /**
     * One object of a HF {@code config.json} (the top level, or a sub-section such as
     * {@code vision_config}, whose fields messages name with {@code name} in front, e.g.
     * {@code "vision_config."}); {@code json} null: every value has its default. Values are read
     * strictly: a mistyped one is an error naming the file and the field.
     */
    record HfConfig(Path file, String name, JsonObject json) {
        /** The top level of {@code file}. */
        HfConfig(Path file, JsonObject json) {
            this(file, "", json);
        }

        /** The config.json beside the weights, kept only when it says a {@code model_type} (absent: all defaults). */
        static HfConfig beside(Path weights) {
            Path cfg = weights.toAbsolutePath().getParent().resolve("config.json");
            if (!Files.isRegularFile(cfg)) {
                return new HfConfig(cfg, null);
            }
            JsonObject o = readObject(cfg, "");
            return new HfConfig(cfg, o.has("model_type") ? o : null);
        }

        /** The JSON object in {@code cfg}; {@code kind} (" CLIP", or "") names the config in the error. */
        static JsonObject readObject(Path cfg, String kind) {
            try {
                JsonElement e = JsonParser.parseString(Files.readString(cfg));
                if (!e.isJsonObject()) {
                    throw new LitException(cfg + ": expected a JSON object (a HuggingFace" + kind + " config)");
                }
                return e.getAsJsonObject();
            } catch (LitException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new LitException(cfg + ": cannot read the HuggingFace config: " + e.getMessage(), e);
            }
        }

        private JsonPrimitive value(String key, boolean number, String expected) {
            if (json == null || !json.has(key) || json.get(key).isJsonNull()) {
                return null;
            }
            JsonElement e = json.get(key);
            if (!e.isJsonPrimitive() || e.getAsJsonPrimitive().isNumber() != number
                    || (!number && !e.getAsJsonPrimitive().isString())) {
                throw new LitException(file + ": field '" + name + key + "' should be " + expected + ", got " + e);
            }
            return e.getAsJsonPrimitive();
        }

        int intOr(String key, int dflt) {
            JsonPrimitive p = value(key, true, "a whole number");
            if (p == null) {
                return dflt;
            }
            double d = p.getAsDouble();
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new LitException(file + ": field '" + name + key + "' should be a whole number that fits an int, got " + p);
            }
            return (int) d;
        }

        String stringOr(String key, String dflt) {
            JsonPrimitive p = value(key, false, "a string");
            return p == null ? dflt : p.getAsString();
        }

        /** {@code layer_norm_eps}, 1e-12 (BERT's and ViT's default) when absent. */
        float epsOr() {
            return epsOr(1e-12f);
        }

        float epsOr(float dflt) {
            JsonPrimitive p = value("layer_norm_eps", true, "a number");
            return p == null ? dflt : p.getAsFloat();
        }

        /** {@code hidden_act}, exact GELU (BERT's and ViT's default) when absent. */
        Gelu geluOr() {
            return geluOr(Gelu.ERF, "a string (gelu, gelu_new, ...)");
        }

        /** {@code hidden_act}, {@code dflt} when absent; {@code expected} says in an error what it should be. */
        Gelu geluOr(Gelu dflt, String expected) {
            JsonPrimitive p = value("hidden_act", false, expected);
            if (p == null) {
                return dflt;
            }
            try {
                return Gelu.parse(p.getAsString());
            } catch (LitException e) {
                throw new LitException(file + ": field '" + name + "hidden_act': " + e.getMessage(), e);
            }
        }

        /** The sub-object {@code key} (or, in configs written by old transformers, {@code key_dict}); null when absent. */
        HfConfig sub(String key) {
            for (String k : new String[] {key, key + "_dict"}) {
                if (json != null && json.has(k) && !json.get(k).isJsonNull()) {
                    if (!json.get(k).isJsonObject()) {
                        throw new LitException(file + ": field '" + name + k + "' should be an object, got " + json.get(k));
                    }
                    return new HfConfig(file, name + k + ".", json.getAsJsonObject(k));
                }
            }
            return null;
        }
    }

    static TwoTowerConfig inferConfig(ArraySource src) {
        if (HfSiglipFormat.looksLike(src)) {
            return HfSiglipFormat.inferConfig(src);
        }
        HfConfig hf = HfConfig.beside(src.file());
        String vp = vitPrefix(src);
        if (vp != null) {
            Dims k = Dims.of(src, vp + VIT_PATCH, "[D, C, P, P]");
            int width = k.size(0), channels = k.size(1), patch = k.size(2);
            long tokens = Dims.of(src, vp + "embeddings.position_embeddings", "[1, N, D]").size(1);
            int grid = (int) Math.round(Math.sqrt(tokens - 1));
            int mlp = Dims.of(src, vp + "encoder.layer.0.intermediate.dense.weight", "[M, D]").size(0);
            ViTConfig c = new ViTConfig(hf.intOr("image_size", grid * patch), hf.intOr("patch_size", patch),
                    hf.intOr("num_channels", channels), hf.intOr("hidden_size", width), hf.intOr("num_hidden_layers", BlockCount.encoderLayers(src, vp + "encoder.layer.")),
                    hf.intOr("num_attention_heads", Math.max(1, width / 64)), hf.intOr("intermediate_size", mlp),
                    ViTConfig.Pooling.TOK, hf.epsOr(), hf.geluOr(), 0);
            return new TwoTowerConfig(c, null, TwoTowerConfig.Loss.SOFTMAX);
        }
        String bp = bertPrefix(src);
        if (bp != null) {
            Dims tok = Dims.of(src, bp + BERT_WORDS, "[V, D]");
            int positions = Dims.of(src, bp + "embeddings.position_embeddings.weight", "[P, D]").size(0);
            int types = Dims.of(src, bp + "embeddings.token_type_embeddings.weight", "[T, D]").size(0);
            int width = tok.size(1);
            int mlp = Dims.of(src, bp + "encoder.layer.0.intermediate.dense.weight", "[M, D]").size(0);
            int maxPos = hf.intOr("max_position_embeddings", positions);
            BertConfig c = new BertConfig(hf.intOr("vocab_size", tok.size(0)), maxPos, hf.intOr("type_vocab_size", types),
                    Math.min(16, maxPos), hf.intOr("hidden_size", width), hf.intOr("num_hidden_layers", BlockCount.encoderLayers(src, bp + "encoder.layer.")),
                    hf.intOr("num_attention_heads", Math.max(1, width / 64)), hf.intOr("intermediate_size", mlp), hf.epsOr(),
                    hf.geluOr(), 0);
            return new TwoTowerConfig(null, c, TwoTowerConfig.Loss.SOFTMAX);
        }
        throw new CheckpointException(src.file(), "not a HuggingFace ViTModel or BertModel (no " + VIT_PATCH + " or " + BERT_WORDS + ")");
    }

    /** A torch Linear weight [out, in] as lit4j's kernel [in, out]. */
    private static Arr kernel(WeightMap.Reader r, String key) {
        return r.read(key).transpose();
    }

    /** LayerNorm weight, under its modern ("weight") or TF-era ("gamma") name. */
    private static String lnScale(WeightMap.Reader r, String prefix) {
        return r.has(prefix + "gamma") ? prefix + "gamma" : prefix + "weight";
    }

    private static String lnBias(WeightMap.Reader r, String prefix) {
        return r.has(prefix + "beta") ? prefix + "beta" : prefix + "bias";
    }

    private static void attention(WeightMap map, String lit, String self, String out) {
        map.put(lit + "attn.qkv.kernel", r -> Arr.concatLast(kernel(r, self + "query.weight"), kernel(r, self + "key.weight"),
                kernel(r, self + "value.weight")));
        map.put(lit + "attn.qkv.bias", r -> Arr.concatLast(r.read(self + "query.bias"), r.read(self + "key.bias"), r.read(self + "value.bias")));
        map.put(lit + "attn.out.kernel", r -> kernel(r, out + "weight"));
        map.copy(lit + "attn.out.bias", out + "bias");
    }

    /** The MLP of an HF encoder layer {@code s} ("intermediate" then "output") as lit4j block {@code lit}'s fc1 and fc2. */
    private static void mlp(WeightMap map, String lit, String s) {
        map.put(lit + "mlp.fc1.kernel", r -> kernel(r, s + "intermediate.dense.weight"));
        map.copy(lit + "mlp.fc1.bias", s + "intermediate.dense.bias");
        map.put(lit + "mlp.fc2.kernel", r -> kernel(r, s + "output.dense.weight"));
        map.copy(lit + "mlp.fc2.bias", s + "output.dense.bias");
    }

    private static void layerNorm(WeightMap map, String lit, String prefix) {
        map.put(lit + ".scale", r -> r.read(lnScale(r, prefix)));
        map.put(lit + ".bias", r -> r.read(lnBias(r, prefix)));
    }

    static WeightMap weightMap(TwoTowerConfig cfg, ArraySource src) {
        if (HfSiglipFormat.looksLike(src)) {
            return HfSiglipFormat.weightMap(cfg, src);
        }
        WeightMap map = new WeightMap();
        String vp = vitPrefix(src);
        if (vp != null) {
            if (!cfg.hasImage() || cfg.hasText()) {
                throw new LitException(src.file() + ": a HuggingFace ViT file holds one image tower; the config must have only an image tower");
            }
            ViTConfig c = cfg.image();
            int n = c.numPatches();
            map.put("img.patch.kernel", r -> {
                Arr w = r.read(vp + VIT_PATCH).permute(2, 3, 1, 0); // [D,C,P,P] -> [P(row),P(col),C,D]
                return w.reshape(w.data().length / w.dim(-1), w.dim(-1));
            });
            map.copy("img.patch.bias", vp + "embeddings.patch_embeddings.projection.bias");
            map.put("img.pos", r -> r.read(vp + "embeddings.position_embeddings").squeezeLeading(2).index0Range(1, n + 1));
            map.put("img.cls", r -> { // HF adds posemb after prepending CLS: fold slot 0 into the token
                float[] cls = r.read(vp + "embeddings.cls_token").data().clone();
                float[] pe = r.read(vp + "embeddings.position_embeddings").data();
                for (int i = 0; i < cls.length; i++) {
                    cls[i] += pe[i];
                }
                return new Arr(new long[] {cls.length}, cls);
            });
            for (int i = 0; i < c.depth(); i++) {
                String s = vp + "encoder.layer." + i + ".";
                String b = "img.blocks." + i + ".";
                layerNorm(map, b + "ln1", s + "layernorm_before.");
                attention(map, b, s + "attention.attention.", s + "attention.output.dense.");
                layerNorm(map, b + "ln2", s + "layernorm_after.");
                mlp(map, b, s);
            }
            layerNorm(map, "img.norm", vp + "layernorm.");
            map.ignore(k -> k.startsWith(vp + "pooler.") || k.startsWith("classifier."), "HF pooler / classifier (LiT uses its own head)");
            return map;
        }
        String bp = bertPrefix(src);
        if (bp == null) {
            throw new CheckpointException(src.file(), "not a HuggingFace ViTModel or BertModel");
        }
        if (!cfg.hasText() || cfg.hasImage() || !(cfg.text() instanceof BertConfig bc)) {
            throw new LitException(src.file() + ": a HuggingFace BERT file holds one BERT text tower; the config must have only that");
        }
        map.copy("txt.tok", bp + BERT_WORDS);
        map.copy("txt.pos", bp + "embeddings.position_embeddings.weight");
        map.copy("txt.type", bp + "embeddings.token_type_embeddings.weight");
        layerNorm(map, "txt.emb_norm", bp + "embeddings.LayerNorm.");
        for (int i = 0; i < bc.depth(); i++) {
            String s = bp + "encoder.layer." + i + ".";
            String b = "txt.blocks." + i + ".";
            attention(map, b, s + "attention.self.", s + "attention.output.dense.");
            layerNorm(map, b + "ln1", s + "attention.output.LayerNorm.");
            mlp(map, b, s);
            layerNorm(map, b + "ln2", s + "output.LayerNorm.");
        }
        map.ignore(k -> k.startsWith(bp + "pooler.") || k.startsWith("cls.") || k.equals(bp + "embeddings.position_ids"),
                "BERT pooler, MLM/NSP heads and the position_ids buffer (LiT pools [CLS] into its own head)");
        return map;
    }
}

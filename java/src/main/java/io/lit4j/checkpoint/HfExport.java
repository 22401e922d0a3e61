package io.lit4j.checkpoint;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.checkpoint.WeightMap.Arr;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.BertConfig;
import io.lit4j.model.ClipTextConfig;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TextTransformerConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;
import io.lit4j.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a lit4j model back as HuggingFace safetensors + {@code config.json} (+ the tokenizer and
 * {@code preprocessor_config.json}), for the towers transformers has a class for, so a model
 * tuned by lit4j can be used elsewhere. The key names and layouts are the inverse of the
 * loaders' ({@link HfClipFormat}, {@link HfSiglipFormat}, {@link HuggingFaceFormat}), which read
 * the result back to the same embeddings bit for bit; {@code make_hf_export_golden.py} holds the
 * written files to a transcription of transformers' forwards.
 *
 * <p>Which class each lit4j tower becomes:
 * <ul>
 *   <li>a CLIP-layout ViT: {@code CLIPVisionModel(WithProjection)} ({@code vision_model.*},
 *       {@code visual_projection});</li>
 *   <li>a CLIP text tower: {@code CLIPTextModel(WithProjection)} ({@code text_model.*}, {@code text_projection});</li>
 *   <li>a MAP-pooled ViT without a linear head: {@code SiglipVisionModel} (the MAP head's q, k, v
 *       packed into torch's {@code in_proj_weight});</li>
 *   <li>big_vision's text transformer pooled at its last token: {@code SiglipTextModel} (same
 *       math: no causal mask, last token, a linear head with bias; a tower without a head gets an
 *       identity {@code head}, which changes nothing but makes the file complete for transformers);</li>
 *   <li>a CLS-pooled big_vision ViT without a head: {@code ViTModel} (its embedding is
 *       {@code last_hidden_state[:, 0]}, not {@code pooler_output});</li>
 *   <li>a BERT pooled at [CLS] without a head: {@code BertModel} (embedding {@code last_hidden_state[:, 0]}).</li>
 * </ul>
 * lit4j adds position embeddings to the patches before prepending the CLS token, HF after: the
 * written position row 0 is zero and the CLS token is lit4j's, which HF adds to it exactly.
 *
 * <p>Refused, each with a message saying why: a big_vision ViT with a linear head or GAP pooling
 * (ViTModel has no linear head with bias, its pooler is dense + tanh, and it always has a CLS
 * token), a MAP-pooled ViT with a linear head, text transformers pooled other than at the last
 * token, a BERT with a head or mean pooling (sentence-transformers' Pooling module, not a
 * transformers class). Two towers of one family (CLIP + CLIP, SigLIP + SigLIP) are one
 * {@code CLIPModel} / {@code SiglipModel} folder with {@code logit_scale} (and {@code logit_bias});
 * towers of different families have no two-tower HF class, so each goes into its own folder,
 * {@code image/} and {@code text/}, and the temperature is not carried.
 */
public final class HfExport {
    private HfExport() {
    }

    /** The transformers class family a tower is written as. */
    enum Family { CLIP, SIGLIP, VIT, BERT }

    /** What was written: the HF folders (relative to the output, "" for the output itself) and what is not carried. */
    public record Written(List<String> folders, List<String> notes) {
    }

    /** Writes {@code model} (and {@code tokenizer}, for the text tower) as HF folders at {@code dir}, atomically. */
    public static Written save(TwoTower model, Path dir, Path tokenizer) {
        return save(model, dir, tokenizer, null);
    }

    /** As {@link #save(TwoTower, Path, Path)}; a SentencePiece tokenizer goes with a conventions file saying {@code conventions} (when given). */
    public static Written save(TwoTower model, Path dir, Path tokenizer, TextTokenizer.Conventions conventions) {
        TwoTowerConfig cfg = model.config();
        Family img = cfg.hasImage() ? family(cfg.image()) : null;
        Family txt = cfg.hasText() ? family(cfg.text()) : null;
        List<String> notes = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        Values v = new Values(model);
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, true); Arena arena = Arena.ofConfined()) {
            if (img != null && txt != null && img == txt) {
                Map<String, Arr> w = new LinkedHashMap<>();
                JsonObject root = new JsonObject();
                if (img == Family.CLIP) {
                    root.addProperty("model_type", "clip");
                    root.add("architectures", names("CLIPModel"));
                    root.addProperty("projection_dim", cfg.embedDim());
                    root.add("vision_config", clipVision(cfg.image(), v, w, false));
                    root.add("text_config", clipText((ClipTextConfig) cfg.text(), v, w, false));
                    w.put("logit_scale", v.get("t").reshape());
                } else {
                    root.addProperty("model_type", "siglip");
                    root.add("architectures", names("SiglipModel"));
                    root.add("vision_config", siglipVision(cfg.image(), v, w, false));
                    root.add("text_config", siglipText((TextTransformerConfig) cfg.text(), v, w, false));
                    w.put("logit_scale", v.get("t"));
                    w.put("logit_bias", cfg.loss() == TwoTowerConfig.Loss.SIGMOID ? v.get("b") : new Arr(new long[] {1}, new float[1]));
                    if (cfg.loss() != TwoTowerConfig.Loss.SIGMOID) {
                        notes.add("the model was tuned with the softmax loss: logit_bias is written as 0 (SigLIP's sigmoid logits need a tuned bias)");
                    }
                }
                write(folder, "", root, w, arena);
                preprocess(folder, "", model);
                tokenizer(folder, "", tokenizer, conventions);
                folders.add("");
            } else {
                boolean split = img != null && txt != null;
                if (split) {
                    notes.add("no HuggingFace class holds a " + img.name().toLowerCase() + " image tower with a " + txt.name().toLowerCase()
                            + " text tower: each is written alone (image/, text/) and the temperature t = " + v.get("t").data()[0]
                            + " is not carried");
                }
                if (img != null) {
                    String sub = split ? "image/" : "";
                    Map<String, Arr> w = new LinkedHashMap<>();
                    JsonObject c = switch (img) {
                        case CLIP -> clipVision(cfg.image(), v, w, true);
                        case SIGLIP -> siglipVision(cfg.image(), v, w, true);
                        default -> vit(cfg.image(), v, w);
                    };
                    write(folder, sub, c, w, arena);
                    preprocess(folder, sub, model);
                    folders.add(split ? "image" : "");
                }
                if (txt != null) {
                    String sub = split ? "text/" : "";
                    Map<String, Arr> w = new LinkedHashMap<>();
                    JsonObject c = switch (txt) {
                        case CLIP -> clipText((ClipTextConfig) cfg.text(), v, w, true);
                        case SIGLIP -> siglipText((TextTransformerConfig) cfg.text(), v, w, true);
                        default -> bert((BertConfig) cfg.text(), v, w);
                    };
                    write(folder, sub, c, w, arena);
                    tokenizer(folder, sub, tokenizer, conventions);
                    folders.add(split ? "text" : "");
                }
            }
            folder.commit();
        } catch (IOException e) {
            throw new LitException("cannot write the HuggingFace model to " + dir + ": " + e.getMessage(), e);
        }
        return new Written(List.copyOf(folders), List.copyOf(notes));
    }

    // ------------------------------------------------------------------ which class

    static Family family(ViTConfig c) {
        if (c.layout() == ViTConfig.Layout.CLIP) {
            return Family.CLIP;
        }
        if (c.pool() == ViTConfig.Pooling.MAP) {
            if (c.headDim() > 0) {
                throw new LitException("image tower: a MAP-pooled ViT with a linear head (head_dim " + c.headDim() + ") has no HuggingFace"
                        + " class (SigLIP's vision tower ends at its MAP head)");
            }
            return Family.SIGLIP;
        }
        if (c.pool() != ViTConfig.Pooling.TOK) {
            throw new LitException("image tower: a " + c.pool().name().toLowerCase() + "-pooled ViT has no HuggingFace class (ViTModel"
                    + " always has a CLS token and pools by it)");
        }
        if (c.headDim() > 0) {
            throw new LitException("image tower: HuggingFace's ViTModel has no linear head (its pooler is dense + tanh), so this ViT's"
                    + " head (head_dim " + c.headDim() + ") cannot be written; towers HF has: CLIP, SigLIP, a ViT without a head");
        }
        return Family.VIT;
    }

    static Family family(TextConfig t) {
        return switch (t) {
            case ClipTextConfig c -> Family.CLIP;
            case TextTransformerConfig c -> {
                if (c.pool() != TextTransformerConfig.Pooling.LAST) {
                    throw new LitException("text tower: a text transformer pooled at its " + c.pool().name().toLowerCase() + " token has no"
                            + " HuggingFace class (SiglipTextModel, the same transformer, pools the last token)");
                }
                yield Family.SIGLIP;
            }
            case BertConfig c -> {
                if (c.pool() != BertConfig.Pooling.FIRST) {
                    throw new LitException("text tower: a mean-pooled BERT is sentence-transformers' Pooling module over BertModel,"
                            + " which lit4j does not write (BertModel itself has no mean pooling)");
                }
                if (c.headDim() > 0) {
                    throw new LitException("text tower: HuggingFace's BertModel has no linear head (its pooler is dense + tanh), so this"
                            + " BERT's head (head_dim " + c.headDim() + ") cannot be written");
                }
                yield Family.BERT;
            }
        };
    }

    // ------------------------------------------------------------------ towers: weights and config

    /** The model's parameter values on the host, by lit4j name. */
    private record Values(TwoTower model) {
        Arr get(String name) {
            Tensor t = model.params().get(name);
            long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
            return new Arr(shape, model.backend().download(t));
        }
    }

    /** A lit4j kernel [in, out] as a torch Linear weight [out, in]. */
    private static Arr weight(Values v, String kernel) {
        return v.get(kernel).transpose();
    }

    /** The patch kernel [(P, P, C), D] as the conv weight [D, C, P, P]. */
    private static Arr patch(ViTConfig c, Values v) {
        return v.get("img.patch.kernel").reshape(c.patchSize(), c.patchSize(), c.channels(), c.width()).permute(3, 2, 0, 1);
    }

    /** {@code img.pos} with a zero row 0 for the CLS token ({@link HfExport}'s class comment), as [1 + N, D]. */
    private static Arr positionsWithCls(Values v) {
        Arr pos = v.get("img.pos");
        float[] out = new float[(int) (pos.dim(1) + pos.data().length)];
        System.arraycopy(pos.data(), 0, out, (int) pos.dim(1), pos.data().length);
        return new Arr(new long[] {pos.dim(0) + 1, pos.dim(1)}, out);
    }

    /** An identity Linear [d, d] and a zero bias: the head of a tower that has none. */
    private static Arr identity(int d) {
        float[] w = new float[d * d];
        for (int i = 0; i < d; i++) {
            w[i * d + i] = 1;
        }
        return new Arr(new long[] {d, d}, w);
    }

    private static void layerNorm(Map<String, Arr> w, String hf, Values v, String lit) {
        w.put(hf + "weight", v.get(lit + ".scale"));
        w.put(hf + "bias", v.get(lit + ".bias"));
    }

    /** A pre-LN block as CLIP's and SigLIP's encoder layer {@code s} (the same names in both). */
    private static void clipStyleLayer(Map<String, Arr> w, String s, Values v, String b, int width) {
        layerNorm(w, s + "layer_norm1.", v, b + "ln1");
        Arr qkv = weight(v, b + "attn.qkv.kernel");
        Arr qkvBias = v.get(b + "attn.qkv.bias");
        String[] n = {"q_proj", "k_proj", "v_proj"};
        for (int i = 0; i < 3; i++) {
            w.put(s + "self_attn." + n[i] + ".weight", qkv.index0Range(i * width, (i + 1) * width));
            w.put(s + "self_attn." + n[i] + ".bias", qkvBias.index0Range(i * width, (i + 1) * width));
        }
        w.put(s + "self_attn.out_proj.weight", weight(v, b + "attn.out.kernel"));
        w.put(s + "self_attn.out_proj.bias", v.get(b + "attn.out.bias"));
        layerNorm(w, s + "layer_norm2.", v, b + "ln2");
        w.put(s + "mlp.fc1.weight", weight(v, b + "mlp.fc1.kernel"));
        w.put(s + "mlp.fc1.bias", v.get(b + "mlp.fc1.bias"));
        w.put(s + "mlp.fc2.weight", weight(v, b + "mlp.fc2.kernel"));
        w.put(s + "mlp.fc2.bias", v.get(b + "mlp.fc2.bias"));
    }

    /** The fields every HF encoder config has. */
    private static JsonObject encoder(String type, int width, int depth, int heads, int mlp, Gelu gelu, float eps) {
        JsonObject o = new JsonObject();
        o.addProperty("model_type", type);
        o.addProperty("hidden_size", width);
        o.addProperty("num_hidden_layers", depth);
        o.addProperty("num_attention_heads", heads);
        o.addProperty("intermediate_size", mlp);
        o.addProperty("hidden_act", hfAct(gelu));
        o.addProperty("layer_norm_eps", eps);
        return o;
    }

    /** transformers' ACT2FN name of a lit4j GELU. */
    static String hfAct(Gelu g) {
        return switch (g) {
            case TANH -> "gelu_pytorch_tanh";
            case ERF -> "gelu";
            case QUICK -> "quick_gelu";
        };
    }

    private static void image(JsonObject o, ViTConfig c) {
        o.addProperty("image_size", c.imageSize());
        o.addProperty("patch_size", c.patchSize());
        o.addProperty("num_channels", c.channels());
    }

    /** CLIPVisionTransformer's keys; {@code alone}: a CLIPVisionModel(WithProjection) config at the top level. */
    private static JsonObject clipVision(ViTConfig c, Values v, Map<String, Arr> w, boolean alone) {
        String p = HfClipFormat.V;
        w.put(p + "embeddings.class_embedding", v.get("img.cls"));
        w.put(p + "embeddings.patch_embedding.weight", patch(c, v));
        w.put(p + "embeddings.position_embedding.weight", positionsWithCls(v));
        layerNorm(w, p + "pre_layrnorm.", v, "img.pre_norm");
        for (int i = 0; i < c.depth(); i++) {
            clipStyleLayer(w, p + "encoder.layers." + i + ".", v, "img.blocks." + i + ".", c.width());
        }
        layerNorm(w, p + "post_layernorm.", v, "img.norm");
        if (c.headDim() > 0) {
            w.put("visual_projection.weight", weight(v, "img.head.kernel"));
        } else if (!alone) {
            w.put("visual_projection.weight", identity(c.width())); // CLIPModel always projects
        }
        JsonObject o = encoder("clip_vision_model", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        image(o, c);
        o.addProperty("projection_dim", c.outDim());
        if (alone) {
            o.add("architectures", names(c.headDim() > 0 ? "CLIPVisionModelWithProjection" : "CLIPVisionModel"));
        }
        return o;
    }

    private static JsonObject clipText(ClipTextConfig c, Values v, Map<String, Arr> w, boolean alone) {
        String p = HfClipFormat.T;
        clipStyleTextStem(w, p, v, c.depth(), c.width());
        if (c.headDim() > 0) {
            w.put("text_projection.weight", weight(v, "txt.head.kernel"));
        } else if (!alone) {
            w.put("text_projection.weight", identity(c.width()));
        }
        JsonObject o = encoder("clip_text_model", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("max_position_embeddings", c.contextLength());
        o.addProperty("eos_token_id", c.eosTokenId());
        o.addProperty("projection_dim", c.outDim());
        if (alone) {
            o.add("architectures", names(c.headDim() > 0 ? "CLIPTextModelWithProjection" : "CLIPTextModel"));
        }
        return o;
    }

    /** The text stem CLIP and SigLIP share: token and position embeddings, the layers, the final LayerNorm. */
    private static void clipStyleTextStem(Map<String, Arr> w, String p, Values v, int depth, int width) {
        w.put(p + "embeddings.token_embedding.weight", v.get("txt.tok"));
        w.put(p + "embeddings.position_embedding.weight", v.get("txt.pos"));
        for (int i = 0; i < depth; i++) {
            clipStyleLayer(w, p + "encoder.layers." + i + ".", v, "txt.blocks." + i + ".", width);
        }
        layerNorm(w, p + "final_layer_norm.", v, "txt.norm");
    }

    private static JsonObject siglipVision(ViTConfig c, Values v, Map<String, Arr> w, boolean alone) {
        String p = HfSiglipFormat.V;
        w.put(p + "embeddings.patch_embedding.weight", patch(c, v));
        w.put(p + "embeddings.patch_embedding.bias", v.get("img.patch.bias"));
        w.put(p + "embeddings.position_embedding.weight", v.get("img.pos"));
        for (int i = 0; i < c.depth(); i++) {
            clipStyleLayer(w, p + "encoder.layers." + i + ".", v, "img.blocks." + i + ".", c.width());
        }
        layerNorm(w, p + "post_layernorm.", v, "img.norm");
        String h = p + "head.";
        w.put(h + "probe", v.get("img.map.probe").reshape(1, 1, c.width()));
        w.put(h + "attention.in_proj_weight", weight(v, "img.map.attn.qkv.kernel")); // [3D, D]: q, k, v rows
        w.put(h + "attention.in_proj_bias", v.get("img.map.attn.qkv.bias"));
        w.put(h + "attention.out_proj.weight", weight(v, "img.map.attn.out.kernel"));
        w.put(h + "attention.out_proj.bias", v.get("img.map.attn.out.bias"));
        layerNorm(w, h + "layernorm.", v, "img.map.ln");
        w.put(h + "mlp.fc1.weight", weight(v, "img.map.mlp.fc1.kernel"));
        w.put(h + "mlp.fc1.bias", v.get("img.map.mlp.fc1.bias"));
        w.put(h + "mlp.fc2.weight", weight(v, "img.map.mlp.fc2.kernel"));
        w.put(h + "mlp.fc2.bias", v.get("img.map.mlp.fc2.bias"));
        JsonObject o = encoder("siglip_vision_model", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        image(o, c);
        if (alone) {
            o.add("architectures", names("SiglipVisionModel"));
        }
        return o;
    }

    private static JsonObject siglipText(TextTransformerConfig c, Values v, Map<String, Arr> w, boolean alone) {
        String p = HfSiglipFormat.T;
        clipStyleTextStem(w, p, v, c.depth(), c.width());
        if (c.headDim() > 0) {
            w.put(p + "head.weight", weight(v, "txt.head.kernel"));
            w.put(p + "head.bias", v.get("txt.head.bias"));
        } else { // SiglipTextTransformer always has a head: an identity one changes nothing
            w.put(p + "head.weight", identity(c.width()));
            w.put(p + "head.bias", new Arr(new long[] {c.width()}, new float[c.width()]));
        }
        JsonObject o = encoder("siglip_text_model", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("max_position_embeddings", c.contextLength());
        o.addProperty("projection_size", c.outDim());
        if (alone) {
            o.add("architectures", names("SiglipTextModel"));
        }
        return o;
    }

    /** ViTModel's keys (no "vit." prefix, no pooler: the embedding is the CLS token's output). */
    private static JsonObject vit(ViTConfig c, Values v, Map<String, Arr> w) {
        w.put("embeddings.cls_token", v.get("img.cls").reshape(1, 1, c.width()));
        Arr pos = positionsWithCls(v);
        w.put("embeddings.position_embeddings", pos.reshape(1, pos.dim(0), pos.dim(1)));
        w.put("embeddings.patch_embeddings.projection.weight", patch(c, v));
        w.put("embeddings.patch_embeddings.projection.bias", v.get("img.patch.bias"));
        for (int i = 0; i < c.depth(); i++) {
            String s = "encoder.layer." + i + ".", b = "img.blocks." + i + ".";
            layerNorm(w, s + "layernorm_before.", v, b + "ln1");
            bertStyleAttention(w, s + "attention.attention.", s + "attention.output.dense.", v, b, c.width());
            layerNorm(w, s + "layernorm_after.", v, b + "ln2");
            bertStyleMlp(w, s, v, b);
        }
        layerNorm(w, "layernorm.", v, "img.norm");
        JsonObject o = encoder("vit", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        image(o, c);
        o.addProperty("qkv_bias", true);
        o.add("architectures", names("ViTModel"));
        return o;
    }

    /** BertModel's keys (no "bert." prefix, no pooler). */
    private static JsonObject bert(BertConfig c, Values v, Map<String, Arr> w) {
        w.put("embeddings.word_embeddings.weight", v.get("txt.tok"));
        w.put("embeddings.position_embeddings.weight", v.get("txt.pos"));
        w.put("embeddings.token_type_embeddings.weight", v.get("txt.type"));
        layerNorm(w, "embeddings.LayerNorm.", v, "txt.emb_norm");
        for (int i = 0; i < c.depth(); i++) {
            String s = "encoder.layer." + i + ".", b = "txt.blocks." + i + ".";
            bertStyleAttention(w, s + "attention.self.", s + "attention.output.dense.", v, b, c.width());
            layerNorm(w, s + "attention.output.LayerNorm.", v, b + "ln1");
            bertStyleMlp(w, s, v, b);
            layerNorm(w, s + "output.LayerNorm.", v, b + "ln2");
        }
        JsonObject o = encoder("bert", c.width(), c.depth(), c.heads(), c.mlpDim(), c.gelu(), c.lnEps());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("max_position_embeddings", c.maxPosition());
        o.addProperty("type_vocab_size", c.typeVocabSize());
        o.addProperty("pad_token_id", 0);
        o.add("architectures", names("BertModel"));
        return o;
    }

    private static void bertStyleAttention(Map<String, Arr> w, String self, String out, Values v, String b, int width) {
        Arr qkv = weight(v, b + "attn.qkv.kernel");
        Arr qkvBias = v.get(b + "attn.qkv.bias");
        String[] n = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            w.put(self + n[i] + ".weight", qkv.index0Range(i * width, (i + 1) * width));
            w.put(self + n[i] + ".bias", qkvBias.index0Range(i * width, (i + 1) * width));
        }
        w.put(out + "weight", weight(v, b + "attn.out.kernel"));
        w.put(out + "bias", v.get(b + "attn.out.bias"));
    }

    private static void bertStyleMlp(Map<String, Arr> w, String s, Values v, String b) {
        w.put(s + "intermediate.dense.weight", weight(v, b + "mlp.fc1.kernel"));
        w.put(s + "intermediate.dense.bias", v.get(b + "mlp.fc1.bias"));
        w.put(s + "output.dense.weight", weight(v, b + "mlp.fc2.kernel"));
        w.put(s + "output.dense.bias", v.get(b + "mlp.fc2.bias"));
    }

    // ------------------------------------------------------------------ files

    private static JsonArray names(String... n) {
        JsonArray a = new JsonArray();
        for (String s : n) {
            a.add(s);
        }
        return a;
    }

    /** {@code config.json} and {@code model.safetensors} (fp32, metadata {"format": "pt"} as transformers writes) into {@code sub}. */
    private static void write(AtomicFolder folder, String sub, JsonObject config, Map<String, Arr> weights, Arena arena) {
        folder.writeString(sub + "config.json", new GsonBuilder().setPrettyPrinting().create().toJson(config) + "\n");
        List<HostArray> arrays = new ArrayList<>();
        weights.forEach((k, a) -> arrays.add(HostArray.ofFloats(k, a.shape(), a.data(), arena)));
        SafetensorsWriter.write(folder.resolve(sub + "model.safetensors"), new LinkedHashMap<>(Map.of("format", "pt")), arrays);
    }

    /** The image preprocessing as transformers' {@code preprocessor_config.json}. */
    private static void preprocess(AtomicFolder folder, String sub, TwoTower model) {
        folder.writeString(sub + PreprocessorConfig.FILE, PreprocessorConfig.toJson(model.preprocess()) + "\n");
    }

    private static void tokenizer(AtomicFolder folder, String sub, Path tokenizer, TextTokenizer.Conventions conventions) throws IOException {
        if (tokenizer != null) {
            LitFormat.copyTokenizer(tokenizer, conventions, folder, sub);
        }
    }
}

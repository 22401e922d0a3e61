package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.data.TextTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * OpenAI CLIP's text tower (transformers' {@code CLIPTextTransformer}): token embedding plus
 * learned positions, pre-LN blocks with a causal mask, a final LayerNorm, pooled at the
 * end-of-text token, and a head (CLIP's {@code text_projection}) without bias.
 *
 * <p>Where the end-of-text token is follows transformers' {@code CLIPTextTransformer.forward}:
 * configs written before transformers PR #24773 say {@code eos_token_id: 2} (wrongly) and pool at
 * the row's largest id (its first occurrence: CLIP's {@code <|endoftext|>} is the vocabulary's
 * last id); newer ones pool at the first occurrence of {@code eos_token_id} (position 0 when a row
 * has none, as torch's argmax of an all-zero row gives).
 *
 * @param contextLength the position table's rows ({@code max_position_embeddings}, 77 in CLIP);
 *                      texts are tokenized to this length
 */
public record ClipTextConfig(int vocabSize, int contextLength, int width, int depth, int heads, int mlpDim, float lnEps,
                             Gelu gelu, int headDim, int eosTokenId) implements TextConfig {

    /** The {@code eos_token_id} of CLIP configs written before transformers PR #24773, meaning "pool at the largest id". */
    public static final int LEGACY_EOS = 2;

    public ClipTextConfig {
        String w = "clip text config";
        Json.positive(w, "vocab_size", vocabSize);
        Json.positive(w, "context_length", contextLength);
        Json.encoder(w, width, depth, heads, mlpDim, lnEps, headDim);
        if (eosTokenId < 0 || eosTokenId >= vocabSize) {
            throw new LitException(w + ": eos_token_id " + eosTokenId + " is not an id of the vocabulary (0.." + (vocabSize - 1) + ")");
        }
    }

    @Override
    public String kind() {
        return "clip";
    }

    /** The token position each row of {@code ids} ({@code [rows, length]}) is pooled at. */
    public int[] poolPositions(int[] ids, int rows, int length) {
        int[] at = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int i = 0; i < length; i++) {
                int id = ids[r * length + i];
                if (eosTokenId == LEGACY_EOS ? id > ids[r * length + best] : id == eosTokenId) {
                    best = i;
                    if (eosTokenId != LEGACY_EOS) {
                        break; // the first end-of-text token
                    }
                }
            }
            at[r] = best;
        }
        return at;
    }

    @Override
    public TextTokenizer.Policy tokenPolicy() {
        return TextTokenizer.Policy.CLIP;
    }

    @Override
    public List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        p.add(new ParamSpec("txt.tok", new int[] {vocabSize, width}));
        p.add(new ParamSpec("txt.pos", new int[] {contextLength, width}));
        Encoder.params(p, "txt", depth, width, mlpDim);
        p.add(new ParamSpec("txt.norm.scale", new int[] {width}));
        p.add(new ParamSpec("txt.norm.bias", new int[] {width}));
        if (headDim > 0) {
            p.add(new ParamSpec("txt.head.kernel", new int[] {width, headDim}));
        }
        return p;
    }

    @Override
    public ClipTextConfig withHeadDim(int h) {
        return new ClipTextConfig(vocabSize, contextLength, width, depth, heads, mlpDim, lnEps, gelu, h, eosTokenId);
    }

    @Override
    public ClipTextConfig withNumerics(float eps, Gelu g) {
        return new ClipTextConfig(vocabSize, contextLength, width, depth, heads, mlpDim, eps, g, headDim, eosTokenId);
    }

    /** The position table has exactly {@code context_length} rows, so this changes the model. */
    @Override
    public ClipTextConfig withContextLength(int length) {
        return new ClipTextConfig(vocabSize, length, width, depth, heads, mlpDim, lnEps, gelu, headDim, eosTokenId);
    }

    @Override
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("kind", kind());
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("context_length", contextLength);
        Json.putEncoder(o, width, depth, heads, mlpDim);
        Json.putNumerics(o, lnEps, gelu, headDim);
        o.addProperty("eos_token_id", eosTokenId);
        return o;
    }

    static ClipTextConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("kind", "vocab_size", "context_length", "width", "depth", "heads", "mlp_dim", "ln_eps", "gelu",
                "head_dim", "eos_token_id"));
        return Json.build(where, () -> new ClipTextConfig(
                j.integer("vocab_size"), j.integer("context_length"), j.integer("width"), j.integer("depth"), j.integer("heads"),
                j.integer("mlp_dim"), (float) j.number("ln_eps", 1e-5), Gelu.parse(j.string("gelu", "quick")),
                j.integer("head_dim", 0), j.integer("eos_token_id")));
    }
}

package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * BERT as a LiT text tower: token + position + token-type embeddings and a LayerNorm, post-LN
 * blocks with an attention mask from padding (token id 0), pooled at the first ([CLS]) token.
 * No pooler dense: LiT puts its own head on the [CLS] output.
 */
public record BertConfig(int vocabSize, int maxPosition, int typeVocabSize, int contextLength, int width, int depth,
                         int heads, int mlpDim, float lnEps, Gelu gelu, int headDim) implements TextConfig {

    public BertConfig {
        String w = "bert config";
        Json.positive(w, "vocab_size", vocabSize);
        Json.positive(w, "max_position", maxPosition);
        Json.positive(w, "type_vocab_size", typeVocabSize);
        Json.positive(w, "context_length", contextLength);
        Json.encoder(w, width, depth, heads, mlpDim, lnEps, headDim);
        if (contextLength > maxPosition) {
            throw new LitException(w + ": context_length " + contextLength + " exceeds max_position " + maxPosition);
        }
    }

    @Override
    public String kind() {
        return "bert";
    }

    @Override
    public List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        p.add(new ParamSpec("txt.tok", new int[] {vocabSize, width}));
        p.add(new ParamSpec("txt.pos", new int[] {maxPosition, width}));
        p.add(new ParamSpec("txt.type", new int[] {typeVocabSize, width}));
        p.add(new ParamSpec("txt.emb_norm.scale", new int[] {width}));
        p.add(new ParamSpec("txt.emb_norm.bias", new int[] {width}));
        Encoder.params(p, "txt", depth, width, mlpDim);
        if (headDim > 0) {
            p.add(new ParamSpec("txt.head.kernel", new int[] {width, headDim}));
            p.add(new ParamSpec("txt.head.bias", new int[] {headDim}));
        }
        return p;
    }

    @Override
    public BertConfig withHeadDim(int h) {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, lnEps, gelu, h);
    }

    @Override
    public BertConfig withNumerics(float eps, Gelu g) {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, eps, g, headDim);
    }

    @Override
    public BertConfig withContextLength(int length) {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, length, width, depth, heads, mlpDim, lnEps, gelu, headDim);
    }

    @Override
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("kind", kind());
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("max_position", maxPosition);
        o.addProperty("type_vocab_size", typeVocabSize);
        o.addProperty("context_length", contextLength);
        Json.putEncoder(o, width, depth, heads, mlpDim);
        Json.putNumerics(o, lnEps, gelu, headDim);
        return o;
    }

    static BertConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("kind", "vocab_size", "max_position", "type_vocab_size", "context_length", "width", "depth",
                "heads", "mlp_dim", "ln_eps", "gelu", "head_dim", "pool"));
        if (j.has("pool") && !j.string("pool").equals("first")) {
            throw new LitException(where + ": BERT pools its first ([CLS]) token; pool '" + j.string("pool") + "' is not supported");
        }
        return Json.build(where, () -> new BertConfig(
                j.integer("vocab_size"), j.integer("max_position", 512), j.integer("type_vocab_size", 2),
                j.integer("context_length"), j.integer("width"), j.integer("depth"), j.integer("heads"), j.integer("mlp_dim"),
                (float) j.number("ln_eps", 1e-12), Gelu.parse(j.string("gelu", "erf")), j.integer("head_dim", 0)));
    }
}

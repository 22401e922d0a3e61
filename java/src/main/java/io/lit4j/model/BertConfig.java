package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.data.TextTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * BERT as a LiT text tower: token + position + token-type embeddings and a LayerNorm, post-LN
 * blocks with an attention mask from padding (token id 0), pooled at the first ([CLS]) token
 * (big_vision's LiT BERT) or by the mean over the real tokens (sentence-transformers' embedding
 * models, {@link Pooling#MEAN}). No pooler dense: LiT puts its own head on the pooled output.
 *
 * @param endSep whether texts are framed {@code [CLS] ids [SEP]} (HF's BertTokenizer, as
 *               sentence-transformers models were trained) rather than big_vision's {@code [CLS] ids}
 */
public record BertConfig(int vocabSize, int maxPosition, int typeVocabSize, int contextLength, int width, int depth,
                         int heads, int mlpDim, float lnEps, Gelu gelu, int headDim, Pooling pool, boolean endSep)
        implements TextConfig {

    /** How the token outputs become one vector. */
    public enum Pooling {
        /** The [CLS] token's output (big_vision's LiT BERT). */
        FIRST,
        /**
         * The mean of the outputs at real (non-padding) tokens: sentence-transformers'
         * {@code Pooling(pooling_mode_mean_tokens=True)} (sentence_transformers/models/Pooling.py, forward).
         */
        MEAN
    }

    /** big_vision's LiT BERT: pooled at [CLS], texts framed {@code [CLS] ids}. */
    public BertConfig(int vocabSize, int maxPosition, int typeVocabSize, int contextLength, int width, int depth,
                      int heads, int mlpDim, float lnEps, Gelu gelu, int headDim) {
        this(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, lnEps, gelu, headDim, Pooling.FIRST,
                false);
    }

    public BertConfig {
        if (pool == null) {
            pool = Pooling.FIRST;
        }
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
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, lnEps, gelu, h, pool,
                endSep);
    }

    @Override
    public BertConfig withNumerics(float eps, Gelu g) {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, eps, g, headDim, pool,
                endSep);
    }

    @Override
    public BertConfig withContextLength(int length) {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, length, width, depth, heads, mlpDim, lnEps, gelu, headDim, pool,
                endSep);
    }

    /** The same tower pooled and framed as sentence-transformers' models are: mean over real tokens, {@code [CLS] ids [SEP]}. */
    public BertConfig asSentenceEmbedder() {
        return new BertConfig(vocabSize, maxPosition, typeVocabSize, contextLength, width, depth, heads, mlpDim, lnEps, gelu, headDim,
                Pooling.MEAN, true);
    }

    @Override
    public TextTokenizer.Policy tokenPolicy() {
        return endSep ? TextTokenizer.Policy.BERT_SEP : TextTokenizer.Policy.BERT;
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
        if (pool != Pooling.FIRST) { // written only when not the default, so older lit4j configs stay byte for byte
            o.addProperty("pool", pool.name().toLowerCase(Locale.ROOT));
        }
        if (endSep) {
            o.addProperty("end_sep", true);
        }
        return o;
    }

    static BertConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("kind", "vocab_size", "max_position", "type_vocab_size", "context_length", "width", "depth",
                "heads", "mlp_dim", "ln_eps", "gelu", "head_dim", "pool", "end_sep"));
        String pool = j.string("pool", "first");
        Pooling p = switch (pool) {
            case "first" -> Pooling.FIRST;
            case "mean" -> Pooling.MEAN;
            default -> throw new LitException(where + ": BERT pool '" + pool + "' is not supported (first or mean)");
        };
        boolean sep = j.bool("end_sep", false);
        return Json.build(where, () -> new BertConfig(
                j.integer("vocab_size"), j.integer("max_position", 512), j.integer("type_vocab_size", 2),
                j.integer("context_length"), j.integer("width"), j.integer("depth"), j.integer("heads"), j.integer("mlp_dim"),
                (float) j.number("ln_eps", 1e-12), Gelu.parse(j.string("gelu", "erf")), j.integer("head_dim", 0), p, sep));
    }
}

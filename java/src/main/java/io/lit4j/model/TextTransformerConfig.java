package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * big_vision's text transformer: token embedding plus learned positions, pre-LN blocks with no
 * causal and no padding mask, a final LayerNorm, pooled at the last position (sticky EOS).
 */
public record TextTransformerConfig(int vocabSize, int contextLength, int width, int depth, int heads, int mlpDim,
                                    Pooling pool, float lnEps, Gelu gelu, int headDim) implements TextConfig {

    /** Which position represents the text. */
    public enum Pooling {
        LAST, FIRST, MEAN;

        static Pooling parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "last" -> LAST;
                case "first" -> FIRST;
                case "mean", "gap" -> MEAN;
                default -> throw new LitException("unknown text pool '" + s + "' (last, first or mean)");
            };
        }
    }

    public TextTransformerConfig {
        String w = "text transformer config";
        Json.positive(w, "vocab_size", vocabSize);
        Json.positive(w, "context_length", contextLength);
        Json.encoder(w, width, depth, heads, mlpDim, lnEps, headDim);
    }

    @Override
    public String kind() {
        return "transformer";
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
            p.add(new ParamSpec("txt.head.bias", new int[] {headDim}));
        }
        return p;
    }

    @Override
    public TextTransformerConfig withHeadDim(int h) {
        return new TextTransformerConfig(vocabSize, contextLength, width, depth, heads, mlpDim, pool, lnEps, gelu, h);
    }

    @Override
    public TextTransformerConfig withNumerics(float eps, Gelu g) {
        return new TextTransformerConfig(vocabSize, contextLength, width, depth, heads, mlpDim, pool, eps, g, headDim);
    }

    /** The text transformer's position table has exactly {@code context_length} rows, so this changes the model. */
    @Override
    public TextTransformerConfig withContextLength(int length) {
        return new TextTransformerConfig(vocabSize, length, width, depth, heads, mlpDim, pool, lnEps, gelu, headDim);
    }

    @Override
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("kind", kind());
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("context_length", contextLength);
        Json.putEncoder(o, width, depth, heads, mlpDim);
        o.addProperty("pool", pool.name().toLowerCase(Locale.ROOT));
        Json.putNumerics(o, lnEps, gelu, headDim);
        return o;
    }

    static TextTransformerConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("kind", "vocab_size", "context_length", "width", "depth", "heads", "mlp_dim", "pool", "ln_eps",
                "gelu", "head_dim"));
        return Json.build(where, () -> new TextTransformerConfig(
                j.integer("vocab_size"), j.integer("context_length"), j.integer("width"),
                j.integer("depth"), j.integer("heads"), j.integer("mlp_dim"), Pooling.parse(j.string("pool", "last")),
                (float) j.number("ln_eps", 1e-6), Gelu.parse(j.string("gelu", "tanh")), j.integer("head_dim", 0)));
    }
}

package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import io.lit4j.data.TextTokenizer;

import java.util.List;

/** A text tower: big_vision's text transformer, BERT, or CLIP's. */
public sealed interface TextConfig permits TextTransformerConfig, BertConfig, ClipTextConfig {
    /** "transformer", "bert" or "clip", as written in config.json. */
    String kind();

    int vocabSize();

    /** Tokens per text after tokenization and padding (16 in LiT). */
    int contextLength();

    int width();

    int depth();

    int heads();

    int mlpDim();

    float lnEps();

    Gelu gelu();

    int headDim();

    default int outDim() {
        return headDim() > 0 ? headDim() : width();
    }

    List<ParamSpec> params();

    /** How texts are tokenized for this tower: BERT's [CLS] first, or big_vision's sticky end-of-sequence token (CLIP overrides). */
    default TextTokenizer.Policy tokenPolicy() {
        return this instanceof BertConfig ? TextTokenizer.Policy.BERT : TextTokenizer.Policy.STICKY_EOS;
    }

    TextConfig withHeadDim(int headDim);

    TextConfig withNumerics(float eps, Gelu gelu);

    /** The same tower tokenizing to {@code length} tokens (must fit the position table). */
    TextConfig withContextLength(int length);

    /** Multiply-adds of one text's forward pass, times two. */
    default double flopsPerText() {
        double t = contextLength();
        double perBlock = 2 * t * (4.0 * width() * width() + 2.0 * width() * mlpDim()) + 4 * t * t * width();
        return depth() * perBlock + 2.0 * width() * Math.max(headDim(), 0);
    }

    JsonObject toJson();

    static TextConfig fromJson(JsonElement e, String where) {
        String k = Json.of(e, where).string("kind", "transformer");
        return switch (k) {
            case "transformer" -> TextTransformerConfig.fromJson(e, where);
            case "bert" -> BertConfig.fromJson(e, where);
            case "clip" -> ClipTextConfig.fromJson(e, where);
            default -> throw new LitException(where + ": unknown text tower kind '" + k + "' (transformer, bert or clip)");
        };
    }
}

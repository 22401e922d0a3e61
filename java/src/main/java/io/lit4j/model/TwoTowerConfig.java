package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A LiT model: an image tower, a text tower (either may be absent, for a single-tower checkpoint)
 * and the contrastive loss it is tuned with. Serialised as lit4j's {@code config.json}.
 */
public record TwoTowerConfig(ViTConfig image, TextConfig text, Loss loss) {

    /** The contrastive loss; sigmoid adds a learned bias parameter {@code b}. */
    public enum Loss {
        SOFTMAX, SIGMOID;

        static Loss parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "softmax", "infonce" -> SOFTMAX;
                case "sigmoid", "siglip" -> SIGMOID;
                default -> throw new LitException("unknown loss '" + s + "' (softmax or sigmoid)");
            };
        }
    }

    public static final int FORMAT_VERSION = 1;

    /** The largest size of one dimension a config may ask for (width, vocabulary, positions, patch values). */
    public static final int MAX_DIM = 1 << 24;
    /** The most blocks one tower may have. */
    public static final int MAX_DEPTH = 1024;
    /** The most values one parameter may hold (4 GiB of fp32). */
    public static final long MAX_PARAM_VALUES = 1L << 30;
    /** The most values a whole model may hold (64 GiB of fp32). */
    public static final long MAX_MODEL_VALUES = 1L << 34;

    public TwoTowerConfig {
        if (image == null && text == null) {
            throw new LitException("a model needs at least one tower");
        }
        if (image != null && text != null && image.outDim() != text.outDim()) {
            throw new LitException("the towers must output the same dimension: image " + image.outDim() + ", text " + text.outDim()
                    + " (set head_dim on one or both)");
        }
        if (loss == null) {
            loss = Loss.SOFTMAX;
        }
    }

    public boolean hasImage() {
        return image != null;
    }

    public boolean hasText() {
        return text != null;
    }

    /** The shared embedding dimension. */
    public int embedDim() {
        return image != null ? image.outDim() : text.outDim();
    }

    /** Every parameter of the model: image tower, text tower, then {@code t} (and {@code b}). */
    public List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        if (image != null) {
            p.addAll(image.params());
        }
        if (text != null) {
            p.addAll(text.params());
        }
        if (image != null && text != null) {
            p.add(new ParamSpec("t", new int[] {1}));
            if (loss == Loss.SIGMOID) {
                p.add(new ParamSpec("b", new int[] {1}));
            }
        }
        return p;
    }

    /** How many values all parameters hold together (limited to {@link #MAX_MODEL_VALUES}). */
    public long numValues() {
        long n = 0;
        for (ParamSpec p : params()) {
            n += p.numel();
        }
        if (n > MAX_MODEL_VALUES) {
            throw new LitException("the config asks for " + n + " parameter values, more than lit4j's limit of "
                    + MAX_MODEL_VALUES);
        }
        return n;
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", "lit4j");
        o.addProperty("version", FORMAT_VERSION);
        if (image != null) {
            o.add("image", image.toJson());
        }
        if (text != null) {
            o.add("text", text.toJson());
        }
        o.addProperty("loss", loss.name().toLowerCase(Locale.ROOT));
        return o;
    }

    public static TwoTowerConfig parse(String json, String where) {
        JsonElement e;
        try {
            e = JsonParser.parseString(json);
        } catch (RuntimeException ex) {
            throw new LitException(where + ": not valid JSON: " + ex.getMessage(), ex);
        }
        return fromJson(e, where);
    }

    public static TwoTowerConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("format", "version", "image", "text", "loss"));
        if (!j.string("format", "lit4j").equals("lit4j")) {
            throw new LitException(where + ": format is '" + j.string("format") + "', expected 'lit4j'");
        }
        int version = j.integer("version", FORMAT_VERSION);
        if (version > FORMAT_VERSION) {
            throw new LitException(where + ": written by a newer lit4j (format version " + version + "; this one reads " + FORMAT_VERSION + ")");
        }
        JsonObject o = e.getAsJsonObject();
        ViTConfig img = o.has("image") ? ViTConfig.fromJson(o.get("image"), where + " image") : null;
        TextConfig txt = o.has("text") ? TextConfig.fromJson(o.get("text"), where + " text") : null;
        return new TwoTowerConfig(img, txt, Loss.parse(j.string("loss", "softmax")));
    }
}

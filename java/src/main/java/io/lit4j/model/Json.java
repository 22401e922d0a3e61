package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.lit4j.LitException;
import io.lit4j.backend.Gelu;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.Predicate;

/** Strict reading of config objects: missing, mistyped or unknown fields are errors naming the field. */
final class Json {
    private final JsonObject obj;
    private final String where;

    Json(JsonObject obj, String where) {
        this.obj = obj;
        this.where = where;
    }

    static Json of(JsonElement e, String where) {
        if (e == null || !e.isJsonObject()) {
            throw new LitException(where + ": expected a JSON object");
        }
        return new Json(e.getAsJsonObject(), where);
    }

    boolean has(String key) {
        return obj.has(key) && !obj.get(key).isJsonNull();
    }

    /** The field {@code key}, which must be a primitive {@code ok} accepts ({@code what} names the kind for the error). */
    private JsonPrimitive field(String key, Predicate<JsonPrimitive> ok, String what) {
        JsonElement e = obj.get(key);
        if (e == null || e.isJsonNull()) {
            throw new LitException(where + ": missing field '" + key + "'");
        }
        if (!e.isJsonPrimitive() || !ok.test(e.getAsJsonPrimitive())) {
            throw new LitException(where + ": field '" + key + "' should be " + what + ", got " + e);
        }
        return e.getAsJsonPrimitive();
    }

    int integer(String key) {
        return field(key, p -> p.isNumber() && p.getAsDouble() == Math.rint(p.getAsDouble()) && Math.abs(p.getAsDouble()) <= Integer.MAX_VALUE,
                "an integer").getAsInt();
    }

    int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    double number(String key) {
        return field(key, JsonPrimitive::isNumber, "a number").getAsDouble();
    }

    double number(String key, double dflt) {
        return has(key) ? number(key) : dflt;
    }

    String string(String key) {
        return field(key, JsonPrimitive::isString, "a string").getAsString();
    }

    String string(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    boolean bool(String key, boolean dflt) {
        return has(key) ? field(key, JsonPrimitive::isBoolean, "true or false").getAsBoolean() : dflt;
    }

    /** The names the config records' own checks start their messages with. */
    private static final List<String> LABELS = List.of("image tower config", "bert config", "text transformer config",
            "clip text config");

    /**
     * Makes a config from its fields: an error from the record's checks or a field's parse then
     * starts with {@code where} (the file) instead of the record's name.
     */
    static <T> T build(String where, Supplier<T> make) {
        try {
            return make.get();
        } catch (LitException e) {
            String m = e.getMessage();
            if (m.startsWith(where)) {
                throw e;
            }
            for (String label : LABELS) {
                if (m.startsWith(label + ": ")) {
                    m = m.substring(label.length() + 2);
                }
            }
            throw new LitException(where + ": " + m, e);
        }
    }

    /** The fields every transformer tower's config writes, in config.json's order: its size... */
    static void putEncoder(JsonObject o, int width, int depth, int heads, int mlpDim) {
        o.addProperty("width", width);
        o.addProperty("depth", depth);
        o.addProperty("heads", heads);
        o.addProperty("mlp_dim", mlpDim);
    }

    /** ...and its numerics and head, after the tower's own fields. */
    static void putNumerics(JsonObject o, float lnEps, Gelu gelu, int headDim) {
        o.addProperty("ln_eps", lnEps);
        o.addProperty("gelu", gelu.configName());
        o.addProperty("head_dim", headDim);
    }

    /** Fails on any field not in {@code known} (a typo would otherwise be silently ignored). */
    void onlyKnown(Set<String> known) {
        for (String k : obj.keySet()) {
            if (!known.contains(k)) {
                throw new LitException(where + ": unknown field '" + k + "' - a typo? known fields: " + known);
            }
        }
    }

    /**
     * The checks every transformer tower's config makes: sizes from 1 to {@link TwoTowerConfig#MAX_DIM},
     * at most {@link TwoTowerConfig#MAX_DEPTH} blocks, whole heads, a head of size >= 0, eps > 0.
     */
    static void encoder(String where, int width, int depth, int heads, int mlpDim, float lnEps, int headDim) {
        positive(where, "width", width);
        positive(where, "depth", depth);
        positive(where, "heads", heads);
        positive(where, "mlp_dim", mlpDim);
        if (depth > TwoTowerConfig.MAX_DEPTH) {
            throw new LitException(where + ": depth " + depth + " is more blocks than lit4j builds (at most "
                    + TwoTowerConfig.MAX_DEPTH + ")");
        }
        if (width % heads != 0) {
            throw new LitException(where + ": width " + width + " is not divisible by heads " + heads);
        }
        if (headDim < 0 || headDim > TwoTowerConfig.MAX_DIM || !(lnEps > 0)) {
            throw new LitException(where + ": head_dim must be from 0 to " + TwoTowerConfig.MAX_DIM + " and ln_eps > 0");
        }
    }

    /** A size: from 1 to {@link TwoTowerConfig#MAX_DIM}, so products of two never overflow a long. */
    static void positive(String where, String field, long v) {
        if (v <= 0) {
            throw new LitException(where + ": " + field + " must be positive, got " + v);
        }
        if (v > TwoTowerConfig.MAX_DIM) {
            throw new LitException(where + ": " + field + " " + v + " is larger than lit4j's limit of " + TwoTowerConfig.MAX_DIM);
        }
    }
}

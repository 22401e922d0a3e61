package io.lit4j.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.lit4j.LitException;

import java.util.Set;

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

    private JsonPrimitive prim(String key) {
        JsonElement e = obj.get(key);
        if (e == null || e.isJsonNull()) {
            throw new LitException(where + ": missing field '" + key + "'");
        }
        if (!e.isJsonPrimitive()) {
            throw new LitException(where + ": field '" + key + "' should be a number or string, got " + e);
        }
        return e.getAsJsonPrimitive();
    }

    int integer(String key) {
        JsonPrimitive p = prim(key);
        if (!p.isNumber()) {
            throw new LitException(where + ": field '" + key + "' should be an integer, got " + p);
        }
        double d = p.getAsDouble();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new LitException(where + ": field '" + key + "' should be an integer, got " + p);
        }
        return (int) d;
    }

    int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    double number(String key) {
        JsonPrimitive p = prim(key);
        if (!p.isNumber()) {
            throw new LitException(where + ": field '" + key + "' should be a number, got " + p);
        }
        return p.getAsDouble();
    }

    double number(String key, double dflt) {
        return has(key) ? number(key) : dflt;
    }

    String string(String key) {
        JsonPrimitive p = prim(key);
        if (!p.isString()) {
            throw new LitException(where + ": field '" + key + "' should be a string, got " + p);
        }
        return p.getAsString();
    }

    String string(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    /** Fails on any field not in {@code known} (a typo would otherwise be silently ignored). */
    void onlyKnown(Set<String> known) {
        for (String k : obj.keySet()) {
            if (!known.contains(k)) {
                throw new LitException(where + ": unknown field '" + k + "' - a typo? known fields: " + known);
            }
        }
    }

    /** The checks every transformer tower's config makes: positive sizes, whole heads, a head of size >= 0, eps > 0. */
    static void encoder(String where, int width, int depth, int heads, int mlpDim, float lnEps, int headDim) {
        positive(where, "width", width);
        positive(where, "depth", depth);
        positive(where, "heads", heads);
        positive(where, "mlp_dim", mlpDim);
        if (width % heads != 0) {
            throw new LitException(where + ": width " + width + " is not divisible by heads " + heads);
        }
        if (headDim < 0 || !(lnEps > 0)) {
            throw new LitException(where + ": head_dim must be >= 0 and ln_eps > 0");
        }
    }

    static void positive(String where, String field, int v) {
        if (v <= 0) {
            throw new LitException(where + ": " + field + " must be positive, got " + v);
        }
    }
}

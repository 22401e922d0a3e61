package io.lit4j.data;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A HuggingFace {@code preprocessor_config.json} ({@code CLIPImageProcessor}, {@code ViTImageProcessor},
 * ...) as a {@link Preprocess}: {@code size} / {@code crop_size} / {@code do_center_crop} give the
 * geometry ({@code shortest_edge} then a centre crop of the same size, or a square resize),
 * {@code image_mean} / {@code image_std} the values (unit mean and std when {@code do_normalize}
 * is false), {@code resample} the filter (PIL's 2, bilinear, or 3, bicubic; absent: bicubic for a
 * {@code CLIPImageProcessor}, as its default, else bilinear). What lit4j's pipeline cannot do is
 * refused with the field named: a crop smaller than the resized edge, a non-square output, a
 * rescale other than 1/255, another filter. The output size is always the model's.
 */
public final class PreprocessorConfig {
    private PreprocessorConfig() {
    }

    /** The file's name in a HuggingFace model folder. */
    public static final String FILE = "preprocessor_config.json";

    /** The preprocessing {@code file} describes, for a model whose images are {@code imageSize} square. */
    public static Preprocess read(Path file, int imageSize) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            if (!e.isJsonObject()) {
                throw new LitException(file + ": expected a JSON object (a HuggingFace image processor config)");
            }
            o = e.getAsJsonObject();
        } catch (LitException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + ": cannot read the image processor config: " + e.getMessage(), e);
        }
        try {
            return parse(o, imageSize, file.toString());
        } catch (LitException e) { // Preprocess's own checks (a zero std, ...) get the file in front
            throw e.getMessage().startsWith(file.toString()) ? e : new LitException(file + ": " + e.getMessage(), e);
        } catch (IllegalStateException | UnsupportedOperationException | ClassCastException | NumberFormatException e) {
            throw new LitException(file + ": malformed image processor config (" + e.getMessage() + ")", e);
        }
    }

    private static Preprocess parse(JsonObject o, int imageSize, String where) {
        if (bool(o, "do_rescale", true) && o.has("rescale_factor")
                && Math.abs(o.get("rescale_factor").getAsDouble() - 1.0 / 255) > 1e-9) {
            throw new LitException(where + ": rescale_factor " + o.get("rescale_factor") + " is not 1/255, which lit4j assumes");
        }
        boolean crop = bool(o, "do_center_crop", false);
        Preprocess.Resize resize;
        int out;
        if (crop) {
            out = square(o, "crop_size", where);
            int edge = o.has("size") ? shortestEdge(o.get("size"), where) : out;
            if (edge != out) {
                throw new LitException(where + ": resizing the shortest edge to " + edge + " and cropping " + out
                        + " is not supported (lit4j resizes the shortest edge to the crop size)");
            }
            resize = Preprocess.Resize.CENTER_CROP;
        } else {
            out = o.has("size") ? square(o, "size", where) : imageSize;
            resize = Preprocess.Resize.SQUASH;
        }
        // A size other than the model's is the model's: the tower can take nothing else (SigLIP
        // So400m/14-384's processor says 384, its stride-14 patches cover 378).
        out = imageSize;
        float[] mean = {0f, 0f, 0f}, std = {1f, 1f, 1f};
        if (bool(o, "do_normalize", true)) {
            mean = channels(o, "image_mean", Preprocess.CLIP_MEAN, where);
            std = channels(o, "image_std", Preprocess.CLIP_STD, where);
        }
        return Preprocess.meanStd(out, resize, mean, std).withFilter(filter(o, where));
    }

    /**
     * {@code p} as a preprocessor_config.json that {@link #read} turns back into {@code p}
     * ({@code v / 127.5 - 1} is written as mean and std 0.5, which reads back as that mean/std mapping).
     */
    public static String toJson(Preprocess p) {
        JsonObject o = new JsonObject();
        JsonObject size = new JsonObject();
        boolean crop = p.resize() == Preprocess.Resize.CENTER_CROP;
        if (crop) {
            size.addProperty("shortest_edge", p.size());
            JsonObject c = new JsonObject();
            c.addProperty("height", p.size());
            c.addProperty("width", p.size());
            o.add("crop_size", c);
        } else {
            size.addProperty("height", p.size());
            size.addProperty("width", p.size());
        }
        o.addProperty("do_resize", true);
        o.add("size", size);
        o.addProperty("do_center_crop", crop);
        o.addProperty("resample", p.filter() == Preprocess.Filter.BICUBIC ? 3 : 2);
        o.addProperty("do_rescale", true);
        o.addProperty("rescale_factor", 1.0 / 255);
        o.addProperty("do_normalize", true);
        boolean half = p.values() == Preprocess.Values.MINUS_ONE_TO_ONE;
        JsonArray mean = new JsonArray(), std = new JsonArray();
        for (int c = 0; c < 3; c++) {
            mean.add(half ? 0.5f : p.mean()[c]);
            std.add(half ? 0.5f : p.std()[c]);
        }
        o.add("image_mean", mean);
        o.add("image_std", std);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    /** PIL's resample codes: 2 BILINEAR, 3 BICUBIC (the two lit4j has). */
    private static Preprocess.Filter filter(JsonObject o, String where) {
        JsonElement e = o.get("resample");
        if (e == null || e.isJsonNull()) {
            JsonElement type = o.get("image_processor_type");
            boolean clip = type != null && type.isJsonPrimitive() && type.getAsString().startsWith("CLIP");
            return clip ? Preprocess.Filter.BICUBIC : Preprocess.Filter.TRIANGLE;
        }
        return switch (e.getAsInt()) {
            case 2 -> Preprocess.Filter.TRIANGLE;
            case 3 -> Preprocess.Filter.BICUBIC;
            default -> throw new LitException(where + ": field 'resample' is " + e + "; lit4j resamples with PIL's bilinear (2) or bicubic (3)");
        };
    }

    private static boolean bool(JsonObject o, String key, boolean dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : dflt;
    }

    /** A square size: {@code n}, or {@code {"height": n, "width": n}}. */
    private static int square(JsonObject o, String key, String where) {
        JsonElement e = o.get(key);
        if (e != null && e.isJsonPrimitive()) {
            return e.getAsInt();
        }
        if (e != null && e.isJsonObject() && e.getAsJsonObject().has("height") && e.getAsJsonObject().has("width")) {
            int h = e.getAsJsonObject().get("height").getAsInt(), w = e.getAsJsonObject().get("width").getAsInt();
            if (h == w) {
                return h;
            }
        }
        throw new LitException(where + ": field '" + key + "' should be a square size (n or {\"height\": n, \"width\": n}), got " + e);
    }

    /** {@code size} as the shortest edge: {@code n} or {@code {"shortest_edge": n}}. */
    private static int shortestEdge(JsonElement e, String where) {
        if (e.isJsonPrimitive()) {
            return e.getAsInt();
        }
        if (e.isJsonObject() && e.getAsJsonObject().has("shortest_edge")) {
            return e.getAsJsonObject().get("shortest_edge").getAsInt();
        }
        throw new LitException(where + ": field 'size' with do_center_crop should be {\"shortest_edge\": n}, got " + e);
    }

    private static float[] channels(JsonObject o, String key, float[] dflt, String where) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (e.isJsonPrimitive()) {
            float v = e.getAsFloat();
            return new float[] {v, v, v};
        }
        JsonArray a = e.getAsJsonArray();
        if (a.size() != 3) {
            throw new LitException(where + ": field '" + key + "' should have 3 values (R, G, B), got " + a);
        }
        return new float[] {a.get(0).getAsFloat(), a.get(1).getAsFloat(), a.get(2).getAsFloat()};
    }
}

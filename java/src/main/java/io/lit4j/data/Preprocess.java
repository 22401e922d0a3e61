package io.lit4j.data;

import io.lit4j.LitException;

import java.util.Arrays;
import java.util.Locale;

/**
 * How an image becomes model input: a {@code size x size x 3} float array (NHWC, RGB).
 *
 * <p>The pipeline is fixed: decode to 8-bit RGB (grayscale replicated, alpha dropped), resample
 * with a separable triangle (bilinear) filter whose support widens with the downscale factor (so
 * downscaling antialiases, as PIL's and TF's {@code antialias=True} bilinear do; upscaling is plain
 * half-pixel-centre bilinear), or PIL's bicubic ({@link Filter#BICUBIC}, what CLIP's image processor
 * uses), then map the values. All arithmetic is pure Java {@code double},
 * so the result is identical on every machine and JDK. Results stay in float; nothing is rounded
 * back to 8 bits between steps.
 *
 * @param size   side of the square output, 1..8192
 * @param resize {@link Resize#SQUASH} or {@link Resize#CENTER_CROP}
 * @param values {@link Values#MINUS_ONE_TO_ONE} or {@link Values#MEAN_STD}
 * @param mean   per-channel mean on the 0..1 scale (MEAN_STD only, else null)
 * @param std    per-channel std on the 0..1 scale (MEAN_STD only, else null)
 * @param filter the resampling filter
 */
public record Preprocess(int size, Resize resize, Values values, float[] mean, float[] std, Filter filter) {

    /** The resampling filter, its support widened by the downscale factor (antialiasing) either way. */
    public enum Filter {
        /** Triangle (bilinear). */
        TRIANGLE,
        /**
         * PIL's bicubic ({@code a = -0.5}, support 2), each pass clamped to 0..255 as PIL's 8-bit
         * passes are (but not rounded: values stay in float).
         */
        BICUBIC
    }

    /** With the triangle filter. */
    public Preprocess(int size, Resize resize, Values values, float[] mean, float[] std) {
        this(size, resize, values, mean, std, Filter.TRIANGLE);
    }

    /** Geometry. */
    public enum Resize {
        /** Resize to size x size ignoring the aspect ratio (big_vision's {@code resize}). */
        SQUASH,
        /**
         * Resize the shorter side to size (the longer one to {@code floor(size * long / short)}, as
         * torchvision and HF image processors do), then crop the centre (offset
         * {@code floor((long - size) / 2)}).
         */
        CENTER_CROP
    }

    /** Value mapping from 0..255. */
    public enum Values {
        /** {@code v / 127.5 - 1}: big_vision's {@code value_range(-1, 1)}. */
        MINUS_ONE_TO_ONE,
        /** {@code (v / 255 - mean[c]) / std[c]}: HF ViT / CLIP image processors. */
        MEAN_STD
    }

    /** ImageNet statistics (HF ViT with {@code do_normalize}, torchvision). */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    /** OpenAI CLIP statistics. */
    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    /** Version of the resampling code, part of {@link #describe()}: bump it when results change. */
    static final String ALGORITHM = "tri-aa-v1";
    /** The same for {@link Filter#BICUBIC}. */
    static final String CUBIC_ALGORITHM = "cubic-aa-v1";

    public Preprocess {
        if (size < 1 || size > 8192) {
            throw new LitException("preprocess: image size " + size + " is outside 1..8192");
        }
        if (filter == null) {
            filter = Filter.TRIANGLE;
        }
        if (resize == null || values == null) {
            throw new LitException("preprocess: resize and values modes are required");
        }
        if (values == Values.MEAN_STD) {
            mean = checkChannels("mean", mean, false);
            std = checkChannels("std", std, true);
        } else if (mean != null || std != null) {
            throw new LitException("preprocess: mean/std are only used with Values.MEAN_STD, not " + values);
        }
    }

    private static float[] checkChannels(String what, float[] v, boolean positive) {
        if (v == null || v.length != 3) {
            throw new LitException("preprocess: " + what + " needs 3 values (R, G, B), got "
                    + (v == null ? "none" : Arrays.toString(v)));
        }
        for (float x : v) {
            if (!Float.isFinite(x) || (positive && x <= 0)) {
                throw new LitException("preprocess: " + what + " " + Arrays.toString(v)
                        + (positive ? " must be finite and > 0" : " must be finite"));
            }
        }
        return v.clone();
    }

    /** big_vision / LiT: squash to size x size, values in [-1, 1]. */
    public static Preprocess bigVision(int size) {
        return new Preprocess(size, Resize.SQUASH, Values.MINUS_ONE_TO_ONE, null, null);
    }

    /** Mean/std normalisation with the given geometry. */
    public static Preprocess meanStd(int size, Resize resize, float[] mean, float[] std) {
        return new Preprocess(size, resize, Values.MEAN_STD, mean, std);
    }

    /** OpenAI CLIP ({@code CLIPImageProcessor}'s defaults): shorter side to size (bicubic), centre crop, CLIP mean/std. */
    public static Preprocess clip(int size) {
        return meanStd(size, Resize.CENTER_CROP, CLIP_MEAN, CLIP_STD).withFilter(Filter.BICUBIC);
    }

    /** The same with another resampling filter. */
    public Preprocess withFilter(Filter f) {
        return new Preprocess(size, resize, values, mean, std, f);
    }

    @Override
    public float[] mean() {
        return mean == null ? null : mean.clone();
    }

    @Override
    public float[] std() {
        return std == null ? null : std.clone();
    }

    /** Floats per image: {@code size * size * 3}. */
    public int floatsPerImage() {
        return size * size * 3;
    }

    /**
     * A canonical one-line description, stable across runs and machines, for cache keys: two
     * preprocesses give the same string exactly when they give the same pixels.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder("size=").append(size)
                .append(" resize=").append(resize.name().toLowerCase(Locale.ROOT))
                .append(" sample=").append(filter == Filter.TRIANGLE ? ALGORITHM : CUBIC_ALGORITHM)
                .append(" channels=rgb");
        if (values == Values.MINUS_ONE_TO_ONE) {
            sb.append(" values=-1..1");
        } else {
            sb.append(" values=meanstd(mean=").append(join(mean)).append(";std=").append(join(std)).append(')');
        }
        return sb.toString();
    }

    private static String join(float[] v) {
        return Float.toString(v[0]) + ',' + v[1] + ',' + v[2];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocess p && p.size == size && p.resize == resize && p.values == values
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std) && p.filter == filter;
    }

    @Override
    public int hashCode() {
        return describe().hashCode();
    }

    @Override
    public String toString() {
        return "Preprocess[" + describe() + "]";
    }

    /** {@code v} (0..255, any real) mapped to model units for channel {@code c}. */
    double map(double v, int c) {
        return values == Values.MINUS_ONE_TO_ONE ? v / 127.5 - 1.0 : (v / 255.0 - mean[c]) / std[c];
    }
}

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
 * A ViT image tower (big_vision's layout): patch embedding, learned position embedding on the
 * patches, an optional CLS token, pre-LN encoder blocks, a final LayerNorm, pooling by the CLS
 * token ({@code tok}), the mean of the patch tokens ({@code gap}) or a multihead attention pooling
 * head ({@code map}: SigLIP's, see {@link MapHead}), and an optional linear head.
 * The {@link Layout#CLIP} layout is OpenAI CLIP's vision tower instead.
 */
public record ViTConfig(int imageSize, int patchSize, int channels, int width, int depth, int heads, int mlpDim,
                        Pooling pool, float lnEps, Gelu gelu, int headDim, Layout layout) {

    /** Where the two ViT families differ. */
    public enum Layout {
        /** big_vision (and HF ViT): the patch embedding and the head have biases. */
        BIG_VISION,
        /**
         * OpenAI CLIP (transformers' {@code CLIPVisionTransformer}): no patch-embedding bias, a
         * LayerNorm on the embeddings before the blocks ({@code img.pre_norm}, CLIP's
         * {@code pre_layrnorm}), CLS pooling, and a head (CLIP's {@code visual_projection}) without bias.
         */
        CLIP;

        static Layout parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "big_vision" -> BIG_VISION;
                case "clip" -> CLIP;
                default -> throw new LitException("unknown image tower layout '" + s + "' (big_vision or clip)");
            };
        }
    }

    /** A big_vision-layout tower. */
    public ViTConfig(int imageSize, int patchSize, int channels, int width, int depth, int heads, int mlpDim,
                     Pooling pool, float lnEps, Gelu gelu, int headDim) {
        this(imageSize, patchSize, channels, width, depth, heads, mlpDim, pool, lnEps, gelu, headDim, Layout.BIG_VISION);
    }

    /** How the image tower pools its tokens. */
    public enum Pooling {
        TOK, GAP, MAP;

        static Pooling parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "tok", "cls", "token" -> TOK;
                case "gap", "mean" -> GAP;
                case "map" -> MAP;
                default -> throw new LitException("unknown image pool '" + s + "' (tok, gap or map)");
            };
        }
    }

    public ViTConfig {
        String w = "image tower config";
        Json.positive(w, "image_size", imageSize);
        Json.positive(w, "patch_size", patchSize);
        Json.positive(w, "channels", channels);
        Json.encoder(w, width, depth, heads, mlpDim, lnEps, headDim);
        if (imageSize % patchSize != 0) {
            throw new LitException(w + ": image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        }
        Json.positive(w, "patch_size * patch_size * channels", (long) patchSize * patchSize * channels);
        Json.positive(w, "patches per image", (long) (imageSize / patchSize) * (imageSize / patchSize));
        if (layout == null) {
            layout = Layout.BIG_VISION;
        }
        if (layout == Layout.CLIP && pool != Pooling.TOK) {
            throw new LitException(w + ": the clip layout pools the CLS token (pool tok), not " + pool);
        }
    }

    /** Whether the patch embedding has a bias ({@code img.patch.bias}). */
    public boolean patchBias() {
        return layout != Layout.CLIP;
    }

    /** Whether a LayerNorm ({@code img.pre_norm}) runs on the embeddings before the blocks. */
    public boolean preNorm() {
        return layout == Layout.CLIP;
    }

    /** Whether the head has a bias ({@code img.head.bias}). */
    public boolean headBias() {
        return layout != Layout.CLIP;
    }

    public int gridSize() {
        return imageSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Tokens through the encoder: the patches, plus the CLS token with {@code tok} pooling. */
    public int tokens() {
        return numPatches() + (pool == Pooling.TOK ? 1 : 0);
    }

    public int patchDim() {
        return patchSize * patchSize * channels;
    }

    /** The tower's output width: the head's, or the pooled feature's when there is no head. */
    public int outDim() {
        return headDim > 0 ? headDim : width;
    }

    public ViTConfig withHeadDim(int newHeadDim) {
        return new ViTConfig(imageSize, patchSize, channels, width, depth, heads, mlpDim, pool, lnEps, gelu, newHeadDim, layout);
    }

    public ViTConfig withNumerics(float eps, Gelu g) {
        return new ViTConfig(imageSize, patchSize, channels, width, depth, heads, mlpDim, pool, eps, g, headDim, layout);
    }

    /** Every parameter, named as in models/README.md. */
    public List<ParamSpec> params() {
        List<ParamSpec> p = new ArrayList<>();
        p.add(new ParamSpec("img.patch.kernel", new int[] {patchDim(), width}));
        if (patchBias()) {
            p.add(new ParamSpec("img.patch.bias", new int[] {width}));
        }
        if (pool == Pooling.TOK) {
            p.add(new ParamSpec("img.cls", new int[] {width}));
        }
        p.add(new ParamSpec("img.pos", new int[] {numPatches(), width}));
        if (preNorm()) {
            p.add(new ParamSpec("img.pre_norm.scale", new int[] {width}));
            p.add(new ParamSpec("img.pre_norm.bias", new int[] {width}));
        }
        Encoder.params(p, "img", depth, width, mlpDim);
        p.add(new ParamSpec("img.norm.scale", new int[] {width}));
        p.add(new ParamSpec("img.norm.bias", new int[] {width}));
        if (pool == Pooling.MAP) {
            MapHead.params(p, width, mlpDim);
        }
        if (headDim > 0) {
            p.add(new ParamSpec("img.head.kernel", new int[] {width, headDim}));
            if (headBias()) {
                p.add(new ParamSpec("img.head.bias", new int[] {headDim}));
            }
        }
        return p;
    }

    /** Multiply-adds of one image's forward pass, times two (for GFLOP/s figures). */
    public double flopsPerImage() {
        double t = tokens();
        double perBlock = 2 * t * (3.0 * width * width + width * width + 2.0 * width * mlpDim) + 4 * t * t * width;
        double map = pool == Pooling.MAP ? MapHead.flops(numPatches(), width, mlpDim) : 0;
        return 2 * numPatches() * (double) patchDim() * width + depth * perBlock + map + 2.0 * width * Math.max(headDim, 0);
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("image_size", imageSize);
        o.addProperty("patch_size", patchSize);
        o.addProperty("channels", channels);
        Json.putEncoder(o, width, depth, heads, mlpDim);
        o.addProperty("pool", pool.name().toLowerCase(Locale.ROOT));
        Json.putNumerics(o, lnEps, gelu, headDim);
        if (layout != Layout.BIG_VISION) {
            o.addProperty("layout", layout.name().toLowerCase(Locale.ROOT));
        }
        return o;
    }

    public static ViTConfig fromJson(JsonElement e, String where) {
        Json j = Json.of(e, where);
        j.onlyKnown(Set.of("image_size", "patch_size", "channels", "width", "depth", "heads", "mlp_dim", "pool", "ln_eps",
                "gelu", "head_dim", "layout"));
        return Json.build(where, () -> new ViTConfig(
                j.integer("image_size"), j.integer("patch_size"), j.integer("channels", 3), j.integer("width"),
                j.integer("depth"), j.integer("heads"), j.integer("mlp_dim"), Pooling.parse(j.string("pool", "tok")),
                (float) j.number("ln_eps", 1e-6), Gelu.parse(j.string("gelu", "tanh")), j.integer("head_dim", 0),
                Layout.parse(j.string("layout", "big_vision"))));
    }
}

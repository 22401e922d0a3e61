package io.lit4j.checkpoint;

import io.lit4j.backend.Gelu;
import io.lit4j.checkpoint.WeightMap.Arr;
import io.lit4j.checkpoint.WeightMap.Reader;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.BertConfig;
import io.lit4j.model.ClipTextConfig;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TextTransformerConfig;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;


/**
 * big_vision LiT and SigLIP / SigLIP 2 checkpoints ({@code .npz}, keys joined by '/', at the top
 * or under {@code params/}): the image tower in the ViT naming of any age, pooled by CLS, mean or
 * a MAP head ({@code MAPHead_0}), the text tower as big_vision's text transformer or flaxformer's
 * BERT, and {@code t} (and {@code b}). Mirrors big_vision's own repairs ({@code
 * models/vit.py fix_old_checkpoints}, {@code convert_pre_linen}, {@code scan_to_pyloop}, the text
 * transformer's doubled posemb). Where the file stores the head count (q/k/v kernels {@code
 * [D, H, dh]}), it must be the config's.
 */
final class BigVisionFormat {
    private BigVisionFormat() {
    }

    /** The arrays as the recipes name them: SigLIP's published files keep them under {@code params/}. */
    static ArraySource view(ArraySource file) {
        return PrefixedSource.strip(file, "params/");
    }

    static boolean looksLike(ArraySource src) {
        return src.keys().stream().anyMatch(k -> k.startsWith("img/") || k.startsWith("txt/"));
    }

    // ------------------------------------------------------------------ where an encoder's blocks live

    /** One encoder's naming: its key prefix, per-block or scanned, pre-linen or linen sub-module names. */
    record EncoderLayout(String prefix, boolean scanned, boolean preLinen, int depth) {
        String ln1() {
            return "LayerNorm_0";
        }

        String attn() {
            return preLinen ? "MultiHeadDotProductAttention_1" : "MultiHeadDotProductAttention_0";
        }

        String ln2() {
            return preLinen ? "LayerNorm_2" : "LayerNorm_1";
        }

        String mlp() {
            return preLinen ? "MlpBlock_3" : "MlpBlock_0";
        }

        /** Block {@code i}'s array {@code sub} (e.g. "LayerNorm_0/scale"). */
        Arr read(Reader r, int i, String sub) {
            return scanned ? r.readStacked(prefix + "encoderblock/" + sub, i) : r.read(prefix + "encoderblock_" + i + "/" + sub);
        }

        /** Block {@code i}'s array {@code sub} named for messages. */
        String name(int i, String sub) {
            return scanned ? prefix + "encoderblock/" + sub + " (block " + i + ")" : prefix + "encoderblock_" + i + "/" + sub;
        }

        /** The block-0 key of {@code sub}, for shape inference. */
        String firstKey(String sub) {
            return scanned ? prefix + "encoderblock/" + sub : prefix + "encoderblock_0/" + sub;
        }

        /** Dimension {@code i} of block 0's array {@code sub}, whose per-block layout is {@code layout} ("[D, M]"). */
        int size(ArraySource src, String sub, String layout, int i) {
            return scanned ? Dims.of(src, firstKey(sub), "[L, " + layout.substring(1)).size(i + 1)
                    : Dims.of(src, firstKey(sub), layout).size(i);
        }

        static EncoderLayout detect(ArraySource src, String prefix) {
            boolean scanned = src.keys().stream().anyMatch(k -> k.startsWith(prefix + "encoderblock/"));
            int depth;
            String first;
            if (scanned) {
                first = prefix + "encoderblock/";
                depth = Dims.of(src, prefix + "encoderblock/LayerNorm_0/scale", "[L, D]").size(0);
            } else {
                depth = BlockCount.of(src, prefix + "encoderblock_", "/");
                if (depth == 0) {
                    throw new CheckpointException(src.file(), "no encoder blocks under '" + prefix + "' (expected "
                            + prefix + "encoderblock_0/... or a scanned " + prefix + "encoderblock/...)");
                }
                first = prefix + "encoderblock_0/";
            }
            boolean preLinen = src.contains(first + "MultiHeadDotProductAttention_1/query/kernel");
            return new EncoderLayout(prefix, scanned, preLinen, depth);
        }
    }

    /** Recipes for {@code depth} pre-LN blocks of a flax ViT-style encoder with {@code heads} attention heads. */
    static void preLnBlocks(WeightMap map, String lit, EncoderLayout e, int heads) {
        for (int i = 0; i < e.depth(); i++) {
            int bi = i;
            String b = lit + ".blocks." + i + ".";
            String attn = e.attn() + "/";
            map.put(b + "ln1.scale", r -> e.read(r, bi, e.ln1() + "/scale"));
            map.put(b + "ln1.bias", r -> e.read(r, bi, e.ln1() + "/bias"));
            map.put(b + "attn.qkv.kernel", r -> Arr.concatLast(qkvKernel(r, e.read(r, bi, attn + "query/kernel"), heads, e.name(bi, attn + "query/kernel")),
                    qkvKernel(r, e.read(r, bi, attn + "key/kernel"), heads, e.name(bi, attn + "key/kernel")),
                    qkvKernel(r, e.read(r, bi, attn + "value/kernel"), heads, e.name(bi, attn + "value/kernel"))));
            map.put(b + "attn.qkv.bias", r -> Arr.concatLast(flat(e.read(r, bi, attn + "query/bias")),
                    flat(e.read(r, bi, attn + "key/bias")), flat(e.read(r, bi, attn + "value/bias"))));
            map.put(b + "attn.out.kernel", r -> outKernel(r, e.read(r, bi, attn + "out/kernel"), heads, e.name(bi, attn + "out/kernel")));
            map.put(b + "attn.out.bias", r -> e.read(r, bi, attn + "out/bias"));
            map.put(b + "ln2.scale", r -> e.read(r, bi, e.ln2() + "/scale"));
            map.put(b + "ln2.bias", r -> e.read(r, bi, e.ln2() + "/bias"));
            map.put(b + "mlp.fc1.kernel", r -> e.read(r, bi, e.mlp() + "/Dense_0/kernel"));
            map.put(b + "mlp.fc1.bias", r -> e.read(r, bi, e.mlp() + "/Dense_0/bias"));
            map.put(b + "mlp.fc2.kernel", r -> e.read(r, bi, e.mlp() + "/Dense_1/kernel"));
            map.put(b + "mlp.fc2.bias", r -> e.read(r, bi, e.mlp() + "/Dense_1/bias"));
        }
    }

    /** A q/k/v kernel [D, H, dh] (or already [D, D]) as [D, H*dh]. */
    static Arr flatKernel(Arr k) {
        return k.reshape(k.dim(0), k.data().length / k.dim(0));
    }

    /** A q/k/v kernel as [D, H*dh], its stored head count (if it has one) checked against the config's. */
    static Arr qkvKernel(Reader r, Arr k, int heads, String key) {
        if (k.shape().length == 3 && k.dim(1) != heads) {
            throw headsMismatch(r, key, k, k.dim(1), heads);
        }
        return flatKernel(k);
    }

    /** An attention output kernel [H, dh, D] (or [D, D]) as [H*dh, D], its head count checked. */
    static Arr outKernel(Reader r, Arr k, int heads, String key) {
        if (k.shape().length == 3 && k.dim(0) != heads) {
            throw headsMismatch(r, key, k, k.dim(0), heads);
        }
        return k.reshape(k.data().length / k.dim(-1), k.dim(-1));
    }

    private static CheckpointException headsMismatch(Reader r, String key, Arr k, long stored, int heads) {
        return new CheckpointException(r.file(), key, "stores " + stored + " attention heads (shape " + k.shapeString()
                + ") but the config says " + heads + " - is the config right for this file?");
    }

    static Arr flat(Arr a) {
        return a.reshape(a.data().length);
    }

    // ------------------------------------------------------------------ image tower

    private static String posembKey(ArraySource src) {
        for (String k : new String[] {"img/pos_embedding", "img/Transformer/pos_embedding", "img/Transformer/posembed_input/pos_embedding"}) {
            if (src.contains(k)) {
                return k;
            }
        }
        throw new CheckpointException(src.file(), "no image position embedding (img/pos_embedding or img/Transformer/posembed_input/pos_embedding)");
    }

    /**
     * Where a MAP head's arrays live: {@code img/MAPHead_0/}, or {@code img/} itself for the inlined
     * head of ViT-G-era files ({@code fix_old_checkpoints}); null without a head.
     */
    static String mapPrefix(ArraySource src) {
        return src.contains("img/MAPHead_0/probe") ? "img/MAPHead_0/" : src.contains("img/probe") ? "img/" : null;
    }

    static ViTConfig inferImage(ArraySource src) {
        if (src.contains("img/pre_logits/kernel")) {
            throw new CheckpointException(src.file(), "img/pre_logits/kernel", "this image tower has a pre_logits layer, which lit4j does not implement");
        }
        String mapHead = mapPrefix(src);
        Dims k = Dims.of(src, "img/embedding/kernel", "[P, P, C, D]");
        if (k.size(0) != k.size(1)) {
            throw new CheckpointException(src.file(), "img/embedding/kernel", "expected a square conv kernel [P, P, C, D], got "
                    + src.info("img/embedding/kernel").shapeString());
        }
        int patch = k.size(0), channels = k.size(2), width = k.size(3);
        EncoderLayout e = EncoderLayout.detect(src, "img/Transformer/");
        int heads = e.size(src, e.attn() + "/query/kernel", "[D, H, dh]", 1);
        int mlp = e.size(src, e.mlp() + "/Dense_0/kernel", "[D, M]", 1);
        boolean cls = src.contains("img/cls");
        if (cls && mapHead != null) {
            throw new CheckpointException(src.file(), mapHead + "probe", "the image tower has both a CLS token (img/cls) and a MAP head: one pooling only");
        }
        long tokens = Dims.of(src, posembKey(src), "[1, N, D]").size(1);
        long patches = tokens;
        // an N+1 posemb: a CLS slot (folded into the token), or, without one, dropped as big_vision does
        if (!isSquare(tokens) && isSquare(tokens - 1)) {
            patches = tokens - 1;
        }
        if (!isSquare(patches)) {
            throw new CheckpointException(src.file(), posembKey(src), tokens + " position embeddings do not make a square patch grid");
        }
        int grid = (int) Math.round(Math.sqrt(patches));
        int headDim = src.contains("img/head/kernel") ? Dims.of(src, "img/head/kernel", "[D, E]").size(1) : 0;
        return new ViTConfig(grid * patch, patch, channels, width, e.depth(), heads, mlp,
                cls ? ViTConfig.Pooling.TOK : mapHead != null ? ViTConfig.Pooling.MAP : ViTConfig.Pooling.GAP, 1e-6f, Gelu.TANH, headDim);
    }

    private static boolean isSquare(long n) {
        long r = Math.round(Math.sqrt(n));
        return n > 0 && r * r == n;
    }

    static void imageRecipes(WeightMap map, ViTConfig cfg, ArraySource src) {
        EncoderLayout e = EncoderLayout.detect(src, "img/Transformer/");
        String pe = posembKey(src);
        map.put("img.patch.kernel", r -> {
            Arr k = r.read("img/embedding/kernel"); // HWIO == (row, column, channel) x D
            return k.reshape(k.data().length / k.dim(-1), k.dim(-1));
        });
        map.copy("img.patch.bias", "img/embedding/bias");
        int n = cfg.numPatches();
        map.put("img.pos", r -> {
            Arr p = r.read(pe).squeezeLeading(2);
            return p.dim(0) == n + 1 ? p.index0Range(1, n + 1) : p;
        });
        if (cfg.pool() == ViTConfig.Pooling.TOK) {
            map.put("img.cls", r -> {
                Arr c = flat(r.read("img/cls"));
                Arr p = r.read(pe).squeezeLeading(2);
                if (p.dim(0) == n + 1) { // old layout: posemb added after the CLS token was prepended
                    float[] v = c.data().clone();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += p.data()[i];
                    }
                    return new Arr(c.shape(), v);
                }
                return c;
            });
        }
        preLnBlocks(map, "img", e, cfg.heads());
        map.copy("img.norm.scale", "img/Transformer/encoder_norm/scale");
        map.copy("img.norm.bias", "img/Transformer/encoder_norm/bias");
        if (cfg.pool() == ViTConfig.Pooling.MAP) {
            String mp = mapPrefix(src);
            if (mp == null) {
                throw new CheckpointException(src.file(), "img/MAPHead_0/probe", "the config pools by a MAP head, but the file has none");
            }
            mapRecipes(map, mp, cfg.heads());
        }
        if (cfg.headDim() > 0) {
            map.copy("img.head.kernel", "img/head/kernel");
            map.copy("img.head.bias", "img/head/bias");
        }
    }

    /** big_vision's MAPHead (probe [1, 1, D], one flax attention, LayerNorm_0, MlpBlock_0) as lit4j's img.map.*. */
    static void mapRecipes(WeightMap map, String mp, int heads) {
        String att = mp + "MultiHeadDotProductAttention_0/";
        map.put("img.map.probe", r -> flat(r.read(mp + "probe")));
        map.put("img.map.attn.qkv.kernel", r -> Arr.concatLast(qkvKernel(r, r.read(att + "query/kernel"), heads, att + "query/kernel"),
                qkvKernel(r, r.read(att + "key/kernel"), heads, att + "key/kernel"),
                qkvKernel(r, r.read(att + "value/kernel"), heads, att + "value/kernel")));
        map.put("img.map.attn.qkv.bias", r -> Arr.concatLast(flat(r.read(att + "query/bias")), flat(r.read(att + "key/bias")),
                flat(r.read(att + "value/bias"))));
        map.put("img.map.attn.out.kernel", r -> outKernel(r, r.read(att + "out/kernel"), heads, att + "out/kernel"));
        map.copy("img.map.attn.out.bias", att + "out/bias");
        map.copy("img.map.ln.scale", mp + "LayerNorm_0/scale");
        map.copy("img.map.ln.bias", mp + "LayerNorm_0/bias");
        map.copy("img.map.mlp.fc1.kernel", mp + "MlpBlock_0/Dense_0/kernel");
        map.copy("img.map.mlp.fc1.bias", mp + "MlpBlock_0/Dense_0/bias");
        map.copy("img.map.mlp.fc2.kernel", mp + "MlpBlock_0/Dense_1/kernel");
        map.copy("img.map.mlp.fc2.bias", mp + "MlpBlock_0/Dense_1/bias");
    }

    // ------------------------------------------------------------------ text towers

    static final String BERT = "txt/BertEncoder_0/";
    static final String BERT_LAYERS = BERT + "encoder_block/layer_sequence/layers_";

    static TextConfig inferText(ArraySource src) {
        int headDim = src.contains("txt/head/kernel") ? Dims.of(src, "txt/head/kernel", "[D, E]").size(1) : 0;
        if (src.contains(BERT + "embedder/embedders_token_ids/embedding")) {
            Dims tok = Dims.of(src, BERT + "embedder/embedders_token_ids/embedding", "[V, D]");
            int positions = Dims.of(src, BERT + "embedder/embedders_position_ids/embedding", "[P, D]").size(0);
            int types = Dims.of(src, BERT + "embedder/embedders_segment_ids/embedding", "[T, D]").size(0);
            int depth = BlockCount.of(src, BERT_LAYERS, "/");
            if (depth == 0) {
                throw new CheckpointException(src.file(), "no BERT layers (" + BERT_LAYERS + "0/...)");
            }
            int width = tok.size(1);
            int mlp = Dims.of(src, BERT_LAYERS + "0/mlp_block/mlp/dense_layer/kernel", "[D, M]").size(1);
            // BERT kernels are [D, D]: the head count is not in the file. BERT uses 64-wide heads.
            int heads = Math.max(1, width / 64);
            return new BertConfig(tok.size(0), positions, types, Math.min(16, positions), width, depth, heads, mlp,
                    1e-12f, Gelu.TANH, headDim);
        }
        if (src.contains("txt/Embed_0/embedding")) {
            Dims tok = Dims.of(src, "txt/Embed_0/embedding", "[V, D]");
            int positions = Dims.of(src, "txt/pos_embedding", "[1, N, D]").size(1);
            EncoderLayout e = EncoderLayout.detect(src, "txt/Encoder_0/");
            int heads = e.size(src, e.attn() + "/query/kernel", "[D, H, dh]", 1);
            int mlp = e.size(src, e.mlp() + "/Dense_0/kernel", "[D, M]", 1);
            return new TextTransformerConfig(tok.size(0), positions, tok.size(1), e.depth(), heads, mlp,
                    TextTransformerConfig.Pooling.LAST, 1e-6f, Gelu.TANH, headDim);
        }
        throw new CheckpointException(src.file(), "the txt/ tower is neither big_vision's text transformer (txt/Embed_0) nor BERT (txt/BertEncoder_0)");
    }

    static void textRecipes(WeightMap map, TextConfig cfg, ArraySource src) {
        switch (cfg) {
            case TextTransformerConfig tc -> {
                map.copy("txt.tok", "txt/Embed_0/embedding");
                map.put("txt.pos", r -> {
                    Arr p = r.read("txt/pos_embedding").squeezeLeading(2);
                    if (r.has("txt/Encoder_0/pos_embedding")) { // old files added a second posemb by mistake
                        Arr extra = r.read("txt/Encoder_0/pos_embedding").squeezeLeading(2);
                        float[] v = p.data().clone();
                        for (int i = 0; i < v.length; i++) {
                            v[i] += extra.data()[i];
                        }
                        return new Arr(p.shape(), v);
                    }
                    return p;
                });
                preLnBlocks(map, "txt", EncoderLayout.detect(src, "txt/Encoder_0/"), tc.heads());
                map.copy("txt.norm.scale", "txt/Encoder_0/encoder_norm/scale");
                map.copy("txt.norm.bias", "txt/Encoder_0/encoder_norm/bias");
            }
            case BertConfig bc -> {
                map.copy("txt.tok", BERT + "embedder/embedders_token_ids/embedding");
                map.copy("txt.pos", BERT + "embedder/embedders_position_ids/embedding");
                map.copy("txt.type", BERT + "embedder/embedders_segment_ids/embedding");
                map.copy("txt.emb_norm.scale", BERT + "layer_norm/scale");
                map.copy("txt.emb_norm.bias", BERT + "layer_norm/bias");
                for (int i = 0; i < bc.depth(); i++) {
                    String b = "txt.blocks." + i + ".";
                    String s = BERT_LAYERS + i + "/";
                    String att = s + "attention_block/attention_layer/";
                    map.put(b + "attn.qkv.kernel", r -> Arr.concatLast(flatKernel(r.read(att + "query/kernel")),
                            flatKernel(r.read(att + "key/kernel")), flatKernel(r.read(att + "value/kernel"))));
                    map.put(b + "attn.qkv.bias", r -> Arr.concatLast(flat(r.read(att + "query/bias")), flat(r.read(att + "key/bias")),
                            flat(r.read(att + "value/bias"))));
                    map.put(b + "attn.out.kernel", r -> {
                        Arr k = r.read(s + "attention_block/dense_layer/kernel");
                        return k.reshape(k.data().length / k.dim(-1), k.dim(-1));
                    });
                    map.copy(b + "attn.out.bias", s + "attention_block/dense_layer/bias");
                    map.copy(b + "ln1.scale", s + "attention_block/layer_norm/scale");
                    map.copy(b + "ln1.bias", s + "attention_block/layer_norm/bias");
                    map.copy(b + "mlp.fc1.kernel", s + "mlp_block/mlp/dense_layer/kernel");
                    map.copy(b + "mlp.fc1.bias", s + "mlp_block/mlp/dense_layer/bias");
                    map.copy(b + "mlp.fc2.kernel", s + "mlp_block/dense_layer/kernel");
                    map.copy(b + "mlp.fc2.bias", s + "mlp_block/dense_layer/bias");
                    map.copy(b + "ln2.scale", s + "mlp_block/layer_norm/scale");
                    map.copy(b + "ln2.bias", s + "mlp_block/layer_norm/bias");
                }
            }
            case ClipTextConfig cc -> throw new CheckpointException(src.file(), "a big_vision file has no CLIP text tower (the config asks for one)");
        }
        if (cfg.headDim() > 0) {
            map.copy("txt.head.kernel", "txt/head/kernel");
            map.copy("txt.head.bias", "txt/head/bias");
        }
    }

    // ------------------------------------------------------------------ the whole file

    static TwoTowerConfig inferConfig(ArraySource src) {
        boolean img = src.keys().stream().anyMatch(k -> k.startsWith("img/"));
        boolean txt = src.keys().stream().anyMatch(k -> k.startsWith("txt/"));
        return new TwoTowerConfig(img ? inferImage(src) : null, txt ? inferText(src) : null,
                src.contains("b") ? TwoTowerConfig.Loss.SIGMOID : TwoTowerConfig.Loss.SOFTMAX);
    }

    static WeightMap weightMap(TwoTowerConfig cfg, ArraySource src) {
        WeightMap map = new WeightMap();
        if (cfg.hasImage()) {
            imageRecipes(map, cfg.image(), src);
        }
        if (cfg.hasText()) {
            textRecipes(map, cfg.text(), src);
        }
        if (cfg.hasImage() && cfg.hasText()) {
            map.copy("t", "t");
            if (cfg.loss() == TwoTowerConfig.Loss.SIGMOID) {
                map.copy("b", "b");
            }
        }
        return map;
    }
}

package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Pool;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/** The ViT image tower's forward pass over parameters named {@code img.*}. */
public final class ImageTower {
    private final ViTConfig cfg;

    public ImageTower(ViTConfig cfg) {
        this.cfg = cfg;
    }

    public ViTConfig config() {
        return cfg;
    }

    /**
     * Runs the tower on {@code images[B,S,S,C]} (NHWC, fp32, already normalised) and writes the
     * head output {@code out[B, outDim]} (not yet L2-normalised). Scratch comes from {@code arena}.
     */
    public void forward(Backend be, Params p, TensorArena arena, Tensor images, Tensor out, ForwardObserver obs) {
        forward(be, p, arena, images, out, DType.F32, obs);
    }

    /** As above; {@code matmulInput} BF16 runs the block matmuls on bf16 inputs (see {@link Encoder.Scratch}). */
    public void forward(Backend be, Params p, TensorArena arena, Tensor images, Tensor out, DType matmulInput, ForwardObserver obs) {
        int s = cfg.imageSize();
        if (images.rank() != 4 || images.dim(1) != s || images.dim(2) != s || images.dim(3) != cfg.channels()) {
            throw new LitException("image tower expects images [B," + s + "," + s + "," + cfg.channels() + "], got " + images);
        }
        int b = images.dim(0), n = cfg.numPatches(), d = cfg.width(), t = cfg.tokens();
        Tensor patches = arena.allocate(DType.F32, b, n, cfg.patchDim());
        be.patchify(images, cfg.patchSize(), patches);
        Tensor emb = arena.allocate(DType.F32, b, n, d);
        be.linear(patches, p.get("img.patch.kernel"), p.get("img.patch.bias"), emb, Epilogue.NONE);
        be.add(emb, p.get("img.pos"), emb);
        Tensor x;
        if (cfg.pool() == ViTConfig.Pooling.TOK) {
            x = arena.allocate(DType.F32, b, t, d);
            be.prependToken(p.get("img.cls"), emb, x);
        } else {
            x = emb;
        }
        Encoder.Scratch scratch = Encoder.Scratch.allocate(arena, b, t, d, cfg.heads(), cfg.mlpDim(), matmulInput, false);
        Encoder.preLn(be, p, "img", cfg.depth(), cfg.heads(), cfg.lnEps(), cfg.gelu(), x, null, scratch, obs);
        Tensor encoded = arena.allocate(DType.F32, b, t, d);
        be.layerNorm(x, p.get("img.norm.scale"), p.get("img.norm.bias"), cfg.lnEps(), encoded, null, null);
        obs.onTensor("encoded", encoded);
        Tensor pooled = cfg.headDim() > 0 ? arena.allocate(DType.F32, b, d) : out;
        be.pool(encoded, cfg.pool() == ViTConfig.Pooling.TOK ? Pool.FIRST : Pool.MEAN, 0, pooled);
        obs.onTensor("pooled", pooled);
        if (cfg.headDim() > 0) {
            be.linear(pooled, p.get("img.head.kernel"), p.get("img.head.bias"), out, Epilogue.NONE);
            obs.onTensor("logits", out);
        }
    }
}

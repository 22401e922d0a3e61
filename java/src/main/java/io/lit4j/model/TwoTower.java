package io.lit4j.model;

import io.lit4j.data.TokenBatch;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/**
 * A loaded LiT model: its config, its parameters on a backend, and the two towers. Embedding
 * calls are thread-safe: parameters are only read, and each call's activations live in an arena
 * of its own. Closing frees the parameters (the backend belongs to the caller).
 */
public final class TwoTower implements AutoCloseable {
    private final TwoTowerConfig config;
    private final Backend backend;
    private final TensorArena arena;
    private final Params params;
    private final ImageTower image;
    private final TextTower text;

    private TwoTower(TwoTowerConfig config, Backend backend, TensorArena arena, Params params) {
        this.config = config;
        this.backend = backend;
        this.arena = arena;
        this.params = params;
        this.image = config.hasImage() ? new ImageTower(config.image()) : null;
        this.text = config.hasText() ? new TextTower(config.text()) : null;
    }

    /** A model with every parameter zero, ready to be filled by a loader or an initializer. */
    public static TwoTower allocate(Backend backend, TwoTowerConfig config) {
        TensorArena arena = backend.newArena();
        try {
            return new TwoTower(config, backend, arena, Params.allocate(arena, config.params(), DType.F32));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public TwoTowerConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    public Params params() {
        return params;
    }

    private ImageTower imageTower() {
        if (image == null) {
            throw new LitException("this model has no image tower");
        }
        return image;
    }

    private TextTower textTower() {
        if (text == null) {
            throw new LitException("this model has no text tower");
        }
        return text;
    }

    /**
     * L2-normalised image embeddings {@code [B, E]} (row-major) for {@code pixels}, NHWC fp32
     * already scaled as the tower expects ({@code [-1, 1]} for big_vision towers).
     */
    public float[] embedImages(float[] pixels, int batch) {
        return embedImages(pixels, batch, ForwardObserver.NONE);
    }

    public float[] embedImages(float[] pixels, int batch, ForwardObserver obs) {
        ViTConfig c = imageTower().config();
        try (TensorArena a = backend.newArena()) {
            Tensor images = a.allocate(DType.F32, batch, c.imageSize(), c.imageSize(), c.channels());
            backend.upload(pixels, images);
            Tensor out = a.allocate(DType.F32, batch, c.outDim());
            image.forward(backend, params, a, images, out, obs);
            return normalized(a, out, obs);
        }
    }

    /** L2-normalised text embeddings {@code [B, E]} for token ids (padded with 0). */
    public float[] embedTexts(TokenBatch tokens) {
        return embedTexts(tokens, ForwardObserver.NONE);
    }

    public float[] embedTexts(TokenBatch tokens, ForwardObserver obs) {
        TextConfig c = textTower().config();
        try (TensorArena a = backend.newArena()) {
            Tensor out = a.allocate(DType.F32, tokens.batch(), c.outDim());
            text.forward(backend, params, a, tokens, out, obs);
            return normalized(a, out, obs);
        }
    }

    private float[] normalized(TensorArena a, Tensor out, ForwardObserver obs) {
        Tensor z = a.allocate(DType.F32, out.shape());
        backend.l2Normalize(out, z, null);
        obs.onTensor("embedding", z);
        return backend.download(z);
    }

    /** The learned temperature {@code exp(t)} that scales cosine similarities into logits. */
    public float temperature() {
        if (!params.has("t")) {
            throw new LitException("a single-tower model has no temperature");
        }
        return (float) Math.exp(backend.download(params.get("t"))[0]);
    }

    @Override
    public void close() {
        arena.close();
    }
}

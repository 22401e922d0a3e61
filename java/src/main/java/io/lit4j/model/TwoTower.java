package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A loaded LiT model: its config, its parameters on a backend, and the two towers. Embedding
 * calls are thread-safe: parameters are only read, and each call's activations live in a
 * workspace of its own, kept for the next call. Closing frees the parameters (the backend belongs to the caller).
 */
public final class TwoTower implements AutoCloseable {
    private final TwoTowerConfig config;
    private final Backend backend;
    private final TensorArena arena;
    private final Params params;
    private final ImageTower image;
    private final TextTower text;
    private final Workspaces workspaces;      // activation memory kept between inference calls
    private volatile DType precision = DType.F32;
    private TensorArena packedArena;          // packed kernels for inference, guarded by this
    private Map<String, Tensor> packed;       // name -> packed copy
    private Params inference;                 // params with kernels replaced by their packed copies
    private boolean stale = true;
    private boolean frozen;                   // kernels packed in place: inference only

    private TwoTower(TwoTowerConfig config, Backend backend, TensorArena arena, Params params) {
        this.config = config;
        this.backend = backend;
        this.arena = arena;
        this.params = params;
        this.image = config.hasImage() ? new ImageTower(config.image()) : null;
        this.text = config.hasText() ? new TextTower(config.text()) : null;
        this.workspaces = new Workspaces(backend);
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

    /** The parameters, for training, saving and initialising; not available once {@link #freezeForInference frozen}. */
    public Params params() {
        requireNotFrozen("its parameters cannot be read or trained");
        return params;
    }

    /**
     * Makes this an inference-only model that keeps one copy of its weights instead of two: the
     * matmul kernels are packed into the backend's layout over their own memory (at the current
     * {@link #precision}). Afterwards the model embeds as before but cannot be trained, saved or
     * switched to another precision; load it again for that. Idempotent.
     */
    public synchronized void freezeForInference() {
        if (frozen) {
            return;
        }
        releasePacked();
        Map<String, Tensor> replaced = new LinkedHashMap<>();
        for (ParamSpec s : config.params()) {
            if (isPackable(s)) {
                Tensor w = params.get(s.name());
                Tensor p = backend.packWeightsInPlace(w, packPrecision(s));
                if (p == null) { // the backend packs elsewhere (or not at all): keep its copy
                    if (packedArena == null) {
                        packedArena = backend.newArena();
                    }
                    p = backend.packWeights(w, packPrecision(s), packedArena);
                }
                replaced.put(s.name(), p);
            }
        }
        packed = replaced;
        inference = params.withReplacements(replaced);
        stale = false;
        frozen = true;
    }

    public synchronized boolean frozen() {
        return frozen;
    }

    private void requireNotFrozen(String what) {
        if (frozen) {
            throw new LitException("this model was frozen for inference (its kernels are packed in place): " + what
                    + "; load it again without freezing");
        }
    }

    private static boolean isPackable(ParamSpec s) {
        return s.name().endsWith(".kernel") && s.shape().length == 2;
    }

    /** Block matmuls run at the model's precision; the embedding heads stay fp32. */
    private DType packPrecision(ParamSpec s) {
        return s.name().contains(".blocks.") ? precision : DType.F32;
    }

    /**
     * The precision of the inference matmuls: F32 (default) or BF16 (bf16 weights and matmul
     * inputs, fp32 accumulation and residual stream; embeddings stay within ~1e-2 cosine distance).
     */
    public synchronized void setPrecision(DType p) {
        if (p != DType.F32 && p != DType.BF16) {
            throw new LitException("precision must be F32 or BF16, got " + p);
        }
        if (p != precision) {
            requireNotFrozen("its precision cannot change");
            precision = p;
            releasePacked();
        }
    }

    public DType precision() {
        return precision;
    }

    /** Tells the model its parameters were changed in place (by training): packed copies are redone before the next inference. */
    public synchronized void weightsChanged() {
        requireNotFrozen("its weights cannot change");
        stale = true;
    }

    /** Parameters for inference: the dense kernels packed once into the backend's fastest layout. */
    private synchronized Params inferenceParams() {
        if (packed == null) {
            packedArena = backend.newArena();
            packed = new LinkedHashMap<>();
            for (ParamSpec s : config.params()) {
                if (isPackable(s)) {
                    packed.put(s.name(), backend.packWeights(params.get(s.name()), packPrecision(s), packedArena));
                }
            }
            inference = params.withReplacements(packed);
        } else if (stale) {
            packed.forEach((name, t) -> backend.repackWeights(params.get(name), t));
        }
        stale = false;
        return inference;
    }

    private void releasePacked() {
        if (packedArena != null) {
            packedArena.close();
        }
        packedArena = null;
        packed = null;
        inference = null;
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
        try (TensorArena a = workspaces.take()) {
            Tensor images = a.allocate(DType.F32, batch, c.imageSize(), c.imageSize(), c.channels());
            backend.upload(pixels, images);
            Tensor out = a.allocate(DType.F32, batch, c.outDim());
            image.forward(backend, inferenceParams(), a, images, out, precision, obs);
            return normalized(a, out, obs);
        }
    }

    /** L2-normalised text embeddings {@code [B, E]} for token ids (padded with 0). */
    public float[] embedTexts(TokenBatch tokens) {
        return embedTexts(tokens, ForwardObserver.NONE);
    }

    public float[] embedTexts(TokenBatch tokens, ForwardObserver obs) {
        TextConfig c = textTower().config();
        try (TensorArena a = workspaces.take()) {
            Tensor out = a.allocate(DType.F32, tokens.batch(), c.outDim());
            text.forward(backend, inferenceParams(), a, tokens, out, precision, obs);
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
    public synchronized void close() {
        workspaces.close();
        releasePacked();
        arena.close();
    }
}

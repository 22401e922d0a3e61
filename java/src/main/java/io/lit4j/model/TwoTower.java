package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A loaded LiT model: its config and its parameters on a backend. Embedding calls are
 * thread-safe: parameters are only read, and each call's activations live in a workspace of its
 * own, kept for the next call. Closing frees the parameters (the backend belongs to the caller).
 *
 * <p>An embedding call multiplies by packed kernels: every matmul kernel reordered once into the
 * backend's fastest layout, the blocks' kernels at the {@link Precision}, the patch embedding and
 * the heads in fp32 ({@link #imageWeights}, {@link #textWeights}). A trainable tower at bf16
 * multiplies by bf16 copies of its blocks' kernels in the plain layout, which its backward reads too
 * ({@link #trainingWeights}); at fp32 by the weights themselves. Copies are made on first use, per
 * tower, kept until the model closes (a pass may hold them), and redone where the weights changed
 * ({@link #weightsChanged}), except the training copies an optimizer wrote beside the weights
 * ({@link #trainingCopies}, {@link #weightsChanged(Collection, Map)}). A model that will only embed can be
 * {@linkplain #freezeForInference frozen}: its kernels are then packed over their own memory, and
 * the model keeps one copy of its weights.
 */
public final class TwoTower implements AutoCloseable {
    private final TwoTowerConfig config;
    private final Backend backend;
    private final TensorArena arena;
    private final Params params;
    private final Workspaces workspaces;      // activation memory kept between inference calls
    private volatile Precision precision = Precision.FP32;
    private final Map<Use, Packed> packed = new HashMap<>(); // guarded by this
    private boolean frozen;                   // kernels packed in place: inference only
    private volatile Preprocess preprocess;   // null: the default of the image tower's layout

    /** What a set of kernel copies is for: embedding calls (packed) or training (plain) at a precision. */
    private record Use(Precision precision, boolean training) {
    }

    /**
     * The kernel copies made for one {@link Use} so far (tower by tower), the parameters with them in
     * place of the model's own, and which copies are out of date.
     */
    private static final class Packed {
        final TensorArena arena;                               // packed copies (in-place ones need none)
        final Map<String, Tensor> kernels = new LinkedHashMap<>();
        final Set<String> towers = new HashSet<>();            // "img.", "txt."
        final Set<String> stale = new HashSet<>();
        Params view;

        Packed(TensorArena arena) {
            this.arena = arena;
        }
    }

    private TwoTower(TwoTowerConfig config, Backend backend, TensorArena arena, Params params) {
        this.config = config;
        this.backend = backend;
        this.arena = arena;
        this.params = params;
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

    /**
     * How images become the image tower's input: what the checkpoint's folder says (a HuggingFace
     * {@code preprocessor_config.json}, set by the loader), else the documented default of the
     * tower's layout: CLIP's (shortest side to the image size, centre crop, CLIP's mean and std) or
     * big_vision's (squash, values in [-1, 1]).
     */
    public Preprocess preprocess() {
        if (!config.hasImage()) {
            throw new LitException("this model has no image tower");
        }
        Preprocess p = preprocess;
        return p != null ? p : defaultPreprocess();
    }

    /** The documented preprocessing of the image tower's layout (what {@link #preprocess()} is unless set). */
    public Preprocess defaultPreprocess() {
        if (!config.hasImage()) {
            throw new LitException("this model has no image tower");
        }
        int s = config.image().imageSize();
        return config.image().layout() == ViTConfig.Layout.CLIP ? Preprocess.clip(s) : Preprocess.bigVision(s);
    }

    /** Sets {@link #preprocess()} (its size must be the image tower's). */
    public void setPreprocess(Preprocess p) {
        if (p.size() != config.image().imageSize()) {
            throw new LitException("preprocessing to " + p.size() + " pixels does not fit an image tower of " + config.image().imageSize());
        }
        preprocess = p;
    }

    public Backend backend() {
        return backend;
    }

    /** The parameters, for training, saving and initialising; not available once {@link #freezeForInference frozen}. */
    public Params params() {
        requireNotFrozen("its parameters cannot be read or trained");
        return params;
    }

    private static boolean isPackable(ParamSpec s) {
        return s.name().endsWith(".kernel") && s.shape().length == 2;
    }

    /** What a kernel is packed as: the blocks' at the precision's operand type, the others fp32. */
    private static DType packType(ParamSpec s, Precision p) {
        return s.name().contains(".blocks.") ? p.operands() : DType.F32;
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
        Packed k = new Packed(backend.newArena()); // for kernels the backend cannot pack over their own memory
        packed.put(new Use(precision, false), k);  // registered first: closing the model frees its arena, whatever happens
        for (ParamSpec s : config.params()) {
            if (isPackable(s)) {
                Tensor w = params.get(s.name());
                Tensor p = backend.packWeightsInPlace(w, packType(s, precision));
                k.kernels.put(s.name(), p != null ? p : backend.packWeights(w, packType(s, precision), k.arena));
            }
        }
        k.towers.addAll(Set.of("img.", "txt."));
        k.view = params.withReplacements(k.kernels);
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

    /** The precision of the embedding calls ({@link #embedImages}, {@link #embedTexts}): FP32 unless set. */
    public synchronized void setPrecision(Precision p) {
        if (p != precision) {
            requireNotFrozen("its precision cannot change");
            precision = p;
        }
    }

    public Precision precision() {
        return precision;
    }

    /** Tells the model all its parameters were changed in place: packed kernels are redone before the next forward. */
    public synchronized void weightsChanged() {
        weightsChanged(params.tensors().keySet());
    }

    /** Tells the model the named parameters were changed in place (by an optimizer step). */
    public synchronized void weightsChanged(Collection<String> names) {
        weightsChanged(names, Map.of());
    }

    /**
     * Tells the model the named parameters were changed in place, and that the copies in
     * {@code written} (from {@link #trainingCopies}, by name) were written from the new weights in
     * the same pass: those stay current, every other copy of a named parameter is redone before
     * its next use.
     */
    public synchronized void weightsChanged(Collection<String> names, Map<String, Tensor> written) {
        requireNotFrozen("its weights cannot change");
        for (Packed k : packed.values()) {
            for (String n : names) {
                Tensor copy = k.kernels.get(n);
                if (copy != null && copy == written.get(n)) {
                    k.stale.remove(n);
                } else if (copy != null) {
                    k.stale.add(n);
                }
            }
        }
    }

    /**
     * The bf16 copies (plain layout) that {@link #trainingWeights} multiplies by for {@code tower}
     * at {@code p}, by parameter name, up to date; empty at fp32. An optimizer may write them beside
     * the weights (one pass) and then say so through {@link #weightsChanged(Collection, Map)}.
     */
    public synchronized Map<String, Tensor> trainingCopies(Precision p, String tower) {
        if (p == Precision.FP32) {
            return Map.of();
        }
        weights(new Use(p, true), tower);
        Map<String, Tensor> out = new LinkedHashMap<>();
        packed.get(new Use(p, true)).kernels.forEach((name, copy) -> {
            if (name.startsWith(tower)) {
                out.put(name, copy);
            }
        });
        return out;
    }

    /**
     * The parameters under {@code tower} whose training copies at {@code p} are out of date (to be
     * redone from the weights before their next use); empty when the optimizer wrote them all.
     */
    public synchronized Set<String> staleTrainingCopies(Precision p, String tower) {
        Packed k = packed.get(new Use(p, true));
        Set<String> out = new TreeSet<>();
        if (k != null) {
            k.stale.stream().filter(n -> n.startsWith(tower)).forEach(out::add);
        }
        return out;
    }

    /** The image tower's parameters as an embedding call multiplies them at {@code p} (see the class comment). */
    public Params imageWeights(Precision p) {
        return weights(new Use(p, false), "img.");
    }

    /** The text tower's parameters as an embedding call multiplies them at {@code p} (see the class comment). */
    public Params textWeights(Precision p) {
        return weights(new Use(p, false), "txt.");
    }

    /**
     * The parameters a trainable tower ({@code "img."} or {@code "txt."}) multiplies by at {@code p},
     * forward and backward: the model's own at fp32; at bf16 with its blocks' kernels replaced by
     * bf16 copies in the plain layout, brought up to date with the weights first.
     */
    public Params trainingWeights(Precision p, String tower) {
        return p == Precision.FP32 ? params() : weights(new Use(p, true), tower);
    }

    /** A view with the kernels under {@code tower} copied for {@code use} and up to date (copied on first use). */
    private synchronized Params weights(Use use, String tower) {
        Packed k = packed.get(use);
        if (frozen && (k == null || !k.towers.contains(tower))) {
            throw new LitException("this model was frozen for inference at " + precision.label() + "; it cannot run at "
                    + use.precision().label() + (use.training() ? " for training" : ""));
        }
        if (k == null) {
            k = new Packed(backend.newArena());
            packed.put(use, k);
        }
        if (k.towers.add(tower)) {
            for (ParamSpec s : config.params()) {
                DType type = packType(s, use.precision());
                if (!isPackable(s) || !s.name().startsWith(tower) || (use.training() && type == DType.F32)) {
                    continue; // training multiplies by its own fp32 kernels
                }
                Tensor w = params.get(s.name());
                Tensor copy = use.training() ? k.arena.allocate(type, w.shape()) : backend.packWeights(w, type, k.arena);
                if (use.training()) {
                    backend.copy(w, copy);
                }
                k.kernels.put(s.name(), copy);
            }
            k.stale.removeIf(n -> n.startsWith(tower));
            k.view = params.withReplacements(k.kernels);
        }
        for (var it = k.stale.iterator(); it.hasNext(); ) {
            String name = it.next();
            if (name.startsWith(tower)) {
                if (use.training()) {
                    backend.copy(params.get(name), k.kernels.get(name));
                } else {
                    backend.repackWeights(params.get(name), k.kernels.get(name));
                }
                it.remove();
            }
        }
        return k.view;
    }

    private void releasePacked() {
        for (Packed k : packed.values()) {
            k.arena.close();
        }
        packed.clear();
    }

    private ViTConfig imageConfig() {
        if (!config.hasImage()) {
            throw new LitException("this model has no image tower");
        }
        return config.image();
    }

    private TextConfig textConfig() {
        if (!config.hasText()) {
            throw new LitException("this model has no text tower");
        }
        return config.text();
    }

    /**
     * L2-normalised image embeddings {@code [B, E]} (row-major) for {@code pixels}, NHWC fp32
     * already scaled as the tower expects ({@code [-1, 1]} for big_vision towers).
     */
    public float[] embedImages(float[] pixels, int batch) {
        return embedImages(pixels, batch, ForwardObserver.NONE);
    }

    public float[] embedImages(float[] pixels, int batch, ForwardObserver obs) {
        try (TensorArena a = workspaces.take()) {
            return backend.download(imagePass(a, pixels, batch, obs).embeddings());
        }
    }

    /** The image tower's head outputs {@code [B, outDim]} before normalisation: the class logits of a pretrained classifier. */
    public float[] imageOutputs(float[] pixels, int batch) {
        try (TensorArena a = workspaces.take()) {
            return backend.download(imagePass(a, pixels, batch, ForwardObserver.NONE).output());
        }
    }

    private TowerPass.Image imagePass(TensorArena a, float[] pixels, int batch, ForwardObserver obs) {
        ViTConfig c = imageConfig();
        Precision p = precision;
        Tensor images = a.allocate(DType.F32, batch, c.imageSize(), c.imageSize(), c.channels());
        backend.upload(pixels, images);
        TowerPass.Image pass = TowerPass.image(backend, imageWeights(p), a, c, batch, p, TowerPass.Mode.INFERENCE);
        pass.forward(images, obs);
        return pass;
    }

    /** L2-normalised text embeddings {@code [B, E]} for token ids (padded with 0). */
    public float[] embedTexts(TokenBatch tokens) {
        return embedTexts(tokens, ForwardObserver.NONE);
    }

    public float[] embedTexts(TokenBatch tokens, ForwardObserver obs) {
        TextConfig c = textConfig();
        Precision p = precision;
        try (TensorArena a = workspaces.take()) {
            TowerPass.Text pass = TowerPass.text(backend, textWeights(p), a, c, tokens.batch(), tokens.length(), p, TowerPass.Mode.INFERENCE);
            pass.forward(tokens, obs);
            return backend.download(pass.embeddings());
        }
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

package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.ForwardObserver;
import io.lit4j.model.Grads;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Precision;
import io.lit4j.model.TowerPass;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One contrastive tuning step at a fixed batch size: both towers forward (a locked tower runs
 * inference only, or its embeddings are given), the loss, the backward of the trainable towers,
 * then AdamW. Gradient, moment and activation buffers are allocated once here; a step allocates
 * nothing on the backend. A locked text tower's embeddings are remembered per distinct token row
 * (tuning captions repeat: the reference recipe's 60 000 pairs have about 600 distinct captions),
 * so that tower runs once per caption, not once per pair and epoch, as the image side's
 * {@link ImageEmbeddingCache} runs a locked image tower once per image.
 */
public final class TrainingSession implements AutoCloseable {
    /**
     * Knobs beyond the optimizer's. {@code clampLogT} caps log t (open_clip clamps at ln 100); NaN
     * disables. {@code precision}: how the trainable towers multiply (see {@link Precision}).
     */
    public record Options(int batch, int lossBlockRows, float clampLogT, Precision precision) {
        public static Options of(int batch) {
            return new Options(batch, 4096, Float.NaN, Precision.FP32);
        }

        public Options withPrecision(Precision p) {
            return new Options(batch, lossBlockRows, clampLogT, p);
        }
    }

    /** What one step did. */
    public record StepResult(double loss, double temperature, double lr, double gradNorm, boolean clipped) {
    }

    private final TwoTower model;
    private final Backend be;
    private final TensorArena arena;
    private final Options opts;
    private final LockSpec lock;
    private final Grads grads;
    private final AdamW optimizer;
    private final TowerPass.Image imagePass;
    private final TowerPass.Text textPass;
    private final Tensor images, zimgGiven, ztxtGiven, dzimg, dztxt;
    private final ContrastiveLoss loss;
    private final boolean sigmoid;
    private final List<String> trainableNames;
    private final Map<String, Tensor> shadows; // bf16 kernel copies the optimizer writes beside the weights
    /** Most distinct token rows remembered (about 100 MB at 64-d); rows past it are embedded each time. */
    static final int MAX_REMEMBERED_TEXTS = 1 << 18;
    private final Map<IntBuffer, float[]> lockedTexts = new HashMap<>(); // token row -> embedding, when the text tower is locked
    private long textRowsEmbedded;

    public TrainingSession(TwoTower model, LockSpec lock, AdamW.Config opt, Options opts) {
        TwoTowerConfig cfg = model.config();
        if (!cfg.hasImage() || !cfg.hasText()) {
            throw new LitException("tuning needs a model with both towers");
        }
        this.model = model;
        this.be = model.backend();
        this.opts = opts;
        this.lock = lock;
        this.arena = be.newArena();
        try {
            List<ParamSpec> all = cfg.params();
            List<ParamSpec> trainable = lock.trainable(all);
            if (trainable.isEmpty()) {
                throw new LitException("setup " + lock.setup() + " with the given --freeze/--unfreeze leaves nothing to train");
            }
            int maxWidth = Math.max(cfg.image().width(), cfg.text().width());
            this.trainableNames = trainable.stream().map(ParamSpec::name).toList();
            this.grads = new Grads(arena, trainable, maxWidth);
            this.optimizer = new AdamW(be, arena, model.params(), grads, opt);
            int b = opts.batch(), e = cfg.embedDim();
            boolean imageTrains = !lock.imageLocked(all), textTrains = !lock.textLocked(all);
            Precision pr = opts.precision();
            // at bf16 the optimizer writes the trained kernels' bf16 copies in its own pass
            Map<String, Tensor> copies = new LinkedHashMap<>();
            for (String tower : List.of("img.", "txt.")) {
                if (tower.equals("img.") ? imageTrains : textTrains) {
                    model.trainingCopies(pr, tower).forEach((n, c) -> {
                        if (grads.has(n)) {
                            copies.put(n, c);
                        }
                    });
                }
            }
            this.shadows = Map.copyOf(copies);
            optimizer.writeShadows(shadows);
            this.imagePass = imageTrains ? TowerPass.image(be, model.trainingWeights(pr, "img."), arena, cfg.image(), b, pr, TowerPass.Mode.TRAINING) : null;
            this.textPass = textTrains ? TowerPass.text(be, model.trainingWeights(pr, "txt."), arena, cfg.text(), b, cfg.text().contextLength(),
                    pr, TowerPass.Mode.TRAINING) : null;
            int s = cfg.image().imageSize();
            this.images = imageTrains ? arena.allocate(DType.F32, b, s, s, cfg.image().channels()) : null;
            this.zimgGiven = imageTrains ? null : arena.allocate(DType.F32, b, e);
            this.ztxtGiven = textTrains ? null : arena.allocate(DType.F32, b, e);
            this.dzimg = imageTrains ? arena.allocate(DType.F32, b, e) : null;
            this.dztxt = textTrains ? arena.allocate(DType.F32, b, e) : null;
            this.sigmoid = cfg.loss() == TwoTowerConfig.Loss.SIGMOID;
            this.loss = new ContrastiveLoss(cfg.loss(), arena, b, e, opts.lossBlockRows());
        } catch (RuntimeException ex) {
            arena.close();
            throw ex;
        }
    }

    /** True when the image tower does not train: its embeddings may be passed in (from a cache). */
    public boolean imageLocked() {
        return imagePass == null;
    }

    public LockSpec lock() {
        return lock;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public Grads grads() {
        return grads;
    }

    /**
     * Forward, loss and gradients without an update ({@link #step} adds the update). Images are
     * NHWC pixels for the batch; with a locked image tower, {@code imageEmbeddings} (normalised,
     * [B·E]) may be given instead and {@code pixels} may then be null.
     */
    public ContrastiveLoss.Result forwardBackward(float[] pixels, float[] imageEmbeddings, TokenBatch tokens) {
        int b = opts.batch();
        if (tokens.batch() != b) {
            throw new LitException("session built for batch " + b + " got " + tokens.batch() + " texts");
        }
        if (imagePass != null) { // a trainable tower's bf16 kernel copies up to date with the last update (fp32: nothing to do)
            model.trainingWeights(opts.precision(), "img.");
        }
        if (textPass != null) {
            model.trainingWeights(opts.precision(), "txt.");
        }
        Tensor zimg;
        if (imagePass != null) {
            if (pixels == null) {
                throw new LitException("the image tower trains: pass pixels, not cached embeddings");
            }
            be.upload(pixels, images);
            imagePass.forward(images, ForwardObserver.NONE);
            zimg = imagePass.embeddings();
        } else {
            be.upload(imageEmbeddings != null ? imageEmbeddings : model.embedImages(pixels, b), zimgGiven);
            zimg = zimgGiven;
        }
        Tensor ztxt;
        if (textPass != null) {
            textPass.forward(tokens, ForwardObserver.NONE);
            ztxt = textPass.embeddings();
        } else {
            be.upload(lockedTextEmbeddings(tokens), ztxtGiven);
            ztxt = ztxtGiven;
        }
        float logT = scalar("t");
        float bias = sigmoid ? scalar("b") : 0f;
        ContrastiveLoss.Result r = loss.compute(be, zimg, ztxt, logT, bias, dzimg, dztxt);
        if (imagePass != null) {
            imagePass.backward(dzimg, grads);
        }
        if (textPass != null) {
            textPass.backward(dztxt, grads);
        }
        if (grads.has("t")) {
            be.upload(new float[] {(float) r.dLogT()}, grads.get("t"));
        }
        if (sigmoid && grads.has("b")) {
            be.upload(new float[] {(float) r.dBias()}, grads.get("b"));
        }
        return r;
    }

    /**
     * The locked text tower's embeddings of {@code tokens} ([B·E]): rows seen before come from
     * memory; the distinct new ones go through the tower in one batch. A row's embedding does
     * not depend on the rows batched with it (the towers are row-wise; {@code LockedTextMemoTest}
     * holds each against the row embedded alone), so remembering changes no number.
     */
    float[] lockedTextEmbeddings(TokenBatch tokens) {
        int b = tokens.batch(), len = tokens.length(), e = model.config().embedDim();
        IntBuffer[] keys = new IntBuffer[b];
        Map<IntBuffer, Integer> fresh = new LinkedHashMap<>(); // distinct unseen rows -> index in the batch sent to the tower
        for (int i = 0; i < b; i++) {
            keys[i] = IntBuffer.wrap(Arrays.copyOfRange(tokens.ids(), i * len, (i + 1) * len));
            if (!lockedTexts.containsKey(keys[i])) {
                fresh.putIfAbsent(keys[i], fresh.size());
            }
        }
        float[] z = null; // the tower's embeddings of the fresh rows, in their order in `fresh`
        if (!fresh.isEmpty()) {
            int[] ids = new int[fresh.size() * len];
            fresh.forEach((k, j) -> k.get(0, ids, j * len, len));
            float[] zf = z = model.embedTexts(new TokenBatch(ids, fresh.size(), len));
            textRowsEmbedded += fresh.size();
            fresh.forEach((k, j) -> {
                if (lockedTexts.size() < MAX_REMEMBERED_TEXTS) {
                    lockedTexts.put(k, Arrays.copyOfRange(zf, j * e, (j + 1) * e));
                }
            });
        }
        float[] out = new float[b * e];
        for (int i = 0; i < b; i++) {
            Integer j = fresh.get(keys[i]);
            if (j != null) {
                System.arraycopy(z, j * e, out, i * e, e);
            } else {
                System.arraycopy(lockedTexts.get(keys[i]), 0, out, i * e, e);
            }
        }
        return out;
    }

    /** How many token rows the locked text tower has embedded (distinct rows, while they fit in memory). */
    long textRowsEmbedded() {
        return textRowsEmbedded;
    }

    /** One full step: forward, backward, clip, AdamW at 0-based {@code stepIndex}. */
    public StepResult step(long stepIndex, float[] pixels, float[] imageEmbeddings, TokenBatch tokens) {
        ContrastiveLoss.Result r = forwardBackward(pixels, imageEmbeddings, tokens);
        if (!Double.isFinite(r.loss())) {
            throw new LitException("loss became " + r.loss() + " at step " + stepIndex + " (learning rate too high?)");
        }
        AdamW.StepInfo info = optimizer.step(stepIndex);
        model.weightsChanged(trainableNames, shadows);
        if (!Float.isNaN(opts.clampLogT()) && scalar("t") > opts.clampLogT()) {
            be.upload(new float[] {opts.clampLogT()}, model.params().get("t"));
        }
        return new StepResult(r.loss(), Math.exp(scalar("t")), info.lr(), info.gradNorm(), info.clipped());
    }

    private float scalar(String name) {
        return be.download(model.params().get(name))[0];
    }

    @Override
    public void close() {
        arena.close();
    }
}

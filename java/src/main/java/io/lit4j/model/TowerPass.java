package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Pool;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/**
 * One tower's forward pass at a fixed batch size: the only forward lit4j has. Built for
 * {@link Mode#INFERENCE} it keeps no activations (an embedding call builds one per call from its
 * workspace); built for {@link Mode#TRAINING} it keeps what {@link #backward} needs, which turns
 * the gradient of the L2-normalised embedding into gradients of the trainable parameters and
 * stops at the lowest of them. All buffers come from the arena given at construction; a forward
 * allocates nothing.
 *
 * <p>{@code weights} are the parameters as the forward multiplies them: views with the matmul
 * kernels packed for the backend ({@link TwoTower#imageWeights}, {@link TwoTower#textWeights}) for
 * embedding calls; the model's own, or bf16 copies of the blocks' kernels, in training
 * ({@link TwoTower#trainingWeights}). The backward multiplies by the same kernels.
 */
public abstract sealed class TowerPass permits TowerPass.Image, TowerPass.Text {
    /** Whether a pass keeps activations for a backward. */
    public enum Mode { INFERENCE, TRAINING }

    protected final Backend be;
    protected final Params p;
    protected final boolean training;
    protected final int batch;
    protected final Encoder encoder;
    protected final Tensor pooled;   // [B, width]
    protected final Tensor out;      // [B, outDim]: the head output (== pooled without a head)
    protected final Tensor z;        // [B, outDim]: L2-normalised
    protected final Tensor norms;    // [B] (training)
    protected final Tensor dOut;     // [B, outDim] (training)
    protected final Tensor dPooled;  // [B, width] (training)
    private final String prefix;
    private final boolean hasHead;

    private TowerPass(Backend be, Params weights, TensorArena arena, Encoder.Spec spec, int headDim, int batch, int tokens,
                      Precision precision, Mode mode) {
        this.be = be;
        this.p = weights;
        this.training = mode == Mode.TRAINING;
        this.batch = batch;
        this.prefix = spec.prefix();
        this.hasHead = headDim > 0;
        int width = spec.width(), outDim = hasHead ? headDim : width;
        this.encoder = new Encoder(spec, be, weights, arena, batch, tokens, precision.operands(), training);
        this.pooled = arena.allocate(DType.F32, batch, width);
        this.out = hasHead ? arena.allocate(DType.F32, batch, headDim) : pooled;
        this.z = arena.allocate(DType.F32, batch, outDim);
        this.norms = training ? arena.allocate(DType.F32, batch) : null;
        this.dOut = training ? arena.allocate(DType.F32, batch, outDim) : null;
        this.dPooled = training ? (hasHead ? arena.allocate(DType.F32, batch, width) : dOut) : null;
    }

    /** The ViT's pass for {@code batch} images at {@code precision}. */
    public static Image image(Backend be, Params weights, TensorArena arena, ViTConfig c, int batch, Precision precision, Mode mode) {
        return new Image(be, weights, arena, c, batch, precision, mode);
    }

    /** The text tower's pass for {@code batch} texts of {@code length} tokens at {@code precision}. */
    public static Text text(Backend be, Params weights, TensorArena arena, TextConfig c, int batch, int length, Precision precision,
                            Mode mode) {
        return new Text(be, weights, arena, c, batch, length, precision, mode);
    }

    /** The L2-normalised embeddings of the last forward, {@code [B, outDim]}. */
    public Tensor embeddings() {
        return z;
    }

    public int batch() {
        return batch;
    }

    /** The head output of the last forward, before normalisation ([B, outDim]): class logits for a classifier. */
    public Tensor output() {
        return out;
    }

    /** Where {@link #backwardFromOutput} reads the gradient of {@link #output()}. */
    public Tensor outputGradient() {
        requireTraining();
        return dOut;
    }

    private void requireTraining() {
        if (!training) {
            throw new LitException("this tower pass was built for inference: it kept no activations to back-propagate through");
        }
    }

    /** The forward's end, shared by both towers: pool, head, L2 normalisation. */
    protected void head(Tensor encoded, Pool pool, ForwardObserver obs) {
        be.pool(encoded, pool, 0, pooled);
        project(obs);
    }

    /** From {@link #pooled} on: the head (if any) and the L2 normalisation. */
    protected void project(ForwardObserver obs) {
        obs.onTensor("pooled", pooled);
        if (hasHead) {
            be.linear(pooled, p.get(prefix + ".head.kernel"), headBias(), out, Epilogue.NONE);
            obs.onTensor("logits", out);
        }
        be.l2Normalize(out, z, norms);
        obs.onTensor("embedding", z);
    }

    /** The head's bias, or null for a head without one (CLIP's projections). */
    private Tensor headBias() {
        return p.has(prefix + ".head.bias") ? p.get(prefix + ".head.bias") : null;
    }

    /** Back-propagates {@code dz} (gradient of the L2-normalised embeddings, [B, outDim]) into {@code grads}. */
    public void backward(Tensor dz, Grads grads) {
        requireTraining();
        be.l2NormalizeBackward(out, norms, dz, dOut);
        backwardFromOutput(grads);
    }

    /** Back-propagates the gradient held in {@link #outputGradient()} (e.g. of classification logits). */
    public final void backwardFromOutput(Grads grads) {
        requireTraining();
        if (hasHead) {
            be.linearBackward(pooled, p.get(prefix + ".head.kernel"), dOut, dPooled, grads.get(prefix + ".head.kernel"),
                    grads.get(prefix + ".head.bias"));
        }
        backwardFromPooled(grads);
    }

    /** The tower's own part of the backward, from the pooled gradient in {@link #dPooled}. */
    protected abstract void backwardFromPooled(Grads grads);

    /**
     * The ViT: patch embedding, positions, an optional CLS token, the blocks, a final LayerNorm,
     * CLS, mean or attention ({@link MapHead}) pooling. CLIP's layout adds a LayerNorm before the
     * blocks ({@code img.pre_norm}) and has no patch bias.
     */
    public static final class Image extends TowerPass {
        private final ViTConfig c;
        private final Tensor patches, emb, encoded, lnMean, lnVar, dEncoded, dEmb;
        private final Tensor tokens, preMean, preVar, dTokens; // the pre-LayerNorm's input and statistics (CLIP)
        private final MapHead map;

        private Image(Backend be, Params p, TensorArena arena, ViTConfig c, int batch, Precision precision, Mode mode) {
            super(be, p, arena, Encoder.Spec.of(c), c.headDim(), batch, c.tokens(), precision, mode);
            this.c = c;
            int n = c.numPatches(), t = c.tokens(), d = c.width();
            boolean cls = c.pool() == ViTConfig.Pooling.TOK;
            patches = arena.allocate(DType.F32, batch, n, c.patchDim());
            boolean pre = c.preNorm();
            tokens = pre ? arena.allocate(DType.F32, batch, t, d) : encoder.input();
            preMean = pre && training ? arena.allocate(DType.F32, batch * t) : null;
            preVar = pre && training ? arena.allocate(DType.F32, batch * t) : null;
            dTokens = pre && training ? arena.allocate(DType.F32, batch, t, d) : null;
            emb = cls ? arena.allocate(DType.F32, batch, n, d) : tokens;
            encoded = arena.allocate(DType.F32, batch, t, d);
            lnMean = training ? arena.allocate(DType.F32, batch * t) : null;
            lnVar = training ? arena.allocate(DType.F32, batch * t) : null;
            dEncoded = training ? arena.allocate(DType.F32, batch, t, d) : null;
            dEmb = training && cls ? arena.allocate(DType.F32, batch, n, d) : null;
            map = c.pool() == ViTConfig.Pooling.MAP
                    ? new MapHead(be, p, arena, batch, t, d, c.heads(), c.mlpDim(), c.lnEps(), c.gelu(), training) : null;
        }

        private Pool pool() {
            return c.pool() == ViTConfig.Pooling.TOK ? Pool.FIRST : Pool.MEAN;
        }

        /** Forward on {@code images[B,S,S,C]} (NHWC, fp32, normalised); afterwards {@link #embeddings()} holds the result. */
        public void forward(Tensor images, ForwardObserver obs) {
            if (images.dim(0) != batch) {
                throw new LitException("image tower pass built for batch " + batch + " got images " + images);
            }
            be.patchify(images, c.patchSize(), patches);
            be.linear(patches, p.get("img.patch.kernel"), patchBias(), emb, Epilogue.NONE);
            be.add(emb, p.get("img.pos"), emb);
            if (c.pool() == ViTConfig.Pooling.TOK) {
                be.prependToken(p.get("img.cls"), emb, tokens);
            }
            if (c.preNorm()) {
                be.layerNorm(tokens, p.get("img.pre_norm.scale"), p.get("img.pre_norm.bias"), c.lnEps(), encoder.input(), preMean, preVar);
            }
            encoder.forward(null, obs);
            be.layerNorm(encoder.output(), p.get("img.norm.scale"), p.get("img.norm.bias"), c.lnEps(), encoded, lnMean, lnVar);
            obs.onTensor("encoded", encoded);
            if (map != null) {
                map.forward(encoded, pooled, obs);
                project(obs);
            } else {
                head(encoded, pool(), obs);
            }
        }

        private Tensor patchBias() {
            return c.patchBias() ? p.get("img.patch.bias") : null;
        }

        @Override
        protected void backwardFromPooled(Grads grads) {
            boolean embTrainable = grads.has("img.patch.kernel") || grads.has("img.patch.bias") || grads.has("img.pos") || grads.has("img.cls")
                    || grads.has("img.pre_norm.scale") || grads.has("img.pre_norm.bias");
            int lowest = embTrainable ? 0 : encoder.lowestTrainableBlock(grads);
            boolean below = lowest < c.depth() || grads.has("img.norm.scale") || grads.has("img.norm.bias");
            if (map != null) {
                map.backward(grads, dPooled, dEncoded, below);
            } else {
                be.poolBackward(dPooled, pool(), 0, dEncoded);
            }
            if (!below) { // only the heads train: nothing under them needs a gradient
                return;
            }
            Tensor dx = encoded; // the forward's LayerNorm output is spent: it holds the blocks' output gradient now
            grads.layerNorm(be, encoder.output(), p, "img.norm", lnMean, lnVar, c.lnEps(), dEncoded, dx);
            Tensor dIn = encoder.backward(grads, dx, lowest);
            if (!embTrainable) {
                return;
            }
            if (c.preNorm()) { // tokens -> pre_norm -> the blocks' input
                grads.layerNorm(be, tokens, p, "img.pre_norm", preMean, preVar, c.lnEps(), dIn, dTokens);
                dIn = dTokens;
            }
            Tensor dE = dEmb;
            if (c.pool() == ViTConfig.Pooling.TOK) {
                Tensor dCls = grads.get("img.cls"); // frozen CLS: its gradient goes to a spent buffer
                be.prependTokenBackward(dIn, dCls != null ? dCls : dPooled.slice(0, 1).view(c.width()), dEmb);
            } else {
                dE = dIn;
            }
            if (grads.has("img.pos")) {
                be.sumToShape(dE, grads.get("img.pos"));
            }
            if (grads.has("img.patch.kernel") || grads.has("img.patch.bias")) {
                be.linearBackward(patches, p.get("img.patch.kernel"), dE, null, grads.get("img.patch.kernel"), grads.get("img.patch.bias"));
            }
        }
    }

    /**
     * A text tower. big_vision's text transformer: token embedding plus positions, the blocks, a
     * final LayerNorm, pooled at the configured position. BERT: token + position + type-0
     * embeddings and their LayerNorm, post-LN blocks with padding masked out, pooled at [CLS] or
     * by the mean over the real tokens ({@link BertConfig.Pooling#MEAN}).
     * CLIP: as big_vision's but with causal blocks, pooled at each row's end-of-text token.
     */
    public static final class Text extends TowerPass {
        private final TextConfig c;
        private final boolean bert, meanOfTokens;
        private final ClipTextConfig clip; // null unless CLIP's tower
        private final int length;
        private final Tensor ids, mask, emb, embMean, embVar, encoded, lnMean, lnVar, dEncoded, dEmb;
        private final Tensor poolRows; // CLIP: [B] I32, row b·length + the position of row b's end-of-text token

        private Text(Backend be, Params p, TensorArena arena, TextConfig c, int batch, int length, Precision precision, Mode mode) {
            super(be, p, arena, Encoder.Spec.of(c), c.headDim(), batch, checkLength(c, length), precision, mode);
            this.c = c;
            this.bert = c instanceof BertConfig;
            this.meanOfTokens = c instanceof BertConfig bc && bc.pool() == BertConfig.Pooling.MEAN;
            this.clip = c instanceof ClipTextConfig cc ? cc : null;
            this.length = length;
            poolRows = clip != null ? arena.allocate(DType.I32, batch) : null;
            int d = c.width(), rows = batch * length;
            ids = arena.allocate(DType.I32, batch, length);
            mask = bert ? arena.allocate(DType.F32, batch, length) : null;
            emb = bert ? arena.allocate(DType.F32, batch, length, d) : encoder.input();
            embMean = bert && training ? arena.allocate(DType.F32, rows) : null;
            embVar = bert && training ? arena.allocate(DType.F32, rows) : null;
            encoded = bert ? null : arena.allocate(DType.F32, batch, length, d);
            lnMean = !bert && training ? arena.allocate(DType.F32, rows) : null;
            lnVar = !bert && training ? arena.allocate(DType.F32, rows) : null;
            dEncoded = training ? arena.allocate(DType.F32, batch, length, d) : null;
            dEmb = training ? arena.allocate(DType.F32, batch, length, d) : null;
        }

        private static int checkLength(TextConfig c, int length) {
            int max = c instanceof BertConfig bc ? bc.maxPosition() : c.contextLength();
            if (length < 1 || length > max) {
                throw new LitException("text tower: " + length + " tokens per text, but the position table has " + max);
            }
            return length;
        }

        private Pool pool() {
            if (c instanceof TextTransformerConfig tc) {
                return switch (tc.pool()) {
                    case LAST -> Pool.LAST;
                    case FIRST -> Pool.FIRST;
                    case MEAN -> Pool.MEAN;
                };
            }
            return Pool.FIRST;
        }

        /** Forward on token ids (padded with 0); afterwards {@link #embeddings()} holds the result. */
        public void forward(TokenBatch tokens, ForwardObserver obs) {
            if (tokens.batch() != batch || tokens.length() != length) {
                throw new LitException("text tower pass built for " + batch + " texts of " + length + " tokens got " + tokens.batch()
                        + " of " + tokens.length());
            }
            be.upload(tokens.ids(), ids);
            be.embedding(ids, p.get("txt.tok"), emb);
            be.add(emb, p.get("txt.pos").slice(0, length), emb);
            Tensor last;
            if (bert) {
                be.add(emb, p.get("txt.type").slice(0, 1).view(c.width()), emb); // every token is of type 0
                be.layerNorm(emb, p.get("txt.emb_norm.scale"), p.get("txt.emb_norm.bias"), c.lnEps(), encoder.input(), embMean, embVar);
                be.upload(tokens.keepMask(), mask);
                encoder.forward(mask, obs);
                last = encoder.output();
            } else {
                encoder.forward(null, obs);
                be.layerNorm(encoder.output(), p.get("txt.norm.scale"), p.get("txt.norm.bias"), c.lnEps(), encoded, lnMean, lnVar);
                last = encoded;
            }
            obs.onTensor("encoded", last);
            if (meanOfTokens) {
                be.maskedMean(last, mask, pooled);
                project(obs);
            } else if (clip != null) { // a gather of one row per text: the end-of-text token's
                int[] at = clip.poolPositions(tokens.ids(), batch, length);
                for (int b = 0; b < batch; b++) {
                    at[b] += b * length;
                }
                be.upload(at, poolRows);
                be.embedding(poolRows, rows(last), pooled);
                project(obs);
            } else {
                head(last, pool(), obs);
            }
        }

        /** {@code x[B, length, D]} as {@code [B·length, D]}. */
        private Tensor rows(Tensor x) {
            return x.view(batch * length, c.width());
        }

        @Override
        protected void backwardFromPooled(Grads grads) {
            if (meanOfTokens) {
                be.maskedMeanBackward(dPooled, mask, dEncoded);
            } else if (clip != null) { // the gather's backward: each text's gradient back at its end-of-text row, zero elsewhere
                be.embeddingBackward(poolRows, dPooled, rows(dEncoded));
            } else {
                be.poolBackward(dPooled, pool(), 0, dEncoded);
            }
            Tensor dx = dEncoded;
            if (!bert) {
                grads.layerNorm(be, encoder.output(), p, "txt.norm", lnMean, lnVar, c.lnEps(), dEncoded, dEmb);
                dx = dEmb;
            }
            boolean embTrainable = grads.has("txt.tok") || grads.has("txt.pos") || (bert && (grads.has("txt.type")
                    || grads.has("txt.emb_norm.scale") || grads.has("txt.emb_norm.bias")));
            int lowest = embTrainable ? 0 : encoder.lowestTrainableBlock(grads);
            Tensor dIn = encoder.backward(grads, dx, lowest);
            if (!embTrainable) {
                return;
            }
            Tensor dE = dIn;
            if (bert) {
                Tensor target = dIn == dEmb ? dEncoded : dEmb;
                grads.layerNorm(be, emb, p, "txt.emb_norm", embMean, embVar, c.lnEps(), dIn, target);
                dE = target;
                if (grads.has("txt.type")) {
                    Tensor dType = grads.get("txt.type");
                    be.zero(dType);
                    be.sumToShape(dE, dType.slice(0, 1).view(c.width()));
                }
            }
            if (grads.has("txt.pos")) {
                Tensor dPos = grads.get("txt.pos");
                be.zero(dPos);
                be.sumToShape(dE, dPos.slice(0, length));
            }
            if (grads.has("txt.tok")) {
                be.embeddingBackward(ids, dE, grads.get("txt.tok"));
            }
        }
    }
}

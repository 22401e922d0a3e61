package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.Pool;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/**
 * One tower in training, at a fixed batch size: {@code forward} keeps the activations,
 * {@code backward} turns the gradient of the L2-normalised embedding into parameter gradients
 * (trainable ones only) and stops as low as the lowest trainable parameter. All buffers come
 * from the arena given at construction; a step allocates nothing.
 */
public abstract sealed class TowerPass permits TowerPass.Image, TowerPass.Text {
    protected final Backend be;
    protected final Params p;
    protected final int batch;
    protected final int outDim;
    protected final EncoderPass encoder;
    protected final Tensor pooled;   // [B, width]
    protected final Tensor out;      // [B, outDim]: the head output (== pooled without a head)
    protected final Tensor z;        // [B, outDim]: L2-normalised
    protected final Tensor norms;    // [B]
    protected final Tensor dOut;     // [B, outDim]
    protected final Tensor dPooled;  // [B, width]

    TowerPass(Backend be, Params p, TensorArena arena, int batch, int tokens, int width, int heads, int mlp, int depth,
              float eps, Gelu gelu, boolean postLn, String prefix, int headDim) {
        this.be = be;
        this.p = p;
        this.batch = batch;
        this.outDim = headDim > 0 ? headDim : width;
        this.encoder = new EncoderPass(arena, prefix, depth, width, heads, mlp, eps, gelu, postLn, batch, tokens);
        this.pooled = arena.allocate(DType.F32, batch, width);
        this.out = headDim > 0 ? arena.allocate(DType.F32, batch, headDim) : pooled;
        this.z = arena.allocate(DType.F32, batch, outDim);
        this.norms = arena.allocate(DType.F32, batch);
        this.dOut = arena.allocate(DType.F32, batch, outDim);
        this.dPooled = headDim > 0 ? arena.allocate(DType.F32, batch, width) : dOut;
    }

    /** The L2-normalised embeddings of the last forward, {@code [B, outDim]}. */
    public Tensor embeddings() {
        return z;
    }

    public int batch() {
        return batch;
    }

    /** Shared tail of the forward: head and L2 normalisation. */
    protected void head(String prefix, boolean hasHead, ForwardObserver obs) {
        obs.onTensor("pooled", pooled);
        if (hasHead) {
            be.linear(pooled, p.get(prefix + ".head.kernel"), p.get(prefix + ".head.bias"), out, Epilogue.NONE);
            obs.onTensor("logits", out);
        }
        be.l2Normalize(out, z, norms);
        obs.onTensor("embedding", z);
    }

    /** The head output of the last forward, before normalisation ([B, outDim]): class logits for a classifier. */
    public Tensor output() {
        return out;
    }

    /** Where {@link #backwardFromOutput} reads the gradient of {@link #output()}. */
    public Tensor outputGradient() {
        return dOut;
    }

    /** Back-propagates {@code dz} (gradient of the L2-normalised embeddings, [B, outDim]) into {@code grads}. */
    public void backward(Tensor dz, Grads grads) {
        be.l2NormalizeBackward(out, norms, dz, dOut);
        backwardFromOutput(grads);
    }

    /** Back-propagates the gradient held in {@link #outputGradient()} (e.g. of classification logits). */
    public abstract void backwardFromOutput(Grads grads);

    /** Shared head of the backward: the head; leaves the pooled gradient in {@link #dPooled}. */
    protected void headBackward(String prefix, boolean hasHead, Grads grads) {
        if (hasHead) {
            be.linearBackward(pooled, p.get(prefix + ".head.kernel"), dOut, dPooled, grads.get(prefix + ".head.kernel"),
                    grads.get(prefix + ".head.bias"));
        }
    }

    /** The ViT in training. */
    public static final class Image extends TowerPass {
        private final ViTConfig c;
        private final Tensor patches, emb, encoded, lnMean, lnVar, dEncoded, dEmb;

        public Image(Backend be, Params p, TensorArena arena, ViTConfig c, int batch) {
            super(be, p, arena, batch, c.tokens(), c.width(), c.heads(), c.mlpDim(), c.depth(), c.lnEps(), c.gelu(), false, "img", c.headDim());
            this.c = c;
            int n = c.numPatches(), t = c.tokens(), d = c.width();
            patches = arena.allocate(DType.F32, batch, n, c.patchDim());
            emb = c.pool() == ViTConfig.Pooling.TOK ? arena.allocate(DType.F32, batch, n, d) : encoder.input();
            encoded = arena.allocate(DType.F32, batch, t, d);
            lnMean = arena.allocate(DType.F32, batch * t);
            lnVar = arena.allocate(DType.F32, batch * t);
            dEncoded = arena.allocate(DType.F32, batch, t, d);
            dEmb = c.pool() == ViTConfig.Pooling.TOK ? arena.allocate(DType.F32, batch, n, d) : null;
        }

        /** Forward on {@code images[B,S,S,C]}; afterwards {@link #embeddings()} holds the result. */
        public void forward(Tensor images, ForwardObserver obs) {
            if (images.dim(0) != batch) {
                throw new LitException("training pass built for batch " + batch + " got images " + images);
            }
            be.patchify(images, c.patchSize(), patches);
            be.linear(patches, p.get("img.patch.kernel"), p.get("img.patch.bias"), emb, Epilogue.NONE);
            be.add(emb, p.get("img.pos"), emb);
            if (c.pool() == ViTConfig.Pooling.TOK) {
                be.prependToken(p.get("img.cls"), emb, encoder.input());
            }
            encoder.forward(be, p, null, obs);
            be.layerNorm(encoder.output(), p.get("img.norm.scale"), p.get("img.norm.bias"), c.lnEps(), encoded, lnMean, lnVar);
            obs.onTensor("encoded", encoded);
            be.pool(encoded, c.pool() == ViTConfig.Pooling.TOK ? Pool.FIRST : Pool.MEAN, 0, pooled);
            head("img", c.headDim() > 0, obs);
        }

        @Override
        public void backwardFromOutput(Grads grads) {
            headBackward("img", c.headDim() > 0, grads);
            be.poolBackward(dPooled, c.pool() == ViTConfig.Pooling.TOK ? Pool.FIRST : Pool.MEAN, 0, dEncoded);
            Tensor dx = encoded; // the forward's LayerNorm output is spent: it holds the blocks' output gradient now
            grads.layerNorm(be, encoder.output(), p, "img.norm", lnMean, lnVar, c.lnEps(), dEncoded, dx);
            boolean embTrainable = grads.has("img.patch.kernel") || grads.has("img.patch.bias") || grads.has("img.pos") || grads.has("img.cls");
            int lowest = embTrainable ? 0 : encoder.lowestTrainableBlock(grads);
            Tensor dIn = encoder.backward(be, p, grads, dx, lowest);
            if (!embTrainable) {
                return;
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

    /** The text tower (text transformer or BERT) in training. */
    public static final class Text extends TowerPass {
        private final TextConfig c;
        private final int length;
        private final Tensor ids, mask, emb, embMean, embVar, encoded, lnMean, lnVar, dEncoded, dEmb;

        public Text(Backend be, Params p, TensorArena arena, TextConfig c, int batch) {
            super(be, p, arena, batch, c.contextLength(), c.width(), c.heads(), c.mlpDim(), c.depth(), c.lnEps(), c.gelu(),
                    c instanceof BertConfig, "txt", c.headDim());
            this.c = c;
            this.length = c.contextLength();
            int d = c.width();
            ids = arena.allocate(DType.I32, batch, length);
            boolean bert = c instanceof BertConfig;
            mask = bert ? arena.allocate(DType.F32, batch, length) : null;
            emb = bert ? arena.allocate(DType.F32, batch, length, d) : encoder.input();
            embMean = bert ? arena.allocate(DType.F32, batch * length) : null;
            embVar = bert ? arena.allocate(DType.F32, batch * length) : null;
            encoded = bert ? null : arena.allocate(DType.F32, batch, length, d);
            lnMean = bert ? null : arena.allocate(DType.F32, batch * length);
            lnVar = bert ? null : arena.allocate(DType.F32, batch * length);
            dEncoded = arena.allocate(DType.F32, batch, length, d);
            dEmb = arena.allocate(DType.F32, batch, length, d);
        }

        public void forward(TokenBatch tokens, ForwardObserver obs) {
            if (tokens.batch() != batch || tokens.length() != length) {
                throw new LitException("training pass built for " + batch + " texts of " + length + " tokens got " + tokens.batch()
                        + " of " + tokens.length());
            }
            be.upload(tokens.ids(), ids);
            Tensor pos = p.get("txt.pos").slice(0, length);
            be.embedding(ids, p.get("txt.tok"), emb);
            be.add(emb, pos, emb);
            Tensor last;
            if (c instanceof BertConfig bc) {
                be.add(emb, p.get("txt.type").slice(0, 1).view(bc.width()), emb);
                be.layerNorm(emb, p.get("txt.emb_norm.scale"), p.get("txt.emb_norm.bias"), bc.lnEps(), encoder.input(), embMean, embVar);
                be.upload(tokens.keepMask(), mask);
                encoder.forward(be, p, mask, obs);
                last = encoder.output();
            } else {
                encoder.forward(be, p, null, obs);
                be.layerNorm(encoder.output(), p.get("txt.norm.scale"), p.get("txt.norm.bias"), c.lnEps(), encoded, lnMean, lnVar);
                last = encoded;
            }
            obs.onTensor("encoded", last);
            be.pool(last, pool(), 0, pooled);
            head("txt", c.headDim() > 0, obs);
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

        @Override
        public void backwardFromOutput(Grads grads) {
            headBackward("txt", c.headDim() > 0, grads);
            be.poolBackward(dPooled, pool(), 0, dEncoded);
            Tensor dx = dEncoded;
            if (!(c instanceof BertConfig)) {
                grads.layerNorm(be, encoder.output(), p, "txt.norm", lnMean, lnVar, c.lnEps(), dEncoded, dEmb);
                dx = dEmb;
            }
            boolean bert = c instanceof BertConfig;
            boolean embTrainable = grads.has("txt.tok") || grads.has("txt.pos") || (bert && (grads.has("txt.type")
                    || grads.has("txt.emb_norm.scale") || grads.has("txt.emb_norm.bias")));
            int lowest = embTrainable ? 0 : encoder.lowestTrainableBlock(grads);
            Tensor dIn = encoder.backward(be, p, grads, dx, lowest);
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

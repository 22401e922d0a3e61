package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Pool;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/** The text tower's forward pass (text transformer or BERT) over parameters named {@code txt.*}. */
public final class TextTower {
    private final TextConfig cfg;

    public TextTower(TextConfig cfg) {
        this.cfg = cfg;
    }

    public TextConfig config() {
        return cfg;
    }

    /** Runs the tower on {@code tokens} and writes the head output {@code out[B, outDim]} (not yet normalised). */
    public void forward(Backend be, Params p, TensorArena arena, TokenBatch tokens, Tensor out, ForwardObserver obs) {
        forward(be, p, arena, tokens, out, DType.F32, obs);
    }

    /** As above; {@code matmulInput} BF16 runs the block matmuls on bf16 inputs (see {@link Encoder.Scratch}). */
    public void forward(Backend be, Params p, TensorArena arena, TokenBatch tokens, Tensor out, DType matmulInput, ForwardObserver obs) {
        int b = tokens.batch(), len = tokens.length(), d = cfg.width();
        int maxLen = cfg instanceof BertConfig bc ? bc.maxPosition() : cfg.contextLength();
        if (len > maxLen) {
            throw new LitException("text tower: " + len + " tokens per text, but the position table has " + maxLen);
        }
        Tensor ids = arena.allocate(DType.I32, b, len);
        be.upload(tokens.ids(), ids);
        Tensor x = arena.allocate(DType.F32, b, len, d);
        Encoder.Scratch s = Encoder.Scratch.allocate(arena, b, len, d, cfg.heads(), cfg.mlpDim(), matmulInput, cfg instanceof BertConfig);
        Tensor encoded = arena.allocate(DType.F32, b, len, d);
        Tensor pooled = cfg.headDim() > 0 ? arena.allocate(DType.F32, b, d) : out;
        Tensor pos = p.get("txt.pos").slice(0, len);
        switch (cfg) {
            case TextTransformerConfig tc -> {
                be.embedding(ids, p.get("txt.tok"), x);
                be.add(x, pos, x);
                Encoder.preLn(be, p, "txt", tc.depth(), tc.heads(), tc.lnEps(), tc.gelu(), x, null, s, obs);
                be.layerNorm(x, p.get("txt.norm.scale"), p.get("txt.norm.bias"), tc.lnEps(), encoded, null, null);
                obs.onTensor("encoded", encoded);
                Pool pool = switch (tc.pool()) {
                    case LAST -> Pool.LAST;
                    case FIRST -> Pool.FIRST;
                    case MEAN -> Pool.MEAN;
                };
                be.pool(encoded, pool, 0, pooled);
            }
            case BertConfig bc -> {
                Tensor e = encoded; // free until the end
                be.embedding(ids, p.get("txt.tok"), e);
                be.add(e, pos, e);
                be.add(e, p.get("txt.type").slice(0, 1).view(d), e); // every token is of type 0
                be.layerNorm(e, p.get("txt.emb_norm.scale"), p.get("txt.emb_norm.bias"), bc.lnEps(), x, null, null);
                Tensor mask = arena.allocate(DType.F32, b, len);
                be.upload(tokens.keepMask(), mask);
                Encoder.postLn(be, p, "txt", bc.depth(), bc.heads(), bc.lnEps(), bc.gelu(), x, mask, s, obs);
                obs.onTensor("encoded", x);
                be.pool(x, Pool.FIRST, 0, pooled);
            }
        }
        obs.onTensor("pooled", pooled);
        if (cfg.headDim() > 0) {
            be.linear(pooled, p.get("txt.head.kernel"), p.get("txt.head.bias"), out, Epilogue.NONE);
            obs.onTensor("logits", out);
        }
    }
}

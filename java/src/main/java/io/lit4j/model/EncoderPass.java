package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

/**
 * The encoder blocks of one tower in training: the forward keeps every activation the backward
 * needs (one set per block), and the backward turns the gradient of the last block's output into
 * the gradient of the first block's input, writing parameter gradients for the trainable ones.
 * Buffers are allocated once for a fixed batch shape.
 */
final class EncoderPass {
    private final String prefix;
    private final int depth, heads;
    private final float eps;
    private final Gelu gelu;
    private final boolean postLn;
    private final Tensor[] x;     // x[i]: block i's input; x[depth]: the last block's output
    private final Block[] blocks;
    private final Scratch g;      // gradient scratch shared by all blocks

    /** What one block keeps. Pre-LN uses y1/y2 (LN outputs) and mid; post-LN uses y1 as LN1 out, mid as the pre-LN2 sum. */
    private record Block(Tensor y1, Tensor mean1, Tensor var1, Tensor qkv, Tensor probs, Tensor attn, Tensor sum1,
                         Tensor y2, Tensor mean2, Tensor var2, Tensor hPre, Tensor h, Tensor mid) {
    }

    private record Scratch(Tensor dA, Tensor dB, Tensor dC, Tensor dH, Tensor dHpre, Tensor dQkv, Tensor dProbs) {
    }

    EncoderPass(TensorArena arena, String prefix, int depth, int width, int heads, int mlp, float eps, Gelu gelu,
                boolean postLn, int b, int t) {
        this.prefix = prefix;
        this.depth = depth;
        this.heads = heads;
        this.eps = eps;
        this.gelu = gelu;
        this.postLn = postLn;
        this.x = new Tensor[depth + 1];
        this.blocks = new Block[depth];
        for (int i = 0; i <= depth; i++) {
            x[i] = arena.allocate(DType.F32, b, t, width);
        }
        int rows = b * t;
        for (int i = 0; i < depth; i++) {
            blocks[i] = new Block(arena.allocate(DType.F32, b, t, width), arena.allocate(DType.F32, rows), arena.allocate(DType.F32, rows),
                    arena.allocate(DType.F32, b, t, 3 * width), arena.allocate(DType.F32, b, heads, t, t),
                    arena.allocate(DType.F32, b, t, width), arena.allocate(DType.F32, b, t, width),
                    postLn ? null : arena.allocate(DType.F32, b, t, width), arena.allocate(DType.F32, rows), arena.allocate(DType.F32, rows),
                    arena.allocate(DType.F32, b, t, mlp), arena.allocate(DType.F32, b, t, mlp), arena.allocate(DType.F32, b, t, width));
        }
        g = new Scratch(arena.allocate(DType.F32, b, t, width), arena.allocate(DType.F32, b, t, width),
                arena.allocate(DType.F32, b, t, width), arena.allocate(DType.F32, b, t, mlp), arena.allocate(DType.F32, b, t, mlp),
                arena.allocate(DType.F32, b, t, 3 * width), arena.allocate(DType.F32, b, heads, t, t));
    }

    /** Where the caller writes the blocks' input. */
    Tensor input() {
        return x[0];
    }

    /** The last block's output (valid after {@link #forward}). */
    Tensor output() {
        return x[depth];
    }

    void forward(Backend be, Params p, Tensor keyMask, ForwardObserver obs) {
        for (int i = 0; i < depth; i++) {
            String n = prefix + ".blocks." + i + ".";
            Block k = blocks[i];
            if (postLn) {
                be.linear(x[i], p.get(n + "attn.qkv.kernel"), p.get(n + "attn.qkv.bias"), k.qkv, Epilogue.NONE);
                be.attention(k.qkv, keyMask, heads, k.probs, k.attn);
                be.copy(x[i], k.sum1);
                be.linear(k.attn, p.get(n + "attn.out.kernel"), p.get(n + "attn.out.bias"), k.sum1, Epilogue.ACCUMULATE);
                be.layerNorm(k.sum1, p.get(n + "ln1.scale"), p.get(n + "ln1.bias"), eps, k.y1, k.mean1, k.var1);
                be.linear(k.y1, p.get(n + "mlp.fc1.kernel"), p.get(n + "mlp.fc1.bias"), k.hPre, Epilogue.NONE);
                be.gelu(k.hPre, k.h, gelu);
                be.copy(k.y1, k.mid);
                be.linear(k.h, p.get(n + "mlp.fc2.kernel"), p.get(n + "mlp.fc2.bias"), k.mid, Epilogue.ACCUMULATE);
                be.layerNorm(k.mid, p.get(n + "ln2.scale"), p.get(n + "ln2.bias"), eps, x[i + 1], k.mean2, k.var2);
            } else {
                be.layerNorm(x[i], p.get(n + "ln1.scale"), p.get(n + "ln1.bias"), eps, k.y1, k.mean1, k.var1);
                be.linear(k.y1, p.get(n + "attn.qkv.kernel"), p.get(n + "attn.qkv.bias"), k.qkv, Epilogue.NONE);
                be.attention(k.qkv, keyMask, heads, k.probs, k.attn);
                be.copy(x[i], k.mid);
                be.linear(k.attn, p.get(n + "attn.out.kernel"), p.get(n + "attn.out.bias"), k.mid, Epilogue.ACCUMULATE);
                be.layerNorm(k.mid, p.get(n + "ln2.scale"), p.get(n + "ln2.bias"), eps, k.y2, k.mean2, k.var2);
                be.linear(k.y2, p.get(n + "mlp.fc1.kernel"), p.get(n + "mlp.fc1.bias"), k.hPre, Epilogue.NONE);
                be.gelu(k.hPre, k.h, gelu);
                be.copy(k.mid, x[i + 1]);
                be.linear(k.h, p.get(n + "mlp.fc2.kernel"), p.get(n + "mlp.fc2.bias"), x[i + 1], Epilogue.ACCUMULATE);
            }
            obs.onTensor("block." + i, x[i + 1]);
        }
    }

    /**
     * Back-propagates {@code dOut} (the gradient of {@link #output()}, overwritten) down to block
     * {@code lowest}; returns the tensor holding the gradient of that block's input.
     */
    Tensor backward(Backend be, Params p, Grads grads, Tensor dOut, int lowest) {
        Tensor dx = dOut;
        for (int i = depth - 1; i >= lowest; i--) {
            String n = prefix + ".blocks." + i + ".";
            Block k = blocks[i];
            if (postLn) {
                Tensor dMid = g.dA, dY1 = g.dB, dTmp = g.dC;
                grads.layerNorm(be, k.mid, p, n + "ln2", k.mean2, k.var2, eps, dx, dMid);
                be.linearBackward(k.h, p.get(n + "mlp.fc2.kernel"), dMid, g.dH, grads.get(n + "mlp.fc2.kernel"), grads.get(n + "mlp.fc2.bias"));
                be.geluBackward(k.hPre, g.dH, g.dHpre, gelu);
                be.linearBackward(k.y1, p.get(n + "mlp.fc1.kernel"), g.dHpre, dTmp, grads.get(n + "mlp.fc1.kernel"), grads.get(n + "mlp.fc1.bias"));
                be.add(dMid, dTmp, dY1);                    // mid = y1 + mlp(y1)
                Tensor dSum = dMid;                         // dMid is free again
                grads.layerNorm(be, k.sum1, p, n + "ln1", k.mean1, k.var1, eps, dY1, dSum);
                be.linearBackward(k.attn, p.get(n + "attn.out.kernel"), dSum, dTmp, grads.get(n + "attn.out.kernel"), grads.get(n + "attn.out.bias"));
                be.attentionBackward(k.qkv, k.probs, heads, dTmp, g.dQkv, g.dProbs);
                be.linearBackward(x[i], p.get(n + "attn.qkv.kernel"), g.dQkv, dY1, grads.get(n + "attn.qkv.kernel"), grads.get(n + "attn.qkv.bias"));
                be.add(dSum, dY1, dx);                      // sum1 = x + attn(x)
            } else {
                Tensor dY = g.dA, dTmp = g.dB, dMid = g.dC;
                be.linearBackward(k.h, p.get(n + "mlp.fc2.kernel"), dx, g.dH, grads.get(n + "mlp.fc2.kernel"), grads.get(n + "mlp.fc2.bias"));
                be.geluBackward(k.hPre, g.dH, g.dHpre, gelu);
                be.linearBackward(k.y2, p.get(n + "mlp.fc1.kernel"), g.dHpre, dY, grads.get(n + "mlp.fc1.kernel"), grads.get(n + "mlp.fc1.bias"));
                grads.layerNorm(be, k.mid, p, n + "ln2", k.mean2, k.var2, eps, dY, dTmp);
                be.add(dx, dTmp, dMid);                     // out = mid + mlp(LN2(mid))
                be.linearBackward(k.attn, p.get(n + "attn.out.kernel"), dMid, dTmp, grads.get(n + "attn.out.kernel"), grads.get(n + "attn.out.bias"));
                be.attentionBackward(k.qkv, k.probs, heads, dTmp, g.dQkv, g.dProbs);
                be.linearBackward(k.y1, p.get(n + "attn.qkv.kernel"), g.dQkv, dY, grads.get(n + "attn.qkv.kernel"), grads.get(n + "attn.qkv.bias"));
                grads.layerNorm(be, x[i], p, n + "ln1", k.mean1, k.var1, eps, dY, dTmp);
                be.add(dMid, dTmp, dx);                     // mid = x + attn(LN1(x))
            }
        }
        return dx;
    }

    /** The lowest block holding a trainable parameter, or {@code depth} when none does. */
    int lowestTrainableBlock(Grads grads) {
        for (int i = 0; i < depth; i++) {
            if (grads.anyUnder(prefix + ".blocks." + i + ".")) {
                return i;
            }
        }
        return depth;
    }
}

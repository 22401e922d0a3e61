package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.List;

/**
 * The transformer blocks of one tower at a fixed batch shape, written once for inference and
 * training. Pre-LN blocks (ViT, text transformer): {@code x += attn(LN1(x)); x += mlp(LN2(x))}.
 * Post-LN blocks (BERT): {@code x = LN1(x + attn(x)); x = LN2(x + mlp(x))}.
 *
 * <p>Training keeps every block's activations (one set per block) for {@link #backward}.
 * Inference keeps none: all blocks share one set of buffers, the residual stream is updated in
 * place and GELU is fused into the first MLP matmul. The forward code is the same for both: where
 * training keeps two tensors (a block's input and output, the MLP's pre-GELU and GELU values)
 * inference hands it one, and the copy between them is skipped. Tensors that only feed a matmul
 * (LayerNorm outputs, the attention output, and in inference the fused MLP hidden) are of the
 * precision's operand type; everything else is fp32 (in training the GELU output too: GELU runs on
 * its own there, and the backend converts it as it enters the second MLP matmul).
 */
final class Encoder {
    /**
     * One encoder's shape and numerics; parameters are {@code prefix.blocks.i.*}. With {@code causal}
     * a token attends only to itself and the tokens before it (CLIP's text tower).
     */
    record Spec(String prefix, int depth, int width, int heads, int mlp, float eps, Gelu gelu, boolean postLn, boolean causal) {
        static Spec of(ViTConfig c) {
            return new Spec("img", c.depth(), c.width(), c.heads(), c.mlpDim(), c.lnEps(), c.gelu(), false, false);
        }

        static Spec of(TextConfig c) {
            return new Spec("txt", c.depth(), c.width(), c.heads(), c.mlpDim(), c.lnEps(), c.gelu(), c instanceof BertConfig,
                    c instanceof ClipTextConfig);
        }
    }

    /**
     * Pre-LN: {@code in → ln1 → qkv → attn; mid = in + attn·Wo; mid → ln2 → hPre → h; out = mid + h·W2}.
     * Inference: {@code in == mid == out}, {@code ln1 == ln2}, {@code hPre == h}, no statistics.
     */
    private record PreLn(Tensor in, Tensor ln1, Tensor mean1, Tensor var1, Tensor qkv, Tensor probs, Tensor attn, Tensor mid,
                         Tensor ln2, Tensor mean2, Tensor var2, Tensor hPre, Tensor h, Tensor out) {
    }

    /**
     * Post-LN: {@code in → qkv → attn; sum = in + attn·Wo; y = LN1(sum)} (and {@code yLow}, its copy
     * in the operand type, when that is not fp32); {@code y → hPre → h; mid = y + h·W2; out = LN2(mid)}.
     * Inference: {@code in == sum == out}, {@code y == mid}, {@code hPre == h}, no statistics.
     */
    private record PostLn(Tensor in, Tensor qkv, Tensor probs, Tensor attn, Tensor sum, Tensor y, Tensor yLow, Tensor mean1, Tensor var1,
                          Tensor hPre, Tensor h, Tensor mid, Tensor out, Tensor mean2, Tensor var2) {
        Tensor mlpIn() {
            return yLow != null ? yLow : y;
        }
    }

    /** Gradient buffers shared by all blocks (training only). */
    private record Grad(Tensor dA, Tensor dB, Tensor dC, Tensor dH, Tensor dHpre, Tensor dQkv, Tensor dProbs) {
    }

    private final Spec s;
    private final Backend be;
    private final Params p;
    private final Tensor input, output;
    private final PreLn[] pre;
    private final PostLn[] post;
    private final Grad g;

    /** Buffers for {@code b} sequences of {@code t} tokens, from {@code arena}; {@code p} holds the weights the forward multiplies by. */
    Encoder(Spec s, Backend be, Params p, TensorArena arena, int b, int t, DType operands, boolean training) {
        this.s = s;
        this.be = be;
        this.p = p;
        int d = s.width(), rows = b * t;
        Tensor[] x = new Tensor[training ? s.depth() + 1 : 1];
        for (int i = 0; i < x.length; i++) {
            x[i] = arena.allocate(DType.F32, b, t, d);
        }
        this.input = x[0];
        this.output = x[x.length - 1];
        this.pre = s.postLn() ? null : new PreLn[s.depth()];
        this.post = s.postLn() ? new PostLn[s.depth()] : null;
        Buffers a = new Buffers(arena, b, t, d, s.heads(), s.mlp(), operands, training);
        for (int i = 0; i < s.depth(); i++) {
            if (!training && i > 0) { // inference: every block runs in the first one's buffers
                if (pre != null) {
                    pre[i] = pre[0];
                } else {
                    post[i] = post[0];
                }
                continue;
            }
            Tensor in = x[i], out = training ? x[i + 1] : x[0];
            if (!s.postLn()) {
                Tensor ln1 = a.operand(d), mid = training ? a.f32(d) : in, hPre = a.hPre();
                pre[i] = new PreLn(in, ln1, a.stat(rows), a.stat(rows), a.f32(3 * d), a.probs(), a.operand(d), mid,
                        training ? a.operand(d) : ln1, a.stat(rows), a.stat(rows), hPre, training ? a.hidden() : hPre, out);
            } else {
                Tensor y = a.f32(d);
                Tensor hPre = a.hPre();
                post[i] = new PostLn(in, a.f32(3 * d), a.probs(), a.operand(d), training ? a.f32(d) : in, y,
                        operands == DType.F32 ? null : a.operand(d), a.stat(rows), a.stat(rows), hPre, training ? a.hidden() : hPre,
                        training ? a.f32(d) : y, out, a.stat(rows), a.stat(rows));
            }
        }
        this.g = training ? new Grad(a.f32(d), a.f32(d), a.f32(d), a.f32(s.mlp()), a.f32(s.mlp()), a.f32(3 * d), a.probs()) : null;
    }

    /** Allocation helpers: what a tensor is for decides its type and whether inference has it at all. */
    private record Buffers(TensorArena arena, int b, int t, int d, int heads, int mlp, DType operands, boolean training) {
        Tensor f32(int width) {
            return arena.allocate(DType.F32, b, t, width);
        }

        Tensor operand(int width) {
            return arena.allocate(operands, b, t, width);
        }

        Tensor probs() {
            return arena.allocate(DType.F32, b, heads, t, t);
        }

        /** LayerNorm statistics: training keeps them, inference has none. */
        Tensor stat(int rows) {
            return training ? arena.allocate(DType.F32, rows) : null;
        }

        /** The first MLP matmul's output: fp32 before GELU in training; the fused GELU output in inference. */
        Tensor hPre() {
            return training ? f32(mlp) : operand(mlp);
        }

        /** GELU's output in training (fp32: GELU runs on its own, its input is kept for the backward). */
        Tensor hidden() {
            return f32(mlp);
        }
    }

    /** Adds the parameters of {@code depth} blocks under {@code prefix}.blocks.{i}. */
    static void params(List<ParamSpec> p, String prefix, int depth, int width, int mlp) {
        for (int i = 0; i < depth; i++) {
            String b = prefix + ".blocks." + i + ".";
            p.add(new ParamSpec(b + "ln1.scale", new int[] {width}));
            p.add(new ParamSpec(b + "ln1.bias", new int[] {width}));
            p.add(new ParamSpec(b + "attn.qkv.kernel", new int[] {width, 3 * width}));
            p.add(new ParamSpec(b + "attn.qkv.bias", new int[] {3 * width}));
            p.add(new ParamSpec(b + "attn.out.kernel", new int[] {width, width}));
            p.add(new ParamSpec(b + "attn.out.bias", new int[] {width}));
            p.add(new ParamSpec(b + "ln2.scale", new int[] {width}));
            p.add(new ParamSpec(b + "ln2.bias", new int[] {width}));
            p.add(new ParamSpec(b + "mlp.fc1.kernel", new int[] {width, mlp}));
            p.add(new ParamSpec(b + "mlp.fc1.bias", new int[] {mlp}));
            p.add(new ParamSpec(b + "mlp.fc2.kernel", new int[] {mlp, width}));
            p.add(new ParamSpec(b + "mlp.fc2.bias", new int[] {width}));
        }
    }

    /** Where the caller writes the blocks' input. */
    Tensor input() {
        return input;
    }

    /** The last block's output (valid after {@link #forward}; in inference the same tensor as {@link #input()}). */
    Tensor output() {
        return output;
    }

    /** All blocks; {@code keyMask[B,T]} (1 keep, 0 pad) may be null. */
    void forward(Tensor keyMask, ForwardObserver obs) {
        for (int i = 0; i < s.depth(); i++) {
            String n = s.prefix() + ".blocks." + i + ".";
            Tensor out;
            if (pre != null) {
                PreLn k = pre[i];
                layerNorm(k.in, n + "ln1", k.ln1, k.mean1, k.var1);
                linear(k.ln1, n + "attn.qkv", k.qkv, Epilogue.NONE);
                be.attention(k.qkv, keyMask, s.causal(), s.heads(), k.probs, k.attn);
                residual(k.in, k.mid);
                linear(k.attn, n + "attn.out", k.mid, Epilogue.ACCUMULATE);
                layerNorm(k.mid, n + "ln2", k.ln2, k.mean2, k.var2);
                mlpUp(k.ln2, n, k.hPre, k.h);
                residual(k.mid, k.out);
                linear(k.h, n + "mlp.fc2", k.out, Epilogue.ACCUMULATE);
                out = k.out;
            } else {
                PostLn k = post[i];
                linear(k.in, n + "attn.qkv", k.qkv, Epilogue.NONE);
                be.attention(k.qkv, keyMask, s.causal(), s.heads(), k.probs, k.attn);
                residual(k.in, k.sum);
                linear(k.attn, n + "attn.out", k.sum, Epilogue.ACCUMULATE);
                layerNorm(k.sum, n + "ln1", k.y, k.mean1, k.var1);
                if (k.yLow != null) { // the residual needs LN1 in fp32, the MLP takes it in the operand type
                    layerNorm(k.sum, n + "ln1", k.yLow, null, null);
                }
                mlpUp(k.mlpIn(), n, k.hPre, k.h);
                residual(k.y, k.mid);
                linear(k.h, n + "mlp.fc2", k.mid, Epilogue.ACCUMULATE);
                layerNorm(k.mid, n + "ln2", k.out, k.mean2, k.var2);
                out = k.out;
            }
            obs.onTensor("block." + i, out);
        }
    }

    private void linear(Tensor x, String name, Tensor y, Epilogue epi) {
        be.linear(x, p.get(name + ".kernel"), p.get(name + ".bias"), y, epi);
    }

    private void layerNorm(Tensor x, String name, Tensor y, Tensor mean, Tensor var) {
        be.layerNorm(x, p.get(name + ".scale"), p.get(name + ".bias"), s.eps(), y, mean, var);
    }

    /** {@code h = gelu(x·W1 + b1)}: one fused matmul when {@code hPre == h}, else the matmul into hPre and GELU into h. */
    private void mlpUp(Tensor x, String n, Tensor hPre, Tensor h) {
        if (hPre == h) {
            linear(x, n + "mlp.fc1", h, Epilogue.of(s.gelu()));
        } else {
            linear(x, n + "mlp.fc1", hPre, Epilogue.NONE);
            be.gelu(hPre, h, s.gelu());
        }
    }

    /** Starts a residual branch: {@code to = from}, unless they are one tensor (inference, in place). */
    private void residual(Tensor from, Tensor to) {
        if (from != to) {
            be.copy(from, to);
        }
    }

    /**
     * Back-propagates {@code dOut} (the gradient of {@link #output()}, overwritten) down to block
     * {@code lowest}; returns the tensor holding the gradient of that block's input.
     */
    Tensor backward(Grads grads, Tensor dOut, int lowest) {
        Tensor dx = dOut;
        for (int i = s.depth() - 1; i >= lowest; i--) {
            String n = s.prefix() + ".blocks." + i + ".";
            if (pre != null) {
                PreLn k = pre[i];
                Tensor dY = g.dA, dTmp = g.dB, dMid = g.dC;
                linearBackward(k.h, n + "mlp.fc2", dx, g.dH, grads);
                be.geluBackward(k.hPre, g.dH, g.dHpre, s.gelu());
                linearBackward(k.ln2, n + "mlp.fc1", g.dHpre, dY, grads);
                grads.layerNorm(be, k.mid, p, n + "ln2", k.mean2, k.var2, s.eps(), dY, dTmp);
                be.add(dx, dTmp, dMid);                     // out = mid + mlp(LN2(mid))
                linearBackward(k.attn, n + "attn.out", dMid, dTmp, grads);
                be.attentionBackward(k.qkv, k.probs, s.heads(), dTmp, g.dQkv, g.dProbs);
                linearBackward(k.ln1, n + "attn.qkv", g.dQkv, dY, grads);
                grads.layerNorm(be, k.in, p, n + "ln1", k.mean1, k.var1, s.eps(), dY, dTmp);
                be.add(dMid, dTmp, dx);                     // mid = in + attn(LN1(in))
            } else {
                PostLn k = post[i];
                Tensor dMid = g.dA, dY = g.dB, dTmp = g.dC;
                grads.layerNorm(be, k.mid, p, n + "ln2", k.mean2, k.var2, s.eps(), dx, dMid);
                linearBackward(k.h, n + "mlp.fc2", dMid, g.dH, grads);
                be.geluBackward(k.hPre, g.dH, g.dHpre, s.gelu());
                linearBackward(k.mlpIn(), n + "mlp.fc1", g.dHpre, dTmp, grads);
                be.add(dMid, dTmp, dY);                     // mid = y + mlp(y)
                Tensor dSum = dMid;                         // dMid is free again
                grads.layerNorm(be, k.sum, p, n + "ln1", k.mean1, k.var1, s.eps(), dY, dSum);
                linearBackward(k.attn, n + "attn.out", dSum, dTmp, grads);
                be.attentionBackward(k.qkv, k.probs, s.heads(), dTmp, g.dQkv, g.dProbs);
                linearBackward(k.in, n + "attn.qkv", g.dQkv, dY, grads);
                be.add(dSum, dY, dx);                       // sum = in + attn(in)
            }
        }
        return dx;
    }

    /** The backward of {@link #linear} with the weight the forward multiplied by; gradients only where they train. */
    private void linearBackward(Tensor x, String name, Tensor dy, Tensor dx, Grads grads) {
        be.linearBackward(x, p.get(name + ".kernel"), dy, dx, grads.get(name + ".kernel"), grads.get(name + ".bias"));
    }

    /** The lowest block holding a trainable parameter, or {@code depth} when none does. */
    int lowestTrainableBlock(Grads grads) {
        for (int i = 0; i < s.depth(); i++) {
            if (grads.anyUnder(s.prefix() + ".blocks." + i + ".")) {
                return i;
            }
        }
        return s.depth();
    }
}

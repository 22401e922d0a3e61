package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.Pool;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.List;

/**
 * Multihead attention pooling (SigLIP's image pooling; big_vision {@code models/vit.py}
 * {@code MAPHead}, transformers {@code modeling_siglip.py} {@code SiglipMultiheadAttentionPoolingHead}):
 * a learned probe attends over the encoded tokens, then a LayerNorm + MLP residual:
 * <pre>
 *   a      = MHA(query = probe, keys = values = tokens)     [B, D]
 *   pooled = a + fc2(gelu(fc1(LN(a))))                      [B, D]
 * </pre>
 * with the tower's head count, MLP width, LayerNorm eps and GELU.
 *
 * <p>The cross-attention is computed by the backend's self-attention op, so every backend has it
 * (and its backward) already, held to the oracle: the probe is prepended to the tokens
 * ({@code [B, 1+T, D]}), one fused q/k/v projection runs over all rows, and a key mask hides the
 * probe's own key. Row 0 of the output is then exactly {@code softmax(q_probe·Kᵀ/√dh)·V} over the
 * tokens. The price is the queries of the T token rows, computed and discarded: about one more
 * block's attention, a few percent of a SigLIP forward. The parameters are stored as the blocks'
 * are ({@code attn.qkv} {@code [D, 3D]}), the layout both upstream files convert to directly.
 *
 * <p>Training keeps what the backward needs; the backward writes the tokens' gradient only when
 * something below the head trains.
 */
final class MapHead {
    static final String P = "img.map.";

    private final Backend be;
    private final Params p;
    private final int heads;
    private final float eps;
    private final Gelu gelu;
    private final boolean training;
    private final Tensor keep, x, qkv, probs, att, o, a, ln, mean, var, hPre, h;
    private final Tensor dH, dHpre, dLn, dA, dO, dAtt, dQkv, dScratch, dX, dProbe;

    /** Buffers for {@code b} images of {@code t} tokens of width {@code d}, from {@code arena}. */
    MapHead(Backend be, Params p, TensorArena arena, int b, int t, int d, int heads, int mlp, float eps, Gelu gelu, boolean training) {
        this.be = be;
        this.p = p;
        this.heads = heads;
        this.eps = eps;
        this.gelu = gelu;
        this.training = training;
        int rows = t + 1;
        keep = arena.allocate(DType.F32, b, rows);
        float[] k = new float[b * rows];
        for (int i = 0; i < k.length; i++) {
            k[i] = i % rows == 0 ? 0f : 1f; // the probe's own key is hidden
        }
        be.upload(k, keep);
        x = arena.allocate(DType.F32, b, rows, d);
        qkv = arena.allocate(DType.F32, b, rows, 3 * d);
        probs = arena.allocate(DType.F32, b, heads, rows, rows);
        att = arena.allocate(DType.F32, b, rows, d);
        o = arena.allocate(DType.F32, b, d);
        a = arena.allocate(DType.F32, b, d);
        ln = arena.allocate(DType.F32, b, d);
        mean = training ? arena.allocate(DType.F32, b) : null;
        var = training ? arena.allocate(DType.F32, b) : null;
        hPre = arena.allocate(DType.F32, b, mlp);
        h = training ? arena.allocate(DType.F32, b, mlp) : hPre; // inference fuses GELU into fc1
        dH = training ? arena.allocate(DType.F32, b, mlp) : null;
        dHpre = training ? arena.allocate(DType.F32, b, mlp) : null;
        dLn = training ? arena.allocate(DType.F32, b, d) : null;
        dA = training ? arena.allocate(DType.F32, b, d) : null;
        dO = training ? arena.allocate(DType.F32, b, d) : null;
        dAtt = training ? arena.allocate(DType.F32, b, rows, d) : null;
        dQkv = training ? arena.allocate(DType.F32, b, rows, 3 * d) : null;
        dScratch = training ? arena.allocate(DType.F32, b, heads, rows, rows) : null;
        dX = training ? arena.allocate(DType.F32, b, rows, d) : null;
        dProbe = training ? arena.allocate(DType.F32, d) : null;
    }

    /** The head's parameters, named as in models/README.md. */
    static void params(List<ParamSpec> s, int width, int mlp) {
        s.add(new ParamSpec(P + "probe", new int[] {width}));
        s.add(new ParamSpec(P + "attn.qkv.kernel", new int[] {width, 3 * width}));
        s.add(new ParamSpec(P + "attn.qkv.bias", new int[] {3 * width}));
        s.add(new ParamSpec(P + "attn.out.kernel", new int[] {width, width}));
        s.add(new ParamSpec(P + "attn.out.bias", new int[] {width}));
        s.add(new ParamSpec(P + "ln.scale", new int[] {width}));
        s.add(new ParamSpec(P + "ln.bias", new int[] {width}));
        s.add(new ParamSpec(P + "mlp.fc1.kernel", new int[] {width, mlp}));
        s.add(new ParamSpec(P + "mlp.fc1.bias", new int[] {mlp}));
        s.add(new ParamSpec(P + "mlp.fc2.kernel", new int[] {mlp, width}));
        s.add(new ParamSpec(P + "mlp.fc2.bias", new int[] {width}));
    }

    /** Multiply-adds of the head for one image of {@code n} tokens, times two (as computed here, probe row included). */
    static double flops(int n, int width, int mlp) {
        double rows = n + 1;
        return 2 * rows * 3.0 * width * width + 4 * rows * rows * width + 2.0 * width * width + 4.0 * width * mlp;
    }

    /** {@code pooled[B, D]} from the encoded tokens {@code tokens[B, T, D]}. */
    void forward(Tensor tokens, Tensor pooled, ForwardObserver obs) {
        be.prependToken(p.get(P + "probe"), tokens, x);
        linear(x, "attn.qkv", qkv, Epilogue.NONE);
        be.attention(qkv, keep, heads, probs, att);
        be.pool(att, Pool.FIRST, 0, o);
        linear(o, "attn.out", a, Epilogue.NONE);
        obs.onTensor("map.attention", a);
        be.layerNorm(a, p.get(P + "ln.scale"), p.get(P + "ln.bias"), eps, ln, mean, var);
        if (h == hPre) {
            linear(ln, "mlp.fc1", h, Epilogue.of(gelu));
        } else {
            linear(ln, "mlp.fc1", hPre, Epilogue.NONE);
            be.gelu(hPre, h, gelu);
        }
        be.copy(a, pooled);
        linear(h, "mlp.fc2", pooled, Epilogue.ACCUMULATE);
    }

    private void linear(Tensor in, String name, Tensor y, Epilogue epi) {
        be.linear(in, p.get(P + name + ".kernel"), p.get(P + name + ".bias"), y, epi);
    }

    /** Whether any parameter of the head trains. */
    static boolean trains(Grads grads) {
        return grads.anyUnder(P);
    }

    /**
     * The backward from {@code dPooled[B, D]}: the head's gradients where they train, and the
     * tokens' gradient into {@code dTokens[B, T, D]} when {@code below} (something under the head
     * trains) or the probe trains (then dTokens is written as scratch).
     */
    void backward(Grads grads, Tensor dPooled, Tensor dTokens, boolean below) {
        if (!training) {
            throw new IllegalStateException("MAP head built for inference");
        }
        linearBackward(h, "mlp.fc2", dPooled, dH, grads);
        be.geluBackward(hPre, dH, dHpre, gelu);
        linearBackward(ln, "mlp.fc1", dHpre, dLn, grads);
        grads.layerNorm(be, a, p, P + "ln", mean, var, eps, dLn, dA);
        be.add(dA, dPooled, dLn);                               // pooled = a + mlp(LN(a)): dLn is free again
        linearBackward(o, "attn.out", dLn, dO, grads);
        be.poolBackward(dO, Pool.FIRST, 0, dAtt);                // only the probe row's output is used
        be.attentionBackward(qkv, probs, heads, dAtt, dQkv, dScratch);
        Tensor dProbeGrad = grads.get(P + "probe");
        boolean needDx = below || dProbeGrad != null;
        be.linearBackward(x, p.get(P + "attn.qkv.kernel"), dQkv, needDx ? dX : null, grads.get(P + "attn.qkv.kernel"),
                grads.get(P + "attn.qkv.bias"));
        if (needDx) {
            be.prependTokenBackward(dX, dProbeGrad != null ? dProbeGrad : dProbe, dTokens);
        }
    }

    private void linearBackward(Tensor in, String name, Tensor dy, Tensor dx, Grads grads) {
        be.linearBackward(in, p.get(P + name + ".kernel"), dy, dx, grads.get(P + name + ".kernel"), grads.get(P + name + ".bias"));
    }
}

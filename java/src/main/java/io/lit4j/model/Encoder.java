package io.lit4j.model;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.List;

/**
 * The transformer encoder both kinds of tower share: the block parameters, and the inference
 * forward of pre-LN blocks (ViT, text transformer) and post-LN blocks (BERT). One set of scratch
 * buffers serves every block; residual adds are fused into the projections.
 */
final class Encoder {
    private Encoder() {
    }

    /** Adds the parameters of {@code depth} blocks under {@code prefix}.blocks.{i}. */
    static void blockParams(List<ParamSpec> p, String prefix, int depth, int width, int mlp) {
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

    /**
     * Scratch for one batch: sized once, reused by every block. With {@code matmulInput} BF16 the
     * tensors that only feed matmuls (LayerNorm outputs, attention output, MLP hidden) are bf16, so
     * the matmuls run on bf16 inputs with fp32 accumulation; the residual stream stays fp32.
     */
    record Scratch(Tensor y, Tensor qkv, Tensor probs, Tensor attn, Tensor hidden, Tensor r) {
        static Scratch allocate(TensorArena arena, int b, int t, int width, int heads, int mlp, DType matmulInput, boolean postLn) {
            return new Scratch(arena.allocate(matmulInput, b, t, width), arena.allocate(DType.F32, b, t, 3 * width),
                    arena.allocate(DType.F32, b, heads, t, t), arena.allocate(matmulInput, b, t, width),
                    arena.allocate(matmulInput, b, t, mlp), postLn ? arena.allocate(DType.F32, b, t, width) : null);
        }
    }

    /**
     * Pre-LN blocks, in place on the residual stream {@code x[B,T,D]}:
     * {@code x += attn(LN1(x)); x += mlp(LN2(x))}.
     */
    static void preLn(Backend be, Params p, String prefix, int depth, int heads, float eps, Gelu gelu, Tensor x,
                      Tensor keyMask, Scratch s, ForwardObserver obs) {
        for (int i = 0; i < depth; i++) {
            String b = prefix + ".blocks." + i + ".";
            be.layerNorm(x, p.get(b + "ln1.scale"), p.get(b + "ln1.bias"), eps, s.y, null, null);
            be.linear(s.y, p.get(b + "attn.qkv.kernel"), p.get(b + "attn.qkv.bias"), s.qkv, Epilogue.NONE);
            be.attention(s.qkv, keyMask, heads, s.probs, s.attn);
            be.linear(s.attn, p.get(b + "attn.out.kernel"), p.get(b + "attn.out.bias"), x, Epilogue.ACCUMULATE);
            be.layerNorm(x, p.get(b + "ln2.scale"), p.get(b + "ln2.bias"), eps, s.y, null, null);
            be.linear(s.y, p.get(b + "mlp.fc1.kernel"), p.get(b + "mlp.fc1.bias"), s.hidden, Epilogue.of(gelu));
            be.linear(s.hidden, p.get(b + "mlp.fc2.kernel"), p.get(b + "mlp.fc2.bias"), x, Epilogue.ACCUMULATE);
            obs.onTensor("block." + i, x);
        }
    }

    /**
     * Post-LN (BERT) blocks: {@code x = LN1(x + attn(x)); x = LN2(x + mlp(x))}. The stream between
     * the two LayerNorms lives in the fp32 scratch {@code r}; when the matmul inputs are bf16,
     * LN1 is written twice (fp32 for the residual, bf16 for the MLP).
     */
    static void postLn(Backend be, Params p, String prefix, int depth, int heads, float eps, Gelu gelu, Tensor x,
                       Tensor keyMask, Scratch s, ForwardObserver obs) {
        boolean lowPrecision = s.y.dtype() != DType.F32;
        for (int i = 0; i < depth; i++) {
            String b = prefix + ".blocks." + i + ".";
            be.linear(x, p.get(b + "attn.qkv.kernel"), p.get(b + "attn.qkv.bias"), s.qkv, Epilogue.NONE);
            be.attention(s.qkv, keyMask, heads, s.probs, s.attn);
            be.linear(s.attn, p.get(b + "attn.out.kernel"), p.get(b + "attn.out.bias"), x, Epilogue.ACCUMULATE);
            be.layerNorm(x, p.get(b + "ln1.scale"), p.get(b + "ln1.bias"), eps, s.r, null, null);
            Tensor mlpIn = s.r;
            if (lowPrecision) {
                be.layerNorm(x, p.get(b + "ln1.scale"), p.get(b + "ln1.bias"), eps, s.y, null, null);
                mlpIn = s.y;
            }
            be.linear(mlpIn, p.get(b + "mlp.fc1.kernel"), p.get(b + "mlp.fc1.bias"), s.hidden, Epilogue.of(gelu));
            be.linear(s.hidden, p.get(b + "mlp.fc2.kernel"), p.get(b + "mlp.fc2.bias"), s.r, Epilogue.ACCUMULATE);
            be.layerNorm(s.r, p.get(b + "ln2.scale"), p.get(b + "ln2.bias"), eps, x, null, null);
            obs.onTensor("block." + i, x);
        }
    }
}

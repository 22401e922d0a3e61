package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.data.TokenBatch;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import io.lit4j.train.Init;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The inference fast paths (kernels packed into oneDNN's blocked layout, bf16 matmuls, kernels
 * packed in place by {@link TwoTower#freezeForInference}) against the scalar backend's plain fp32
 * forward pass, on random weights: fp32 to 1e-5, bf16 to 1e-2 cosine distance, frozen bit-equal
 * to unfrozen.
 */
class PackedInferenceTest {
    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final OneDnnBackend onednn = new OneDnnBackend(2);

    /** Smoke sizes (odd blocks: packed copies do not fit in place) and 64-multiples (they do). */
    static final TwoTowerConfig SMOKE = Presets.pair("smoke");
    static final TwoTowerConfig BLOCKY = new TwoTowerConfig(
            new ViTConfig(32, 8, 3, 64, 2, 4, 128, ViTConfig.Pooling.TOK, 1e-6f, Gelu.TANH, 0).withHeadDim(64),
            new TextTransformerConfig(128, 8, 64, 2, 4, 128, TextTransformerConfig.Pooling.LAST, 1e-6f, Gelu.TANH, 0).withHeadDim(64),
            TwoTowerConfig.Loss.SOFTMAX);
    /** CLIP's towers (pre-LayerNorm, quick GELU, bias-free projections; causal text pooled at its largest id). */
    static final TwoTowerConfig CLIP = new TwoTowerConfig(
            new ViTConfig(32, 8, 3, 64, 2, 4, 128, ViTConfig.Pooling.TOK, 1e-5f, Gelu.QUICK, 64, ViTConfig.Layout.CLIP),
            new ClipTextConfig(128, 8, 64, 2, 4, 128, 1e-5f, Gelu.QUICK, 64, ClipTextConfig.LEGACY_EOS), TwoTowerConfig.Loss.SOFTMAX);

    static TwoTower model(Backend be, TwoTowerConfig cfg, float[][] weights) {
        TwoTower m = TwoTower.allocate(be, cfg);
        int i = 0;
        for (Tensor t : m.params().tensors().values()) {
            be.upload(weights[i++], t);
        }
        return m;
    }

    /** Realistic initial weights (as tuning starts from), read out of a scalar model. */
    static float[][] weights(TwoTowerConfig cfg, long seed) {
        try (TwoTower m = TwoTower.allocate(scalar, cfg)) {
            Init.tower(scalar, m.params(), "img.", false, seed);
            Init.tower(scalar, m.params(), "txt.", false, seed + 1);
            Init.temperature(scalar, m.params(), 10, 0);
            return m.params().tensors().values().stream().map(scalar::download).toArray(float[][]::new);
        }
    }

    record Outputs(float[] images, float[] texts) {
    }

    static Outputs embed(TwoTower m) {
        float[] px = random(new Random(11), 3 * 32 * 32 * 3, 1f);
        TokenBatch tb = new TokenBatch(new int[] {5, 9, 77, 3, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 0, 0, 0, 0, 0, 0, 0}, 3, 8);
        return new Outputs(m.embedImages(px, 3), m.embedTexts(tb));
    }

    @Test
    void packedAndFrozenFp32MatchTheScalarForward() {
        for (TwoTowerConfig cfg : new TwoTowerConfig[] {SMOKE, BLOCKY, CLIP}) {
            float[][] w = weights(cfg, 3);
            Outputs ref;
            try (TwoTower m = model(scalar, cfg, w)) {
                ref = embed(m);
            }
            try (TwoTower m = model(onednn, cfg, w)) {
                Outputs packed = embed(m);
                assertClose("packed images " + cfg.image().width(), ref.images, packed.images, 1e-5);
                assertClose("packed texts " + cfg.text().width(), ref.texts, packed.texts, 1e-5);
                m.freezeForInference();
                Outputs frozen = embed(m);
                assertArrayEquals(packed.images, frozen.images, "frozen images differ from packed copies");
                assertArrayEquals(packed.texts, frozen.texts, "frozen texts differ from packed copies");
            }
        }
    }

    @Test
    void bf16IsWithinOnePercentCosineOfFp32AndFreezesToTheSameResult() {
        for (TwoTowerConfig cfg : new TwoTowerConfig[] {SMOKE, BLOCKY, CLIP}) {
            float[][] w = weights(cfg, 5);
            Outputs ref;
            try (TwoTower m = model(scalar, cfg, w)) {
                ref = embed(m);
            }
            try (TwoTower m = model(onednn, cfg, w)) {
                m.setPrecision(Precision.BF16);
                Outputs bf = embed(m);
                assertCosine("bf16 images", ref.images, bf.images, cfg.embedDim());
                assertCosine("bf16 texts", ref.texts, bf.texts, cfg.embedDim());
                assertTrue(io.lit4j.Assertions2.relativeError(ref.images, bf.images) > 1e-6, "bf16 matched fp32 exactly: bf16 path not taken");
                m.freezeForInference();
                Outputs frozen = embed(m);
                assertArrayEquals(bf.images, frozen.images);
                assertArrayEquals(bf.texts, frozen.texts);
            }
        }
    }

    /**
     * Inference reuses its activation memory without zeroing it: calls of other shapes in between
     * (leaving other values behind) must not change a result, on either backend and precision.
     */
    @Test
    void reusedWorkspacesGiveTheSameEmbeddingsAsFreshOnes() {
        float[][] w = weights(BLOCKY, 13);
        for (Backend be : new Backend[] {scalar, onednn}) {
            for (Precision p : be == scalar ? new Precision[] {Precision.FP32} : Precision.values()) {
                try (TwoTower fresh = model(be, BLOCKY, w); TwoTower reused = model(be, BLOCKY, w)) {
                    fresh.setPrecision(p);
                    reused.setPrecision(p);
                    Outputs expected = embed(fresh);
                    reused.embedImages(random(new Random(3), 5 * 32 * 32 * 3, 3f), 5); // bigger, other values
                    reused.embedTexts(new TokenBatch(new int[] {7, 7, 7, 7, 7, 7, 7, 7, 9, 9, 0, 0, 0, 0, 0, 0}, 2, 8));
                    reused.embedImages(random(new Random(4), 32 * 32 * 3, 3f), 1); // smaller
                    Outputs again = embed(reused);
                    assertArrayEquals(expected.images, again.images, be.name() + " " + p + " images after other calls");
                    assertArrayEquals(expected.texts, again.texts, be.name() + " " + p + " texts after other calls");
                }
            }
        }
    }

    @Test
    void aFrozenModelRefusesTrainingSavingAndPrecisionChanges() {
        try (TwoTower m = model(onednn, SMOKE, weights(SMOKE, 7))) {
            m.freezeForInference();
            m.freezeForInference(); // idempotent
            assertTrue(assertThrows(LitException.class, m::params).getMessage().contains("frozen for inference"));
            assertThrows(LitException.class, m::weightsChanged);
            assertThrows(LitException.class, () -> m.setPrecision(Precision.BF16));
            m.setPrecision(Precision.FP32); // unchanged precision is fine
            assertTrue(m.temperature() > 1f);
        }
    }

    @Test
    void inPlacePackingComputesWhatACopyComputesAndDeclinesWhatDoesNotFit() {
        try (TensorArena a = onednn.newArena()) {
            Random r = new Random(9);
            for (DType p : new DType[] {DType.F32, DType.BF16}) {
                Tensor w = a.allocate(DType.F32, 64, 192), x = a.allocate(DType.F32, 5, 64);
                onednn.upload(random(r, 64 * 192, 0.2f), w);
                onednn.upload(random(r, 5 * 64, 1f), x);
                Tensor copy = onednn.packWeights(w, p, a);
                Tensor y1 = a.allocate(DType.F32, 5, 192), y2 = a.allocate(DType.F32, 5, 192);
                onednn.linear(x, copy, null, y1, Epilogue.NONE);
                Tensor inPlace = onednn.packWeightsInPlace(w, p);
                assertNotNull(inPlace, "64x192 packs in place at " + p);
                onednn.linear(x, inPlace, null, y2, Epilogue.NONE);
                assertArrayEquals(onednn.download(y1), onednn.download(y2), "in-place packing at " + p);
            }
            Tensor odd = a.allocate(DType.F32, 17, 33);
            float[] values = random(r, 17 * 33, 1f);
            onednn.upload(values, odd);
            assertNull(onednn.packWeightsInPlace(odd, DType.F32), "17x33 pads to more bytes than it has");
            assertArrayEquals(values, onednn.download(odd), "a declined in-place pack must leave the weights alone");
        }
    }

    /**
     * A bf16 operand makes a bf16 product whatever the other operand is (plain or packed, fp32 or
     * bf16), forward and backward: the same numbers the oracle gets rounding both operands to bf16.
     */
    @Test
    void aBf16OperandMakesABf16ProductHoweverTheWeightIsStored() {
        Random r = new Random(11);
        float[] wv = random(r, 48 * 80, 0.2f), xv = random(r, 7 * 48, 1f), dyv = random(r, 7 * 80, 1f);
        try (TensorArena sa = scalar.newArena(); TensorArena a = onednn.newArena()) {
            Tensor sw = sa.allocate(DType.F32, 48, 80), sx = sa.allocate(DType.BF16, 7, 48), sy = sa.allocate(DType.F32, 7, 80);
            scalar.upload(wv, sw);
            scalar.upload(xv, sx);
            scalar.linear(sx, sw, null, sy, Epilogue.NONE);
            float[] expected = scalar.download(sy);
            Tensor w = a.allocate(DType.F32, 48, 80), x = a.allocate(DType.BF16, 7, 48), dy = a.allocate(DType.F32, 7, 80);
            onednn.upload(wv, w);
            onednn.upload(xv, x);
            onednn.upload(dyv, dy);
            for (Tensor weight : new Tensor[] {w, onednn.packWeights(w, DType.F32, a), onednn.packWeights(w, DType.BF16, a)}) {
                Tensor y = a.allocate(DType.F32, 7, 80);
                onednn.linear(x, weight, null, y, Epilogue.NONE);
                assertArrayEquals(expected, onednn.download(y), 1e-4f, "bf16 x with a " + weight + " weight");
                Tensor dx = a.allocate(DType.F32, 7, 48), dw = a.allocate(DType.F32, 48, 80);
                onednn.linearBackward(x, weight, dy, dx, dw, null);
                Tensor sdy = sa.allocate(DType.F32, 7, 80), sdx = sa.allocate(DType.F32, 7, 48), sdw = sa.allocate(DType.F32, 48, 80);
                scalar.upload(dyv, sdy);
                scalar.linearBackward(sx, sw, sdy, sdx, sdw, null);
                assertArrayEquals(scalar.download(sdx), onednn.download(dx), 1e-4f, "dx with a " + weight + " weight");
                assertArrayEquals(scalar.download(sdw), onednn.download(dw), 1e-4f, "dw with a " + weight + " weight");
            }
        }
    }

    static void assertCosine(String what, float[] ref, float[] got, int dim) {
        for (int row = 0; row < ref.length / dim; row++) {
            double dot = 0, a = 0, b = 0;
            for (int i = row * dim; i < (row + 1) * dim; i++) {
                dot += (double) ref[i] * got[i];
                a += (double) ref[i] * ref[i];
                b += (double) got[i] * got[i];
            }
            double dist = 1 - dot / Math.sqrt(a * b);
            if (!(dist <= 1e-2)) {
                fail(what + " row " + row + ": cosine distance " + dist + " > 1e-2");
            }
        }
    }
}

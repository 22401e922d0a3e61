package io.lit4j.train;

import io.lit4j.backend.Backend;
import io.lit4j.backend.UnderTest;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bf16 copies a bf16 tower multiplies by: written by AdamW in its own pass (so after every step
 * each copy is exactly the bf16 rounding of its fp32 master weight), and redone from the weights
 * when they change by any other route (set, then {@code weightsChanged()}).
 */
class ShadowWeightsTest {
    @BeforeAll
    static void theBackendUnderTestCanRun() {
        UnderTest.assumeAvailable();
    }

    private static void assertCopiesAreTheWeightsInBf16(Backend be, TwoTower m, String what) {
        for (String tower : List.of("img.", "txt.")) {
            Map<String, Tensor> copies = m.trainingCopies(Precision.BF16, tower);
            assertFalse(copies.isEmpty(), what + ": " + tower + " has bf16 copies");
            for (Map.Entry<String, Tensor> e : copies.entrySet()) {
                float[] w = be.download(m.params().get(e.getKey()));
                for (int i = 0; i < w.length; i++) {
                    w[i] = Floats.bf16ToF32(Floats.f32ToBf16(w[i]));
                }
                assertArrayEquals(w, be.download(e.getValue()), 0f, what + ": the bf16 copy of " + e.getKey());
            }
        }
    }

    @Test
    void adamwWritesTheCopiesAndOtherRoutesInvalidateThem() {
        TrainGoldenTest.Case k = TrainGoldenTest.Case.open("train_softmax_UU.safetensors");
        try (SafetensorsReader golden = k.r(); Backend be = UnderTest.open();
             TwoTower m = Checkpoints.load(be, TrainGoldenTest.GOLDEN.resolve("train_lit"));
             TrainingSession s = new TrainingSession(m, LockSpec.parse("UU", List.of(), List.of()), k.opt(),
                     TrainingSession.Options.of(k.batch()).withPrecision(Precision.BF16))) {
            String kernel = m.trainingCopies(Precision.BF16, "txt.").keySet().iterator().next();
            float[] before = be.download(m.trainingCopies(Precision.BF16, "txt.").get(kernel));
            for (int step = 0; step < 3; step++) {
                s.step(step, k.pixels(), null, k.tokens());
                for (String tower : List.of("img.", "txt.")) { // written by AdamW, not left to be converted
                    assertTrue(m.staleTrainingCopies(Precision.BF16, tower).isEmpty(), "after step " + step + ": stale " + tower + " copies");
                }
                assertCopiesAreTheWeightsInBf16(be, m, "after step " + step);
            }
            assertFalse(java.util.Arrays.equals(before, be.download(m.trainingCopies(Precision.BF16, "txt.").get(kernel))),
                    "the steps changed " + kernel);
            // another route: new weights set in place, then weightsChanged(): the copies are redone on next use
            Random r = new Random(3);
            for (String name : m.trainingCopies(Precision.BF16, "txt.").keySet()) {
                Tensor w = m.params().get(name);
                float[] v = new float[Math.toIntExact(w.numel())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian() * 0.02f;
                }
                be.upload(v, w);
            }
            m.weightsChanged();
            assertFalse(m.staleTrainingCopies(Precision.BF16, "txt.").isEmpty(), "weightsChanged() marks the copies stale");
            assertCopiesAreTheWeightsInBf16(be, m, "after the weights were set");
            // and a step after that keeps them exact
            assertTrue(Double.isFinite(s.step(3, k.pixels(), null, k.tokens()).loss()));
            assertCopiesAreTheWeightsInBf16(be, m, "after the step that followed");
        }
    }
}

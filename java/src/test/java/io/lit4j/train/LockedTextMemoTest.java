package io.lit4j.train;

import io.lit4j.backend.Backend;
import io.lit4j.backend.UnderTest;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * With the text tower locked (LL), a tuning session embeds each distinct caption once: every row
 * of a batch gets exactly the embedding its caption has when embedded alone, however the rows
 * repeat, and captions seen before do not go through the tower again.
 */
class LockedTextMemoTest {
    @BeforeAll
    static void theBackendUnderTestCanRun() {
        UnderTest.assumeAvailable();
    }

    /** Rows {@code order[i]} of {@code from}, as a batch. */
    private static TokenBatch rows(TokenBatch from, int... order) {
        int len = from.length();
        int[] ids = new int[order.length * len];
        for (int i = 0; i < order.length; i++) {
            System.arraycopy(from.ids(), order[i] * len, ids, i * len, len);
        }
        return new TokenBatch(ids, order.length, len);
    }

    @Test
    void eachRowGetsItsCaptionsOwnEmbeddingAndSeenCaptionsAreNotEmbeddedAgain() {
        TrainGoldenTest.Case k = TrainGoldenTest.Case.open("train_softmax_UU.safetensors");
        try (SafetensorsReader golden = k.r(); Backend be = UnderTest.open();
             TwoTower m = Checkpoints.load(be, TrainGoldenTest.GOLDEN.resolve("train_lit"));
             TrainingSession s = new TrainingSession(m, LockSpec.parse("LL", List.of(), List.of()), k.opt(),
                     TrainingSession.Options.of(k.batch()))) {
            TokenBatch all = k.tokens();
            int n = all.batch(), e = m.config().embedDim();
            // three distinct captions in a scrambled, repeating order, filling the session's batch
            int[] first = new int[n];
            for (int i = 0; i < n; i++) {
                first[i] = new int[] {2 % n, 0, 1 % n}[(i * 5 + 1) % 3];
            }
            int distinct = (int) Arrays.stream(first).distinct().count();
            float[] z = s.lockedTextEmbeddings(rows(all, first));
            assertEquals(distinct, s.textRowsEmbedded(), "one tower row per distinct caption");
            for (int i = 0; i < n; i++) {
                float[] alone = m.embedTexts(rows(all, first[i]));
                assertArrayEquals(alone, Arrays.copyOfRange(z, i * e, (i + 1) * e), 0f, "row " + i + " (caption " + first[i] + ")");
            }
            // the whole batch next: only the captions not seen yet go through the tower
            int[] second = new int[n];
            Arrays.setAll(second, i -> n - 1 - i);
            float[] z2 = s.lockedTextEmbeddings(rows(all, second));
            assertEquals(distinct + Arrays.stream(second).filter(r -> Arrays.stream(first).noneMatch(f -> f == r)).distinct().count(),
                    s.textRowsEmbedded(), "captions seen in the first batch are remembered");
            for (int i = 0; i < n; i++) {
                assertArrayEquals(m.embedTexts(rows(all, second[i])), Arrays.copyOfRange(z2, i * e, (i + 1) * e), 0f, "second batch, row " + i);
            }
            // and a step with them trains (only the temperature, in LL) and stays finite
            assertEquals(true, Double.isFinite(s.step(0, k.pixels(), null, rows(all, first)).loss()));
        }
    }
}

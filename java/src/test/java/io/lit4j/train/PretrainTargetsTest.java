package io.lit4j.train;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Factored pretraining targets: the words of the labels, a sigmoid loss whose gradient is right, labels scored from their words. */
class PretrainTargetsTest {
    @Test
    void wordsAreTheTargetsAndALabelScoresItsWords() {
        PretrainTargets t = PretrainTargets.of(PretrainTargets.Kind.WORDS, List.of("red triangle", "blue star", "red star", "Sandal"));
        assertEquals(List.of("blue", "red", "sandal", "star", "triangle"), t.targets());
        assertEquals(List.of("Sandal", "blue star", "red star", "red triangle"), t.labels());
        float[] logits = {-1, 3, -2, 0.5f, 2}; // red and triangle on: "red triangle" although no head output is that pair
        assertEquals(t.label("red triangle"), t.predict(logits, 0));
        PretrainTargets c = PretrainTargets.of(PretrainTargets.Kind.CLASSES, List.of("b", "a"));
        assertEquals(List.of("a", "b"), c.targets());
    }

    @Test
    void sigmoidLossGradientMatchesFiniteDifferences() {
        PretrainTargets t = PretrainTargets.of(PretrainTargets.Kind.WORDS, List.of("red triangle", "blue star", "green ring", "Ankle boot", "Bag"));
        int b = 3, c = t.targets().size();
        Random r = new Random(7);
        float[] logits = new float[b * c];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 2);
        }
        int[] y = {t.label("blue star"), t.label("Ankle boot"), t.label("Bag")};
        float[] grad = new float[b * c], unused = new float[b * c];
        double loss = t.loss(logits, y, b, grad);
        double expected = 0;
        for (int i = 0; i < b; i++) {
            List<String> on = PretrainTargets.words(t.labels().get(y[i]));
            for (int j = 0; j < c; j++) {
                double p = 1 / (1 + Math.exp(-logits[i * c + j]));
                expected -= on.contains(t.targets().get(j)) ? Math.log(p) : Math.log(1 - p);
            }
        }
        assertEquals(expected / b, loss, 1e-9, "the loss is the plain binary cross-entropy, summed over targets, averaged over the batch");
        double h = 1e-3;
        for (int k = 0; k < logits.length; k++) {
            float keep = logits[k];
            logits[k] = (float) (keep + h);
            double up = t.loss(logits, y, b, unused);
            logits[k] = (float) (keep - h);
            double down = t.loss(logits, y, b, unused);
            logits[k] = keep;
            assertEquals((up - down) / (2 * h), grad[k], 2e-4, "d loss / d logit " + k);
        }
    }
}

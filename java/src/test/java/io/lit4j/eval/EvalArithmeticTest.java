package io.lit4j.eval;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The classifier and recall arithmetic against cases small enough to work out by hand. */
class EvalArithmeticTest {
    @Test
    void classEmbeddingsAverageEveryAliasAndTemplateThenRenormalise() {
        // 2-d embeddings: "cat" prompts point along x, "dog" prompts along y, "puppy" along (1,1)/√2.
        List<List<String>> seen = new ArrayList<>();
        ZeroShotClassifier c = ZeroShotClassifier.build(
                List.of(ZeroShotClassifier.Label.of("cat"), ZeroShotClassifier.Label.of("dog", "puppy")),
                List.of("a photo of a {}.", "{} art"), 2, 10f, prompts -> {
                    seen.add(prompts);
                    float[] z = new float[prompts.size() * 2];
                    for (int i = 0; i < prompts.size(); i++) {
                        String p = prompts.get(i);
                        float s = (float) Math.sqrt(0.5);
                        float[] v = p.contains("cat") ? new float[] {1, 0} : p.contains("puppy") ? new float[] {s, s} : new float[] {0, 1};
                        z[2 * i] = v[0];
                        z[2 * i + 1] = v[1];
                    }
                    return z;
                });
        assertEquals(List.of("a photo of a cat.", "cat art", "a photo of a dog.", "dog art", "a photo of a puppy.", "puppy art"), seen.get(0));
        // dog class = mean((0,1),(0,1),(s,s),(s,s)) = (s/2, (1+s)/2), normalised
        double s = Math.sqrt(0.5), x = s / 2, y = (1 + s) / 2, n = Math.hypot(x, y);
        float[] cls = c.classEmbeddings();
        assertArrayEquals(new float[] {1, 0, (float) (x / n), (float) (y / n)}, cls, 1e-6f);
        // an image at (0.6, 0.8): cosines 0.6 (cat) and 0.6·x/n + 0.8·y/n (dog)
        float[] img = {0.6f, 0.8f};
        double cosDog = 0.6 * x / n + 0.8 * y / n;
        var top = c.classify(img, 2).get(0);
        assertEquals("dog", top.get(0).label());
        double pDog = 1 / (1 + Math.exp(10 * (0.6 - cosDog)));
        assertEquals(pDog, top.get(0).probability(), 1e-6);
        assertEquals(1 - pDog, top.get(1).probability(), 1e-6);
        assertArrayEquals(new int[] {1}, c.predict(img));
    }

    @Test
    void emptyLabelsAreAnError() {
        assertThrows(LitException.class, () -> ZeroShotClassifier.build(List.of(), List.of("{}"), 2, 1f, p -> new float[0]));
        assertThrows(LitException.class, () -> ZeroShotClassifier.Label.of(" "));
        assertThrows(LitException.class, () -> ZeroShotClassifier.Label.of("boot", ""));
    }

    @Test
    void aCommaIsPartOfAClassName() {
        ZeroShotClassifier.Label l = ZeroShotClassifier.Label.of("T-shirt, top");
        assertEquals("T-shirt, top", l.name());
        assertEquals(List.of("T-shirt, top"), l.aliases());
        assertEquals(List.of(l, ZeroShotClassifier.Label.of("bag")), ZeroShotClassifier.Label.names(List.of("T-shirt, top", "bag")));
    }

    @Test
    void topKAccuracyAndConfusion() {
        float[] scores = {
                0.9f, 0.05f, 0.05f,   // true 0, pred 0
                0.5f, 0.4f, 0.1f,     // true 1, pred 0, top2 hit
                0.1f, 0.3f, 0.6f,     // true 2, pred 2
                0.2f, 0.7f, 0.1f};    // true 0, pred 1, top2 hit (0.2 > 0.1)
        int[] truth = {0, 1, 2, 0};
        assertEquals(0.5, Metrics.topKAccuracy(scores, 3, truth, 1), 1e-12);
        assertEquals(1.0, Metrics.topKAccuracy(scores, 3, truth, 2), 1e-12);
        long[][] m = Metrics.confusion(truth, new int[] {0, 0, 2, 1}, 3);
        assertArrayEquals(new long[] {1, 1, 0}, m[0]);
        assertArrayEquals(new long[] {1, 0, 0}, m[1]);
        assertArrayEquals(new long[] {0, 0, 1}, m[2]);
    }

    @Test
    void recallWithSeveralCaptionsPerImage() {
        // 2 images, 4 captions: captions 0,1 belong to image 0; 2,3 to image 1.
        float[] sim = {
                0.1f, 0.9f, 0.8f, 0.2f,   // image 0: best caption 1 (its own) -> R@1 hit
                0.7f, 0.6f, 0.5f, 0.4f};  // image 1: order 0,1,2,3 -> own captions at ranks 3,4 -> R@1,R@2 miss, R@3 hit
        int[] owner = {0, 0, 1, 1};
        Metrics.Recall r = Metrics.recall(sim, 2, 4, owner, 1, 2, 3);
        assertEquals(0.5, r.imageToText(1), 1e-12);
        assertEquals(0.5, r.imageToText(2), 1e-12);
        assertEquals(1.0, r.imageToText(3), 1e-12);
        // text->image: caption0 prefers image1 (0.7>0.1): miss@1; caption1 image0 (0.9): hit;
        // caption2 image0 (0.8>0.5): miss@1; caption3 image1 (0.4>0.2): hit -> R@1 = 0.5, R@2 = 1
        assertEquals(0.5, r.textToImage(1), 1e-12);
        assertEquals(1.0, r.textToImage(2), 1e-12);
    }

    @Test
    void topKOrdersAndBreaksTiesByIndex() {
        float[] s = {0.1f, 0.5f, 0.5f, 0.9f, -1f};
        assertArrayEquals(new int[] {3, 1, 2}, Embeddings.topK(s, 5, 0, 3));
        assertArrayEquals(new int[] {3, 1, 2, 0, 4}, Embeddings.topK(s, 5, 0, 10));
    }

    @Test
    void linearProbeSeparatesSeparableClassesAndNotNoise() {
        java.util.Random r = new java.util.Random(3);
        int n = 300, dim = 4;
        float[] x = new float[n * dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int k = 0; k < dim; k++) {
                x[i * dim + k] = (float) (r.nextGaussian() * 0.3 + (k == y[i] ? 2 : 0));
            }
        }
        LinearProbe p = LinearProbe.fit(x, y, dim, 3, 300, 1e-4);
        org.junit.jupiter.api.Assertions.assertTrue(p.accuracy(x, y) > 0.97, "separable classes: " + p.accuracy(x, y));
        int[] shuffled = y.clone();
        for (int i = 0; i < n; i++) {
            shuffled[i] = r.nextInt(3);
        }
        LinearProbe q = LinearProbe.fit(x, shuffled, dim, 3, 300, 1e-4);
        int[] fresh = new int[n];
        for (int i = 0; i < n; i++) {
            fresh[i] = r.nextInt(3);
        }
        org.junit.jupiter.api.Assertions.assertTrue(q.accuracy(x, fresh) < 0.5, "random labels are not predictable");
    }
}

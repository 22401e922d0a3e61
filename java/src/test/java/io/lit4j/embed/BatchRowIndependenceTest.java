package io.lit4j.embed;

import io.lit4j.LitModel;
import io.lit4j.model.Precision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Whether a row's embedding depends on who else was in the batch: the same random texts (of
 * varying lengths) and images embedded at batch 1, at odd sizes and at 32 must give the same bits,
 * on oneDNN and on the scalar oracle. {@link Batcher} relies on it.
 */
class BatchRowIndependenceTest {
    /** oneDNN at 2 threads and at 8 (whose heuristics may split work differently), fp32 and bf16; the oracle. */
    @ParameterizedTest
    @CsvSource({"onednn, 2, FP32", "onednn, 8, FP32", "onednn, 2, BF16", "scalar, 1, FP32"})
    void aTextsEmbeddingDoesNotDependOnTheBatch(String backend, int threads, Precision precision) {
        LitModel.Options options = LitModel.Options.defaults().withBackend(backend).withThreads(threads).withPrecision(precision);
        try (LitModel model = LitModel.loadDefault(options)) {
            List<String> texts = randomTexts(new Random(11), 32);
            float[] alone = new float[texts.size() * model.embedDim()];
            for (int i = 0; i < texts.size(); i++) {
                System.arraycopy(model.embedTexts(List.of(texts.get(i))), 0, alone, i * model.embedDim(), model.embedDim());
            }
            for (int size : new int[]{7, 13, 32}) {
                assertArrayEquals(alone, inBatches(model, texts, size), options + ", batches of " + size);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onednn", "scalar"})
    void anImagesEmbeddingDoesNotDependOnTheBatch(String backend) {
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withBackend(backend))) {
            List<BufferedImage> images = randomImages(new Random(12), 13);
            int e = model.embedDim();
            float[] alone = new float[images.size() * e];
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(model.embedImages(List.of(images.get(i))), 0, alone, i * e, e);
            }
            assertArrayEquals(alone, model.embedImages(images), backend + ", a batch of 13");
            float[] sevens = new float[images.size() * e];
            for (int s = 0; s < images.size(); s += 7) {
                float[] z = model.embedImages(images.subList(s, Math.min(images.size(), s + 7)));
                System.arraycopy(z, 0, sevens, s * e, z.length);
            }
            assertArrayEquals(alone, sevens, backend + ", batches of 7");
        }
    }

    /**
     * Whether a row's embedding depends on the OpenMP team it ran on: the batcher runs small
     * batches on a smaller team ({@link Batcher.Options#smallBatchRows}). Random texts and images,
     * alone and in odd batches, on teams of 1 (and 3 of 8) against the full team's bits.
     */
    @ParameterizedTest
    @CsvSource({"2, 1, FP32", "8, 1, FP32", "8, 3, FP32", "2, 1, BF16"})
    void anEmbeddingDoesNotDependOnTheTeamSize(int threads, int team, Precision precision) {
        LitModel.Options options = LitModel.Options.defaults().withBackend("onednn").withThreads(threads).withPrecision(precision);
        try (LitModel model = LitModel.loadDefault(options)) {
            List<String> texts = randomTexts(new Random(13), 32);
            List<BufferedImage> images = randomImages(new Random(14), 13);
            int e = model.embedDim();
            float[] textsAlone = new float[texts.size() * e], imagesAlone = new float[images.size() * e];
            for (int i = 0; i < texts.size(); i++) {
                System.arraycopy(model.embedTexts(List.of(texts.get(i))), 0, textsAlone, i * e, e);
            }
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(model.embedImages(List.of(images.get(i))), 0, imagesAlone, i * e, e);
            }
            model.useThreads(team);
            try {
                String what = options + ", a team of " + team;
                for (int size : new int[]{1, 7, 32}) {
                    assertArrayEquals(textsAlone, inBatches(model, texts, size), what + ", text batches of " + size);
                }
                for (int i = 0; i < images.size(); i++) {
                    assertArrayEquals(Arrays.copyOfRange(imagesAlone, i * e, (i + 1) * e), model.embedImages(List.of(images.get(i))),
                            what + ", image " + i + " alone");
                }
                assertArrayEquals(imagesAlone, model.embedImages(images), what + ", a batch of 13 images");
            } finally {
                model.useThreads(threads);
                model.releaseThread();
            }
        }
    }

    private static float[] inBatches(LitModel model, List<String> texts, int size) {
        float[] out = new float[texts.size() * model.embedDim()];
        for (int s = 0; s < texts.size(); s += size) {
            float[] z = model.embedTexts(texts.subList(s, Math.min(texts.size(), s + size)));
            System.arraycopy(z, 0, out, s * model.embedDim(), z.length);
        }
        return out;
    }

    /** Texts of 1 to 40 words (some longer than the context) of random letters. */
    static List<String> randomTexts(Random r, int n) {
        return randomTexts(r, n, 40);
    }

    /** Texts of 1 to {@code maxWords} words of random letters. */
    static List<String> randomTexts(Random r, int n, int maxWords) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int words = 1 + r.nextInt(maxWords);
            for (int w = 0; w < words; w++) {
                for (int c = 1 + r.nextInt(8); c > 0; c--) {
                    sb.append((char) ('a' + r.nextInt(26)));
                }
                sb.append(' ');
            }
            out.add(sb.toString().strip());
        }
        return out;
    }

    /** Images of random sizes and pixels. */
    static List<BufferedImage> randomImages(Random r, int n) {
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(8 + r.nextInt(60), 8 + r.nextInt(60), BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            out.add(img);
        }
        return out;
    }
}

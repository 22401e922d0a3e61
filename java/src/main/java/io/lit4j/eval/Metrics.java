package io.lit4j.eval;

import io.lit4j.LitException;

import java.util.Arrays;

/** Accuracy, confusion matrices and retrieval recall, computed exactly from scores. */
public final class Metrics {
    private Metrics() {
    }

    /** Top-k accuracy: the fraction of rows of {@code scores [n, classes]} whose true class is among the k best. */
    public static double topKAccuracy(float[] scores, int classes, int[] truth, int k) {
        int hits = 0;
        for (int i = 0; i < truth.length; i++) {
            for (int j : Embeddings.topK(scores, classes, i, k)) {
                if (j == truth[i]) {
                    hits++;
                    break;
                }
            }
        }
        return truth.length == 0 ? 0 : (double) hits / truth.length;
    }

    /** counts[true][predicted]. */
    public static long[][] confusion(int[] truth, int[] predicted, int classes) {
        if (truth.length != predicted.length) {
            throw new LitException(truth.length + " labels but " + predicted.length + " predictions");
        }
        long[][] m = new long[classes][classes];
        for (int i = 0; i < truth.length; i++) {
            m[truth[i]][predicted[i]]++;
        }
        return m;
    }

    /** Recall@k in both directions. */
    public record Recall(int[] ks, double[] imageToText, double[] textToImage) {
        public double imageToText(int k) {
            return imageToText[index(k)];
        }

        public double textToImage(int k) {
            return textToImage[index(k)];
        }

        private int index(int k) {
            for (int i = 0; i < ks.length; i++) {
                if (ks[i] == k) {
                    return i;
                }
            }
            throw new LitException("recall@" + k + " was not computed");
        }
    }

    /**
     * Retrieval recall with several captions per image. {@code sim [images, texts]};
     * {@code textImage[t]} is the image caption t belongs to. Image→text: an image counts as found
     * at k when any of its captions is among its k most similar texts. Text→image: a caption counts
     * when its image is among its k most similar images.
     */
    public static Recall recall(float[] sim, int images, int texts, int[] textImage, int... ks) {
        if (sim.length != (long) images * texts || textImage.length != texts) {
            throw new LitException("recall: similarity matrix " + sim.length + " does not match " + images + " images x " + texts + " texts");
        }
        double[] i2t = new double[ks.length], t2i = new double[ks.length];
        int maxK = Arrays.stream(ks).max().orElse(1);
        for (int i = 0; i < images; i++) {
            int[] top = Embeddings.topK(sim, texts, i, maxK);
            for (int q = 0; q < ks.length; q++) {
                for (int r = 0; r < Math.min(ks[q], top.length); r++) {
                    if (textImage[top[r]] == i) {
                        i2t[q]++;
                        break;
                    }
                }
            }
        }
        float[] transposed = new float[sim.length];
        for (int i = 0; i < images; i++) {
            for (int t = 0; t < texts; t++) {
                transposed[t * images + i] = sim[i * texts + t];
            }
        }
        for (int t = 0; t < texts; t++) {
            int[] top = Embeddings.topK(transposed, images, t, maxK);
            for (int q = 0; q < ks.length; q++) {
                for (int r = 0; r < Math.min(ks[q], top.length); r++) {
                    if (top[r] == textImage[t]) {
                        t2i[q]++;
                        break;
                    }
                }
            }
        }
        for (int q = 0; q < ks.length; q++) {
            i2t[q] /= Math.max(1, images);
            t2i[q] /= Math.max(1, texts);
        }
        return new Recall(ks.clone(), i2t, t2i);
    }
}

package io.lit4j.eval;

import io.lit4j.LitException;

import java.util.function.LongConsumer;

/**
 * A linear probe: multinomial logistic regression on frozen features, the usual upper bound for
 * what a locked tower's embeddings can separate. Trained with full-batch gradient descent and
 * Adam on the host (features are small), L2-regularised, deterministic.
 */
public final class LinearProbe {
    private final float[] w; // [dim, classes]
    private final float[] b; // [classes]
    private final int dim, classes;

    private LinearProbe(float[] w, float[] b, int dim, int classes) {
        this.w = w;
        this.b = b;
        this.dim = dim;
        this.classes = classes;
    }

    /** Fits on {@code x [n, dim]} with labels in [0, classes). */
    public static LinearProbe fit(float[] x, int[] labels, int dim, int classes, int epochs, double l2) {
        return fit(x, labels, dim, classes, epochs, l2, done -> { });
    }

    /** As {@link #fit(float[], int[], int, int, int, double)}, telling {@code progress} of each epoch done. */
    public static LinearProbe fit(float[] x, int[] labels, int dim, int classes, int epochs, double l2, LongConsumer progress) {
        int n = labels.length;
        if (x.length != (long) n * dim || n == 0) {
            throw new LitException("linear probe: " + x.length + " feature values for " + n + " labels of dim " + dim);
        }
        double[] wd = new double[dim * classes], bd = new double[classes];
        double[] mw = new double[wd.length], vw = new double[wd.length], mb = new double[classes], vb = new double[classes];
        double lr = 0.05, b1 = 0.9, b2 = 0.999;
        double[] logits = new double[classes];
        for (int t = 1; t <= epochs; t++) {
            double[] gw = new double[wd.length], gb = new double[classes];
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    double s = bd[c];
                    for (int k = 0; k < dim; k++) {
                        s += x[i * dim + k] * wd[k * classes + c];
                    }
                    logits[c] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    logits[c] = Math.exp(logits[c] - max);
                    sum += logits[c];
                }
                for (int c = 0; c < classes; c++) {
                    double g = logits[c] / sum - (c == labels[i] ? 1 : 0);
                    gb[c] += g / n;
                    for (int k = 0; k < dim; k++) {
                        gw[k * classes + c] += g * x[i * dim + k] / n;
                    }
                }
            }
            for (int j = 0; j < wd.length; j++) {
                double g = gw[j] + l2 * wd[j];
                mw[j] = b1 * mw[j] + (1 - b1) * g;
                vw[j] = b2 * vw[j] + (1 - b2) * g * g;
                wd[j] -= lr * (mw[j] / (1 - Math.pow(b1, t))) / (Math.sqrt(vw[j] / (1 - Math.pow(b2, t))) + 1e-8);
            }
            for (int c = 0; c < classes; c++) {
                mb[c] = b1 * mb[c] + (1 - b1) * gb[c];
                vb[c] = b2 * vb[c] + (1 - b2) * gb[c] * gb[c];
                bd[c] -= lr * (mb[c] / (1 - Math.pow(b1, t))) / (Math.sqrt(vb[c] / (1 - Math.pow(b2, t))) + 1e-8);
            }
            progress.accept(1);
        }
        float[] w = new float[wd.length], b = new float[classes];
        for (int j = 0; j < w.length; j++) {
            w[j] = (float) wd[j];
        }
        for (int c = 0; c < classes; c++) {
            b[c] = (float) bd[c];
        }
        return new LinearProbe(w, b, dim, classes);
    }

    /** Class scores ([n, classes]) for features {@code x [n, dim]}. */
    public float[] scores(float[] x) {
        int n = x.length / dim;
        float[] s = new float[n * classes];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < classes; c++) {
                double acc = b[c];
                for (int k = 0; k < dim; k++) {
                    acc += (double) x[i * dim + k] * w[k * classes + c];
                }
                s[i * classes + c] = (float) acc;
            }
        }
        return s;
    }

    /** Top-1 accuracy on {@code x} with {@code labels}. */
    public double accuracy(float[] x, int[] labels) {
        return Metrics.topKAccuracy(scores(x), classes, labels, 1);
    }
}

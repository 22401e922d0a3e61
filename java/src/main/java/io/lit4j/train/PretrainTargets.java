package io.lit4j.train;

import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What a pretraining head predicts for an image's label, and its loss.
 *
 * <ul>
 *   <li>{@link Kind#CLASSES}: one class per distinct label ("red triangle", "Sandal"), softmax
 *       cross-entropy; the features need not separate a label's parts.
 *   <li>{@link Kind#WORDS}: factored targets, one per distinct word of the labels ("red",
 *       "triangle", "sandal"); an image's targets are its label's words, and the loss is a sigmoid
 *       cross-entropy per target, summed over targets and averaged over the batch (big_vision's
 *       {@code sigmoid_xent}, as its ImageNet-21k multi-label pretraining uses). Colour and shape
 *       are then separate, linearly readable directions in the features, which is what lets a locked
 *       tower represent a colour-shape pair it never saw together.
 * </ul>
 * A label scores the sum of its targets' logits (under the sigmoid loss, the log-likelihood of
 * exactly that set up to a constant), so both kinds classify the same label set.
 */
public final class PretrainTargets {
    public enum Kind {
        CLASSES, WORDS;

        public static Kind parse(String s) {
            return switch (s == null ? "classes" : s.toLowerCase(Locale.ROOT)) {
                case "classes" -> CLASSES;
                case "words" -> WORDS;
                default -> throw new LitException("--targets '" + s + "': classes (one per label) or words (one per word of the labels)");
            };
        }
    }

    private final Kind kind;
    private final List<String> labels;
    private final List<String> targets;
    private final int[][] targetsOfLabel;

    private PretrainTargets(Kind kind, List<String> labels, List<String> targets, int[][] targetsOfLabel) {
        this.kind = kind;
        this.labels = labels;
        this.targets = targets;
        this.targetsOfLabel = targetsOfLabel;
    }

    /** The targets for these labels (sorted, so a run is the same whatever the data's order). */
    public static PretrainTargets of(Kind kind, Collection<String> labelSet) {
        List<String> labels = List.copyOf(new TreeSet<>(labelSet));
        if (labels.isEmpty()) {
            throw new LitException("pretraining needs at least one labelled image");
        }
        List<String> targets = kind == Kind.CLASSES ? labels : List.copyOf(new TreeSet<>(labels.stream().flatMap(l -> words(l).stream()).toList()));
        int[][] of = new int[labels.size()][];
        for (int i = 0; i < labels.size(); i++) {
            of[i] = kind == Kind.CLASSES ? new int[] {i} : words(labels.get(i)).stream().mapToInt(targets::indexOf).distinct().sorted().toArray();
        }
        return new PretrainTargets(kind, labels, targets, of);
    }

    static List<String> words(String label) {
        List<String> out = new ArrayList<>();
        for (String w : label.toLowerCase(Locale.ROOT).strip().split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    public Kind kind() {
        return kind;
    }

    /** The distinct labels, sorted. */
    public List<String> labels() {
        return labels;
    }

    /** What the head's outputs mean, in order. */
    public List<String> targets() {
        return targets;
    }

    public int label(String name) {
        int i = labels.indexOf(name);
        if (i < 0) {
            throw new LitException("label '" + name + "' is not one of the " + labels.size() + " the head was trained on");
        }
        return i;
    }

    /**
     * Mean loss over the batch of {@code logits [b, targets]} for label indices {@code y}; writes
     * d loss / d logits into {@code grad}.
     */
    public double loss(float[] logits, int[] y, int b, float[] grad) {
        int c = targets.size();
        if (kind == Kind.CLASSES) {
            return Pretrainer.crossEntropy(logits, y, b, c, grad);
        }
        double total = 0;
        boolean[] on = new boolean[c];
        for (int i = 0; i < b; i++) {
            Arrays.fill(on, false);
            for (int t : targetsOfLabel[y[i]]) {
                on[t] = true;
            }
            for (int j = 0; j < c; j++) {
                double z = logits[i * c + j];
                // -log sigmoid(z) for a present target, -log sigmoid(-z) for an absent one, in the stable softplus form
                double softplus = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
                total += on[j] ? softplus - z : softplus;
                double p = 1 / (1 + Math.exp(-z));
                grad[i * c + j] = (float) ((p - (on[j] ? 1 : 0)) / b);
            }
        }
        return total / b;
    }

    /** The best-scoring label for one image's head outputs {@code logits[offset, offset + targets)}. */
    public int predict(float[] logits, int offset) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < labels.size(); l++) {
            double s = 0;
            for (int t : targetsOfLabel[l]) {
                s += logits[offset + t];
            }
            if (s > bestScore) {
                bestScore = s;
                best = l;
            }
        }
        return best;
    }
}

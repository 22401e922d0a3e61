package io.lit4j.eval;

import io.lit4j.LitException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Zero-shot classification (CLIP/LiT style): each class is described by its names (aliases) in
 * every prompt template; the text embeddings of all those prompts are averaged and re-normalised
 * into one class embedding. An image's prediction is {@code argmax zimg · zclass}, and
 * probabilities are {@code softmax(t · cosine)} with the model's temperature t. Build once per
 * label set, then classify any number of images.
 */
public final class ZeroShotClassifier {
    /**
     * One class: the name shown for it and the names used in its prompts (the first is the name
     * itself). A name is used as it is: a comma in it is part of the name.
     */
    public record Label(String name, List<String> aliases) {
        public Label {
            if (name == null || name.isBlank()) {
                throw new LitException("a class name is empty; give every class a name");
            }
            aliases = List.copyOf(aliases);
            if (aliases.isEmpty() || aliases.stream().anyMatch(String::isBlank)) {
                throw new LitException("class '" + name + "' has an empty alias; every prompt name needs some text");
            }
        }

        /** A class called {@code name}, also prompted as each of {@code aliases}: {@code of("sneaker", "trainer", "running shoe")}. */
        public static Label of(String name, String... aliases) {
            List<String> all = new ArrayList<>();
            all.add(name);
            all.addAll(List.of(aliases));
            return new Label(name, all);
        }

        /** One class per name, no aliases. */
        public static List<Label> names(List<String> names) {
            return names.stream().map(Label::of).toList();
        }
    }

    /** A class and its probability. */
    public record Scored(int index, String label, float probability, float cosine) {
    }

    private final List<Label> labels;
    private final float[] classEmbeddings; // [C, dim]
    private final int dim;
    private final float temperature;

    private ZeroShotClassifier(List<Label> labels, float[] classEmbeddings, int dim, float temperature) {
        this.labels = labels;
        this.classEmbeddings = classEmbeddings;
        this.dim = dim;
        this.temperature = temperature;
    }

    /**
     * Builds the class embeddings. {@code embedTexts} maps prompts to normalised embeddings
     * ([prompts.size(), dim], row-major); templates contain "{}" where the class name goes.
     */
    public static ZeroShotClassifier build(List<Label> labels, List<String> templates, int dim, float temperature,
                                           Function<List<String>, float[]> embedTexts) {
        if (labels.isEmpty()) {
            throw new LitException("no labels to classify against (give at least one, e.g. --labels \"cat,dog\")");
        }
        if (templates.isEmpty()) {
            throw new LitException("no prompt templates");
        }
        List<String> prompts = new ArrayList<>();
        int[] counts = new int[labels.size()];
        for (int c = 0; c < labels.size(); c++) {
            for (String alias : labels.get(c).aliases()) {
                for (String t : templates) {
                    prompts.add(t.contains("{}") ? t.replace("{}", alias) : t + " " + alias);
                    counts[c]++;
                }
            }
        }
        float[] z = embedTexts.apply(prompts);
        if (z.length != prompts.size() * dim) {
            throw new LitException("text embedder returned " + z.length + " values for " + prompts.size() + " prompts of dim " + dim);
        }
        float[] cls = new float[labels.size() * dim];
        int row = 0;
        for (int c = 0; c < labels.size(); c++) {
            for (int k = 0; k < counts[c]; k++, row++) {
                for (int i = 0; i < dim; i++) {
                    cls[c * dim + i] += z[row * dim + i] / counts[c];
                }
            }
        }
        return new ZeroShotClassifier(List.copyOf(labels), Embeddings.normalizeRows(cls, dim), dim, temperature);
    }

    public List<Label> labels() {
        return labels;
    }

    public int dim() {
        return dim;
    }

    /** The class embeddings ([classes, dim], normalised). */
    public float[] classEmbeddings() {
        return classEmbeddings.clone();
    }

    /** Top-{@code k} classes with probabilities for each image embedding row ({@code [n, dim]}, normalised). */
    public List<List<Scored>> classify(float[] imageEmbeddings, int k) {
        int n = imageEmbeddings.length / dim, c = labels.size();
        float[] cos = Embeddings.similarities(imageEmbeddings, classEmbeddings, dim);
        List<List<Scored>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] p = Embeddings.softmax(cos, c, i, temperature);
            List<Scored> row = new ArrayList<>();
            for (int j : Embeddings.topK(cos, c, i, k)) {
                row.add(new Scored(j, labels.get(j).name(), (float) p[j], cos[i * c + j]));
            }
            out.add(row);
        }
        return out;
    }

    /** The predicted class index of each image (argmax cosine). */
    public int[] predict(float[] imageEmbeddings) {
        int n = imageEmbeddings.length / dim, c = labels.size();
        float[] cos = Embeddings.similarities(imageEmbeddings, classEmbeddings, dim);
        int[] pred = new int[n];
        for (int i = 0; i < n; i++) {
            pred[i] = Embeddings.topK(cos, c, i, 1)[0];
        }
        return pred;
    }
}

package io.lit4j;

import io.lit4j.eval.ZeroShotClassifier.Label;
import io.lit4j.eval.ZeroShotClassifier.Scored;

import java.nio.file.Path;
import java.util.List;

/** The Java example shown in README.md (ReadmeExampleTest keeps the two identical and runs it). */
public final class ReadmeExample {
    private ReadmeExample() {
    }

    public static void run(Path image) {
        // README-BEGIN
        try (LitModel model = LitModel.loadDefault()) {
            List<Scored> ranked = model.classify(image, List.of("sneaker", "ankle boot", "bag")); // every label, most probable first
            System.out.printf("%s (p=%.2f)%n", ranked.get(0).label(), ranked.get(0).probability());

            List<Label> classes = List.of(Label.of("sneaker", "trainer", "running shoe"), Label.of("bag", "handbag"));
            List<List<Scored>> top = model.classify(List.of(image), classes, "clip_80", 1); // many images, top k each
            System.out.println(top.get(0).get(0).label());

            List<String> texts = List.of("a photo of a bag", "a photo of a boot");
            float[][] cosines = model.similarity(List.of(image), texts);   // [image][text]
            float[][] probs = model.probabilities(cosines);                // softmax(temperature x cosine) per image
            System.out.printf("%.2f %.2f%n", probs[0][0], probs[0][1]);

            float[][] embeddings = model.embedTextRows(texts);             // [2][dim], L2-normalised
            float[] index = model.embedImageFiles(List.of(image));         // [1 * dim], row-major
            List<LitModel.Hit> hits = model.retrieve(index, List.of(image.toString()), "a bag", 1);
            System.out.println(embeddings.length + " " + hits.get(0).id());
        }
        // README-END
    }
}

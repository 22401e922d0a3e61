package io.lit4j;

import io.lit4j.eval.ZeroShotClassifier;

import java.nio.file.Path;
import java.util.List;

/** The Java example shown in README.md (ReadmeExampleTest keeps the two identical and runs it). */
public final class ReadmeExample {
    private ReadmeExample() {
    }

    public static String run(Path image) {
        // README-BEGIN
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults())) {
            List<String> labels = List.of("sneaker,trainer,running shoe", "ankle boot,boot", "bag,handbag");
            List<List<ZeroShotClassifier.Scored>> top = model.classify(List.of(image), labels, "clip_80", 2);
            ZeroShotClassifier.Scored best = top.get(0).get(0);
            System.out.printf("%s: %s (p=%.2f)%n", image, best.label(), best.probability());

            float[] images = model.embedImageFiles(List.of(image));        // [1, dim], L2-normalised
            List<LitModel.Hit> hits = model.retrieve(images, List.of(image.toString()), "a bag", 1);
            return best.label() + " " + hits.get(0).score();
        }
        // README-END
    }
}

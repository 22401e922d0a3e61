package io.lit4j.study;

import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.eval.ZeroShotClassifier;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * One held-out evaluation of a study's arms: zero-shot over {@code classes} with {@code templates}
 * (when the data is labelled) and retrieval recall both ways over its captions.
 *
 * @param name         the key prefix in results ("" for the main one) and the name in tables
 * @param data         a caption folder
 * @param classes      zero-shot classes (empty: the data has no labels, retrieval only)
 * @param templates    zero-shot prompt templates
 * @param labelToClass a row's label to its class index (null: match labels against the class names)
 * @param retrieval    whether to measure retrieval recall too
 */
public record EvalSet(String name, Path data, List<ZeroShotClassifier.Label> classes, List<String> templates,
                      ToIntFunction<String> labelToClass, boolean retrieval) {
    public EvalSet {
        classes = List.copyOf(classes);
        templates = List.copyOf(templates);
    }

    /** Fashion-MNIST (labels are its class names) with the class names and templates of one language. */
    public static EvalSet fashion(String name, Path data, List<String> canonical, List<String> templates, boolean retrieval) {
        return new EvalSet(name, data, canonical.stream().map(c -> ZeroShotClassifier.Label.of(c)).toList(), templates,
                FashionMnist::classIndex, retrieval);
    }

    /** Any caption folder: its distinct labels are the classes (none: retrieval only). */
    public static EvalSet of(String name, Path data, List<String> templates) {
        try (CaptionDataset ds = CaptionDataset.open(data)) {
            List<String> labels = ds.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().sorted().toList();
            return new EvalSet(name, data, ZeroShotClassifier.Label.names(labels), templates, null, true);
        }
    }

    /** The key of {@code metric} in results ("top1", or "shifted_top1"). */
    public String key(String metric) {
        return name.isEmpty() ? metric : name + "_" + metric;
    }
}

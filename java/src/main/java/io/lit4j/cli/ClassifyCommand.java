package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.report.ProgressBar;
import io.lit4j.report.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lit4j classify}: zero-shot classification of image files against any labels. */
@Command(name = "classify", description = {"Zero-shot classify images against class names (prompt-ensembled).",
        "IMAGES: files, folders (recursively; files that cannot be decoded are skipped and listed), quoted globs ('shots/*.jpg') "
                + "or - (one path per line on stdin)."})
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    Labels.Options labels;

    @Spec
    CommandSpec spec;

    @Option(names = "--templates", paramLabel = "SET|FILE", description = "prompt templates: clip_80, clip_best or a file of templates with {}",
            defaultValue = Templates.DEFAULT)
    String templates;

    @Option(names = "--top", paramLabel = "K", description = "classes shown per image", defaultValue = "3")
    int top;

    @Option(names = "--json", description = "machine-readable output on stdout: {\"images\": [...], \"skipped\": [...]}")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "IMAGES", description = "image files, folders, quoted globs, or - for a list on stdin")
    List<String> images;

    @Override
    public Integer call() {
        if (top < 1) {
            throw new LitException("--top " + top + ": give 1 or more classes to show per image");
        }
        List<String> classes = labels.parse();
        ImageInputs inputs = ImageInputs.resolve(images, System.in);
        List<ImageInputs.Image> files = inputs.images();
        PrintWriter out = spec.commandLine().getOut();
        try (LitModel m = modelOptions.open(common);
             ProgressBar bar = files.size() > 256 ? common.progress("classify", files.size()) : ProgressBar.silent()) {
            ZeroShotClassifier classifier = m.classifier(Labels.classes(classes), templates);
            Labels.warn(common, m, classes, templates);
            ImageEmbedder.Result embedded = m.images().embedAll(ImageSource.files(inputs.paths()), i -> files.get(i).skippable(), bar::step);
            bar.close();
            List<Skipped.File> skipped = Skipped.list(inputs, embedded);
            Skipped.report(common, inputs.listing(), embedded.skipped());
            if (embedded.indices().length == 0) {
                throw new LitException("none of the " + files.size() + " images in " + String.join(" ", images) + " could be decoded");
            }
            List<List<ZeroShotClassifier.Scored>> res = classifier.classify(embedded.embeddings(), Math.min(top, classes.size()));
            if (json) {
                JsonArray arr = new JsonArray();
                for (int i = 0; i < res.size(); i++) {
                    JsonObject o = new JsonObject();
                    o.addProperty("image", files.get(embedded.indices()[i]).path().toString());
                    JsonArray preds = new JsonArray();
                    for (ZeroShotClassifier.Scored s : res.get(i)) {
                        JsonObject p = new JsonObject();
                        p.addProperty("label", s.label());
                        p.addProperty("probability", s.probability());
                        p.addProperty("cosine", s.cosine());
                        preds.add(p);
                    }
                    o.add("top", preds);
                    arr.add(o);
                }
                JsonObject result = new JsonObject();
                result.add("images", arr);
                result.add("skipped", Skipped.json(skipped));
                out.println(result);
                return 0;
            }
            Table t = new Table("image", "prediction", "probability", "runners-up");
            for (int i = 0; i < res.size(); i++) {
                List<ZeroShotClassifier.Scored> r = res.get(i);
                StringBuilder rest = new StringBuilder();
                for (int k = 1; k < r.size(); k++) {
                    rest.append(k > 1 ? ", " : "").append(r.get(k).label()).append(String.format(" %.2f", r.get(k).probability()));
                }
                t.row(files.get(embedded.indices()[i]).shown(), r.get(0).label(), String.format("%.3f", r.get(0).probability()), rest.toString());
            }
            out.print(t.toText());
        }
        return 0;
    }
}

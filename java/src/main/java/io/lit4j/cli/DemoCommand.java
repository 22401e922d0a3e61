package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.datasets.Scenes;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.model.Precision;
import io.lit4j.report.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;

/**
 * {@code lit4j demo}: zero-shot classifies the sample images shipped with the default model (clothes
 * from Fashion-MNIST's test split; scenes of colour-shape pairs the text tower never saw together)
 * and runs one text-to-image retrieval over them.
 */
@Command(name = "demo", description = "Zero-shot classify the bundled sample images with the default model, then retrieve images by text.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Option(names = "--query", description = "text for the retrieval", defaultValue = "a blue star")
    String query;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path samples = DefaultModel.samples();
        JsonObject meta = JsonParser.parseString(Files.readString(samples.resolve("samples.json"))).getAsJsonObject();
        long t0 = System.nanoTime();
        try (LitModel m = LitModel.loadDefault(new LitModel.Options(common.backend, common.threads(), Precision.FP32, null, 32))) {
            out.printf("lit4j demo: the default model (%s), on %s%n", describe(m), m.backendDescription());
            out.printf("loaded in %.1f s; prompts: CLIP's 80 ImageNet templates; labels never seen as classes in training%n%n",
                    (System.nanoTime() - t0) / 1e9);
            List<Path> all = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            all.addAll(section(out, m, samples, meta.getAsJsonArray("fashion"), FashionMnist.aliases(), FashionMnist::classIndex,
                    "Fashion-MNIST test images (10 candidate classes)", "garments of the 10 classes the text tower learned from captions", ids));
            List<String> pairs = Scenes.classNames(Scenes.Config.defaults());
            all.addAll(section(out, m, samples, meta.getAsJsonArray("scenes"), pairs, pairs::indexOf,
                    "scenes of colour-shape pairs held out from tuning (64 candidate classes)",
                    "these colour-shape pairs were never seen together in tuning: naming them takes composing colour and shape", ids));
            float[] index = m.embedImageFiles(all);
            out.printf("text -> image retrieval over these %d images: \"%s\"%n", all.size(), query);
            Table t = new Table("rank", "image", "score");
            int rank = 1;
            for (LitModel.Hit h : m.retrieve(index, ids, query, 3)) {
                t.row(rank++, h.id(), String.format("%.3f", h.score()));
            }
            out.print(t.toText());
        }
        return 0;
    }

    private static String describe(LitModel m) {
        var c = m.config();
        return String.format("ViT %dpx/%d width %d depth %d + %s text tower width %d depth %d, %d-d embeddings", c.image().imageSize(),
                c.image().patchSize(), c.image().width(), c.image().depth(), c.text().kind(), c.text().width(), c.text().depth(), c.embedDim());
    }

    /**
     * Classifies one group of samples (the first test image of each class, as make.sh picks them)
     * and says how many were right, with one line on what the group shows.
     */
    private static List<Path> section(PrintWriter out, LitModel m, Path dir, JsonArray items, List<String> labels,
                                      ToIntFunction<String> classOf, String title, String reading, List<String> ids) {
        if (items == null || items.isEmpty()) {
            throw new LitException(dir + "/samples.json lists no sample images");
        }
        List<Path> files = new ArrayList<>();
        List<String> truth = new ArrayList<>();
        for (var e : items) {
            JsonObject o = e.getAsJsonObject();
            files.add(dir.resolve(o.get("image").getAsString()));
            truth.add(o.get("label").getAsString());
            ids.add(o.get("image").getAsString());
        }
        List<List<ZeroShotClassifier.Scored>> res = m.classify(files, Labels.classes(labels), Templates.DEFAULT, 3);
        out.println(title + ":");
        Table t = new Table("image", "true label", "prediction", "p", "runner-up");
        for (int i = 0; i < files.size(); i++) {
            var r = res.get(i);
            t.row(files.get(i).getFileName().toString(), truth.get(i), r.get(0).label(), String.format("%.2f", r.get(0).probability()),
                    r.size() > 1 ? r.get(1).label() + String.format(" %.2f", r.get(1).probability()) : "");
        }
        out.print(t.toText());
        int right = 0;
        for (int i = 0; i < files.size(); i++) {
            right += res.get(i).get(0).index() == classOf.applyAsInt(truth.get(i)) ? 1 : 0;
        }
        out.printf("%d of %d right at top-1; %s%n%n", right, files.size(), reading);
        return files;
    }
}

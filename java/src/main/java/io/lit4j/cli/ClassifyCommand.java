package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code lit4j classify}: zero-shot classification of image files against any labels. */
@Command(name = "classify", description = "Zero-shot classify images against class names (prompt-ensembled).")
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Option(names = "--labels", description = "classes, comma-separated: \"cat,dog,car\"")
    String labels;

    @Option(names = "--label", description = "one class with aliases, \"sneaker,trainer,running shoe\" (repeatable)")
    List<String> label;

    @Option(names = "--labels-file", description = "one class per line, aliases comma-separated")
    Path labelsFile;

    @Option(names = "--templates", description = "clip_best (default), clip_80 or a file of templates with {}", defaultValue = "clip_best")
    String templates;

    @Option(names = "--top", description = "classes shown per image", defaultValue = "3")
    int top;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    @Parameters(arity = "1..*", description = "image files or folders of images")
    List<Path> images;

    /**
     * Folders become the images inside them (sorted; what they hold that cannot be decoded is noted
     * in {@code listing}, their indices in {@code fromFolders}); files stay as given.
     */
    static List<Path> expand(List<Path> args, BadRows listing, Set<Integer> fromFolders) {
        List<Path> out = new ArrayList<>();
        for (Path p : args) {
            if (Files.isDirectory(p)) {
                try (CaptionDataset ds = CaptionDataset.ofImagesOnly(p)) {
                    for (CaptionDataset.Row r : ds.rows()) {
                        fromFolders.add(out.size());
                        out.add(p.resolve(r.image()));
                    }
                    listing.addAll(ds.badRows());
                }
            } else {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            throw new LitException("no images in " + args);
        }
        return out;
    }

    @Override
    public Integer call() {
        List<String> classes = Labels.parse(labels, label, labelsFile);
        BadRows listing = new BadRows();
        Set<Integer> fromFolders = new HashSet<>(); // a folder's bad files are skipped, a named file's are an error
        List<Path> files = expand(images, listing, fromFolders);
        PrintWriter out = spec.commandLine().getOut();
        try (LitModel m = modelOptions.open(common);
             ProgressBar bar = files.size() > 256 ? new ProgressBar("classify", files.size(), System.err) : ProgressBar.silent()) {
            ImageEmbedder.Result embedded = m.images().embedAll(ImageSource.files(files), fromFolders::contains, bar::step);
            bar.close();
            Skipped.report(spec.commandLine().getErr(), "classify", listing, embedded.skipped());
            if (embedded.indices().length == 0) {
                throw new LitException("none of the " + files.size() + " images in " + images + " could be decoded");
            }
            List<Path> kept = Arrays.stream(embedded.indices()).mapToObj(files::get).toList();
            List<List<ZeroShotClassifier.Scored>> res = m.classifier(Labels.classes(classes), templates).classify(embedded.embeddings(), Math.max(1, top));
            if (json) {
                JsonArray arr = new JsonArray();
                for (int i = 0; i < kept.size(); i++) {
                    JsonObject o = new JsonObject();
                    o.addProperty("image", kept.get(i).toString());
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
                out.println(arr);
                return 0;
            }
            Table t = new Table("image", "prediction", "probability", "runners-up");
            for (int i = 0; i < kept.size(); i++) {
                List<ZeroShotClassifier.Scored> r = res.get(i);
                StringBuilder rest = new StringBuilder();
                for (int k = 1; k < r.size(); k++) {
                    rest.append(k > 1 ? ", " : "").append(r.get(k).label()).append(String.format(" %.2f", r.get(k).probability()));
                }
                t.row(kept.get(i).getFileName().toString(), r.get(0).label(), String.format("%.3f", r.get(0).probability()), rest.toString());
            }
            out.print(t.toText());
        }
        return 0;
    }
}

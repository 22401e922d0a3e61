package io.lit4j.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.Builtin;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.LinearProbe;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.report.ConfusionPlot;
import io.lit4j.report.ProgressBar;
import io.lit4j.report.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;

/** {@code lit4j eval}: zero-shot accuracy, retrieval recall or a linear probe on a dataset. */
@Command(name = "eval", description = {"Evaluate a model: zeroshot accuracy, retrieval recall or a linear probe.",
        "zeroshot: top-1/top-5 accuracy (--confusion FILE.png draws the confusion matrix); retrieval: recall@1/5/10 both ways;",
        "probe: a linear classifier on the locked image embeddings (the upper bound for zero-shot).",
        "--dataset: fashion-mnist, scenes (the default recipe's held-out pairs), a folder (or .tar/.zip) with captions.jsonl,",
        "or a folder of class subfolders (DIR/<class>/*.png, as torchvision's ImageFolder)."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "zeroshot, retrieval or probe")
    String kind;

    @Option(names = "--dataset", required = true, paramLabel = "NAME|DIR", description = "fashion-mnist, scenes or a folder")
    String dataset;

    @Option(names = "--templates", defaultValue = Templates.DEFAULT, description = "prompt templates: clip_80, clip_best or a file")
    String templates;

    @Option(names = "--labels-file", description = "class list (one per line, aliases comma-separated); default: the dataset's labels")
    Path labelsFile;

    @Option(names = "--limit", defaultValue = "0", description = "evaluate at most N images (0: all)")
    int limit;

    @Option(names = "--held-out-only", description = "scenes: only the images of colour-shape pairs never seen in tuning")
    boolean heldOutOnly;

    @Option(names = "--among-held-out", description = "scenes: choose only among the held-out pair names (as the held-out probe does)")
    boolean amongHeldOut;

    @Option(names = "--confusion", paramLabel = "FILE.png", description = "zeroshot: also draw the confusion matrix into this PNG")
    Path confusion;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    /** Full-batch optimiser iterations of the linear probe. */
    private static final int PROBE_ITERATIONS = 300;

    @Override
    public Integer call() {
        if (limit < 0) {
            throw new LitException("--limit " + limit + ": give 0 (all images) or a positive count");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (LitModel m = modelOptions.open(common)) {
            JsonObject result = switch (kind.toLowerCase(Locale.ROOT)) {
                case "zeroshot", "zero-shot" -> zeroShot(m);
                case "retrieval" -> retrieval(m);
                case "probe" -> probe(m);
                default -> throw new LitException("unknown evaluation '" + kind + "' (zeroshot, retrieval or probe)");
            };
            if (json) {
                out.println(result);
            } else {
                Table t = new Table("metric", "value");
                result.entrySet().forEach(e -> t.row(e.getKey(), cell(e.getValue())));
                out.print(t.toText());
            }
        }
        return 0;
    }

    /** A table cell for a result: numbers as numbers (the table rounds them), the rest as text. */
    private static Object cell(JsonElement v) {
        if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
            double d = v.getAsDouble();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) (long) d : (Object) d;
        }
        return v.isJsonPrimitive() ? v.getAsString() : v.toString();
    }

    /** Opens an evaluation folder: captions.jsonl/tsv if it has one, else the class-subfolder layout. */
    private static CaptionDataset open(Path folder) {
        return CaptionDataset.hasCaptions(folder) ? CaptionDataset.open(folder) : CaptionDataset.ofClassFolders(folder);
    }

    private record Data(String name, Path folder, List<String> classes, ToIntFunction<String> labelToClass, List<String> heldOut) {
    }

    private Data data(boolean train) {
        if (Builtin.isBuiltin(dataset)) {
            Builtin.Resolved r = Builtin.resolve(dataset, train);
            return new Data(r.name(), r.folder(), r.classSpecs(), r.labelToClass(), r.heldOut());
        }
        Path folder = Path.of(dataset);
        List<String> classes = labelsFile == null ? null : Labels.parse(null, null, labelsFile);
        return new Data(folder.getFileName().toString(), folder, classes, null, List.of());
    }

    private JsonObject zeroShot(LitModel m) {
        Data d = data(false);
        try (CaptionDataset all = open(d.folder())) {
            CaptionDataset ds = all;
            List<ZeroShotClassifier.Label> classes = amongHeldOut && !d.heldOut().isEmpty() ? ZeroShotClassifier.Label.names(d.heldOut())
                    : d.classes() != null ? Labels.classes(d.classes())
                    : ZeroShotClassifier.Label.names(all.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().sorted().toList());
            if (classes.isEmpty()) {
                throw new LitException(d.folder() + ": no \"label\" in captions.jsonl; zero-shot evaluation needs labelled images");
            }
            Evaluator.ZeroShot z;
            try (ProgressBar bar = common.progress("eval", limit > 0 ? Math.min(limit, ds.size()) : ds.size())) {
                Evaluator.Embedder e = m;
                if (heldOutOnly || amongHeldOut) {
                    z = Evaluator.zeroShot(e, ds, d.name(), classes, Templates.load(templates), d.labelToClass(), limit, bar,
                            row -> d.heldOut().contains(row.label()));
                } else {
                    z = Evaluator.zeroShot(e, ds, d.name(), classes, Templates.load(templates), d.labelToClass(), limit, bar, row -> true);
                }
            }
            List<String> names = z.classes();
            if (confusion != null) {
                new ConfusionPlot("zero-shot on " + d.name() + (heldOutOnly || amongHeldOut ? " (held-out pairs)" : "") + ", templates "
                        + templates, names, z.confusion()).save(confusion);
            }
            JsonObject o = new JsonObject();
            o.addProperty("dataset", d.name() + (heldOutOnly || amongHeldOut ? " (held-out pairs)" : ""));
            o.addProperty("n", z.n());
            o.addProperty("top1", z.top1());
            o.addProperty("top5", z.top5());
            o.addProperty("classes", names.size());
            o.addProperty("chance", 1.0 / names.size());
            o.addProperty("templates", templates);
            if (confusion != null) {
                o.addProperty("confusion_png", confusion.toString());
            }
            return o;
        }
    }

    private JsonObject retrieval(LitModel m) {
        Data d = data(false);
        try (CaptionDataset ds = open(d.folder());
             ProgressBar bar = common.progress("eval", Evaluator.retrievalWork(ds, limit))) {
            Evaluator.Retrieval r = Evaluator.retrieval(m, ds, d.name(), limit, bar);
            JsonObject o = new JsonObject();
            o.addProperty("dataset", d.name());
            o.addProperty("images", r.images());
            o.addProperty("texts", r.texts());
            for (int k : new int[] {1, 5, 10}) {
                o.addProperty("image_to_text_r" + k, r.recall().imageToText(k));
                o.addProperty("text_to_image_r" + k, r.recall().textToImage(k));
            }
            return o;
        }
    }

    /**
     * Linear probe on the image embeddings: trained on the dataset's training split (built-ins) or on
     * the first half of the folder, tested on the test split (or the second half).
     */
    private JsonObject probe(LitModel m) {
        Data test = data(false);
        Path trainFolder = Builtin.isBuiltin(dataset) ? data(true).folder() : null;
        try (CaptionDataset te = open(test.folder());
             CaptionDataset tr = trainFolder == null ? null : open(trainFolder)) {
            List<CaptionDataset.Row> testRows = new ArrayList<>(te.rows());
            List<CaptionDataset.Row> trainRows;
            CaptionDataset trainDs = tr != null ? tr : te;
            if (tr != null) {
                trainRows = new ArrayList<>(tr.rows());
            } else {
                trainRows = new ArrayList<>(testRows.subList(0, testRows.size() / 2));
                testRows = new ArrayList<>(testRows.subList(testRows.size() / 2, testRows.size()));
            }
            if (heldOutOnly) { // scenes: a probe of the held-out pairs, trained and tested on halves of their test images
                trainRows = testRows.stream().filter(r -> test.heldOut().contains(r.label())).toList();
                testRows = new ArrayList<>(trainRows.subList(trainRows.size() / 2, trainRows.size()));
                trainRows = new ArrayList<>(trainRows.subList(0, trainRows.size() / 2));
                trainDs = te;
            }
            if (limit > 0) {
                trainRows = trainRows.subList(0, Math.min(limit, trainRows.size()));
                testRows = testRows.subList(0, Math.min(limit, testRows.size()));
            }
            List<String> classes = new ArrayList<>(new TreeSet<>(trainRows.stream().map(CaptionDataset.Row::label).toList()));
            float[] xtr, xte;
            try (ProgressBar bar = common.progress("embed", trainRows.size() + testRows.size())) {
                xtr = Evaluator.embed(m, trainDs, trainRows, bar);
                xte = Evaluator.embed(m, te, testRows, bar);
            }
            int[] ytr = trainRows.stream().mapToInt(r -> classes.indexOf(r.label())).toArray();
            int[] yte = testRows.stream().mapToInt(r -> classes.indexOf(r.label())).toArray();
            LinearProbe p;
            try (ProgressBar bar = common.progress("probe", PROBE_ITERATIONS)) {
                p = LinearProbe.fit(xtr, ytr, m.embedDim(), classes.size(), PROBE_ITERATIONS, 1e-4, bar::step);
            }
            JsonObject o = new JsonObject();
            o.addProperty("dataset", test.name() + (heldOutOnly ? " (held-out pairs)" : ""));
            o.addProperty("train", trainRows.size());
            o.addProperty("n", testRows.size());
            o.addProperty("top1", p.accuracy(xte, yte));
            o.addProperty("classes", classes.size());
            return o;
        }
    }
}

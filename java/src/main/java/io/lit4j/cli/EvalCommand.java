package io.lit4j.cli;

import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.Builtin;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.LinearProbe;
import io.lit4j.eval.Templates;
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
@Command(name = "eval", description = {"Evaluate a model: zeroshot (accuracy, confusion-matrix PNG), retrieval (recall@1/5/10 both ways)",
        "or probe (a linear classifier on the locked image embeddings: the upper bound for zero-shot).",
        "--dataset: fashion-mnist, scenes (the default recipe's held-out pairs) or a labelled/captioned folder."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "zeroshot, retrieval or probe")
    String kind;

    @Option(names = "--dataset", required = true, description = "fashion-mnist, scenes or a folder")
    String dataset;

    @Option(names = "--templates", defaultValue = "clip_80", description = "prompt templates: clip_80 (default), clip_best or a file")
    String templates;

    @Option(names = "--labels-file", description = "class list (one per line, aliases comma-separated); default: the dataset's labels")
    Path labelsFile;

    @Option(names = "--limit", defaultValue = "0", description = "evaluate at most N images (0: all)")
    int limit;

    @Option(names = "--held-out-only", description = "scenes: only the images of colour-shape pairs never seen in tuning")
    boolean heldOutOnly;

    @Option(names = "--among-held-out", description = "scenes: choose only among the held-out pair names (as the held-out probe does)")
    boolean amongHeldOut;

    @Option(names = "--confusion", description = "confusion-matrix PNG (default: confusion-<dataset>.png)")
    Path confusion;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    @Override
    public Integer call() {
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
                result.entrySet().forEach(e -> t.row(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString()));
                out.print(t.toText());
            }
        }
        return 0;
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
        try (CaptionDataset all = CaptionDataset.open(d.folder())) {
            CaptionDataset ds = all;
            List<String> classes = amongHeldOut && !d.heldOut().isEmpty() ? d.heldOut() : d.classes() != null ? d.classes()
                    : all.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().sorted().toList();
            if (classes.isEmpty()) {
                throw new LitException(d.folder() + ": no \"label\" in captions.jsonl; zero-shot evaluation needs labelled images");
            }
            Evaluator.ZeroShot z;
            try (ProgressBar bar = new ProgressBar("eval", limit > 0 ? Math.min(limit, ds.size()) : ds.size(), System.err)) {
                Evaluator.Embedder e = m;
                if (heldOutOnly || amongHeldOut) {
                    z = Evaluator.zeroShot(e, ds, d.name(), classes, Templates.load(templates), d.labelToClass(), limit, bar,
                            row -> d.heldOut().contains(row.label()));
                } else {
                    z = Evaluator.zeroShot(e, ds, d.name(), classes, Templates.load(templates), d.labelToClass(), limit, bar, row -> true);
                }
            }
            Path png = confusion != null ? confusion : Path.of("confusion-" + d.name() + (heldOutOnly ? "-held-out" : "") + ".png");
            List<String> names = z.classes();
            new ConfusionPlot("zero-shot on " + d.name() + (heldOutOnly || amongHeldOut ? " (held-out pairs)" : "") + ", templates "
                    + templates, names, z.confusion()).save(png);
            JsonObject o = new JsonObject();
            o.addProperty("dataset", d.name() + (heldOutOnly || amongHeldOut ? " (held-out pairs)" : ""));
            o.addProperty("n", z.n());
            o.addProperty("top1", z.top1());
            o.addProperty("top5", z.top5());
            o.addProperty("classes", names.size());
            o.addProperty("chance", 1.0 / names.size());
            o.addProperty("templates", templates);
            o.addProperty("confusion_png", png.toString());
            return o;
        }
    }

    private JsonObject retrieval(LitModel m) {
        Data d = data(false);
        try (CaptionDataset ds = CaptionDataset.open(d.folder());
             ProgressBar bar = new ProgressBar("eval", limit > 0 ? Math.min(limit, ds.size()) : ds.size(), System.err)) {
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
        try (CaptionDataset te = CaptionDataset.open(test.folder());
             CaptionDataset tr = trainFolder == null ? null : CaptionDataset.open(trainFolder)) {
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
            float[] xtr = Evaluator.embed(m, trainDs, trainRows, ProgressBar.silent());
            float[] xte = Evaluator.embed(m, te, testRows, ProgressBar.silent());
            int[] ytr = trainRows.stream().mapToInt(r -> classes.indexOf(r.label())).toArray();
            int[] yte = testRows.stream().mapToInt(r -> classes.indexOf(r.label())).toArray();
            LinearProbe p = LinearProbe.fit(xtr, ytr, m.embedDim(), classes.size(), 300, 1e-4);
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

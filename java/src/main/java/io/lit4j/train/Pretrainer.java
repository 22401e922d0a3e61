package io.lit4j.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.OpProfile;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TrainBatches;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.io.AtomicFile;
import io.lit4j.model.ForwardObserver;
import io.lit4j.model.Grads;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Precision;
import io.lit4j.model.Presets;
import io.lit4j.model.TowerPass;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;
import io.lit4j.report.ProgressBar;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Supervised pretraining of a ViT image tower (a linear head over the classes, softmax
 * cross-entropy, AdamW with warmup and cosine decay), so lit4j can make its own "pretrained"
 * tower from labelled images as LiT used an ImageNet-21k one. The result is a lit4j model with
 * an image tower only (its head is the classifier; LiT tuning replaces or drops it) and
 * {@code classes.txt}.
 */
public final class Pretrainer {
    /**
     * A pretraining run. {@code data}: folders (or archives) whose captions.jsonl rows carry a
     * "label"; {@code targets}: what the head predicts of a label (see {@link PretrainTargets}).
     */
    public record Options(String model, List<String> data, int steps, int batch, double lr, int warmup, double weightDecay, double clipNorm,
                          long seed, int workers, String out, int logEvery, String evalData, int evalLimit, PretrainTargets.Kind targets) {
        public Options {
            targets = targets == null ? PretrainTargets.Kind.CLASSES : targets;
        }
    }

    /** How it went: final training loss and held-out accuracy (NaN without eval data). */
    public record Summary(double firstLoss, double lastLoss, double evalAccuracy, List<String> classes, Path model) {
    }

    private record Item(CaptionDataset ds, String image, int label) {
    }

    private Pretrainer() {
    }

    public static Summary run(Backend be, Options o, PrintStream log) {
        List<CaptionDataset> sets = new ArrayList<>();
        try {
            for (String d : o.data()) {
                sets.add(CaptionDataset.open(Path.of(d)));
            }
            TreeSet<String> names = new TreeSet<>();
            for (CaptionDataset ds : sets) {
                for (CaptionDataset.Row r : ds.rows()) {
                    if (r.label() == null) {
                        throw new LitException(ds.source() + ": image " + r.image() + " has no \"label\"; pretraining needs labelled images");
                    }
                    names.add(r.label());
                }
            }
            PretrainTargets targets = PretrainTargets.of(o.targets(), names);
            List<Item> items = new ArrayList<>();
            for (CaptionDataset ds : sets) {
                for (CaptionDataset.Row r : ds.rows()) {
                    items.add(new Item(ds, r.image(), targets.label(r.label())));
                }
            }
            log.println("lit4j pretrain: " + items.size() + " labelled images, " + targets.labels().size() + " classes"
                    + (o.targets() == PretrainTargets.Kind.WORDS ? " (" + targets.targets().size() + " word targets)" : "") + ", from " + o.data());
            return train(be, o, targets, items, log);
        } finally {
            sets.forEach(CaptionDataset::close);
        }
    }

    private static Summary train(Backend be, Options o, PretrainTargets targets, List<Item> items, PrintStream log) {
        List<String> classes = targets.labels();
        ViTConfig vc = imageConfig(o.model()).withHeadDim(targets.targets().size());
        TwoTowerConfig cfg = new TwoTowerConfig(vc, null, TwoTowerConfig.Loss.SOFTMAX);
        Path out = Path.of(o.out());
        int b = o.batch(), c = targets.targets().size();
        Preprocess pp = Preprocess.bigVision(vc.imageSize());
        int per = pp.floatsPerImage();
        try (TwoTower model = TwoTower.allocate(be, cfg); TensorArena arena = be.newArena();
             RunFolder run = RunFolder.create(out, new GsonBuilder().setPrettyPrinting().create().toJson(o), true);
             ProgressBar bar = new ProgressBar("pretrain", o.steps(), log)) {
            Init.tower(be, model.params(), "img.", false, o.seed());
            List<ParamSpec> all = cfg.params();
            Grads grads = new Grads(arena, all, vc.width());
            AdamW opt = new AdamW(be, arena, model.params(), grads, new AdamW.Config(new Schedule(o.lr(), o.warmup(), o.steps(), 0),
                    0.9f, 0.999f, 1e-8f, (float) o.weightDecay(), (float) o.clipNorm(), AdamW.Config.kernelsOnly()));
            TowerPass.Image pass = TowerPass.image(be, model.params(), arena, vc, b, Precision.FP32, TowerPass.Mode.TRAINING);
            Tensor images = arena.allocate(DType.F32, b, vc.imageSize(), vc.imageSize(), vc.channels());
            float[] logits = new float[b * c], grad = new float[b * c], px = new float[b * per];
            int[] labels = new int[b];
            ExecutorService decoders = Executors.newFixedThreadPool(Math.max(1, o.workers()), r -> {
                Thread t = new Thread(r, "lit4j-decode");
                t.setDaemon(true);
                return t;
            });
            double first = Double.NaN, last = Double.NaN;
            try {
                int epoch = 0, pos = 0;
                int[] order = TrainBatches.permutation(o.seed(), epoch, items.size());
                double lossSum = 0;
                int lossCount = 0;
                for (int step = 0; step < o.steps(); step++) {
                    List<Future<float[]>> decoded = new ArrayList<>(b);
                    for (int i = 0; i < b; i++) {
                        if (pos == items.size()) {
                            order = TrainBatches.permutation(o.seed(), ++epoch, items.size());
                            pos = 0;
                        }
                        Item it = items.get(order[pos++]);
                        labels[i] = it.label();
                        decoded.add(decoders.submit(() -> Images.pixels(it.ds().readImage(it.image()), it.image(), pp)));
                    }
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(decoded.get(i).get(), 0, px, i * per, per);
                    }
                    be.upload(px, images);
                    pass.forward(images, ForwardObserver.NONE);
                    be.download(pass.output(), logits);
                    double loss = targets.loss(logits, labels, b, grad);
                    be.upload(grad, pass.outputGradient());
                    pass.backwardFromOutput(grads);
                    AdamW.StepInfo info = opt.step(step);
                    model.weightsChanged();
                    first = Double.isNaN(first) ? loss : first;
                    last = loss;
                    lossSum += loss;
                    lossCount++;
                    bar.message(String.format("loss %.4f  lr %.2e", loss, info.lr()));
                    bar.step(1);
                    if ((step + 1) % Math.max(1, o.logEvery()) == 0 || step + 1 == o.steps()) {
                        JsonObject m = new JsonObject();
                        m.addProperty("step", step + 1);
                        m.addProperty("loss", lossSum / lossCount);
                        m.addProperty("lr", info.lr());
                        m.addProperty("grad_norm", info.gradNorm());
                        m.addProperty("epoch", epoch);
                        run.log(m);
                        lossSum = 0;
                        lossCount = 0;
                    }
                }
            } catch (ExecutionException e) {
                throw new LitException("pretraining could not decode an image: " + e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LitException("pretraining interrupted", e);
            } finally {
                decoders.shutdownNow();
            }
            if (OpProfile.enabled()) {
                log.println(OpProfile.report());
            }
            run.plot("ViT pretraining", log);
            double acc = o.evalData() == null ? Double.NaN : accuracy(model, targets, Path.of(o.evalData()), pp, o.evalLimit());
            Path modelDir = out.resolve("model");
            // classes.txt: what each head output means (the labels, or the words of --targets words)
            LitFormat.save(model, modelDir, null, folder -> AtomicFile.writeString(folder.resolve("classes.txt"),
                    String.join("\n", targets.targets()) + "\n"));
            log.println(String.format("lit4j pretrain: loss %.4f -> %.4f%s; model %s", first, last,
                    Double.isNaN(acc) ? "" : String.format(", held-out accuracy %.4f", acc), modelDir));
            return new Summary(first, last, acc, classes, modelDir);
        }
    }

    /** The image tower config from a config.json, a checkpoint or an image preset. */
    private static ViTConfig imageConfig(String model) {
        Path p = Path.of(model);
        try {
            if (model.endsWith(".json") && Files.isRegularFile(p)) {
                TwoTowerConfig c = TwoTowerConfig.parse(Files.readString(p), model);
                if (!c.hasImage()) {
                    throw new LitException(model + " has no image tower");
                }
                return c.image();
            }
        } catch (IOException e) {
            throw new LitException("cannot read " + model + ": " + e.getMessage(), e);
        }
        if (Files.exists(p)) {
            return Checkpoints.inspect(p).config().image();
        }
        return Presets.image(model);
    }

    /** Mean softmax cross-entropy of {@code logits [b, c]}; writes d loss / d logits into {@code grad}. */
    static double crossEntropy(float[] logits, int[] labels, int b, int c, float[] grad) {
        double total = 0;
        for (int i = 0; i < b; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[i * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(logits[i * c + j] - max);
            }
            double lse = max + Math.log(sum);
            total += lse - logits[i * c + labels[i]];
            for (int j = 0; j < c; j++) {
                grad[i * c + j] = (float) ((Math.exp(logits[i * c + j] - lse) - (j == labels[i] ? 1 : 0)) / b);
            }
        }
        return total / b;
    }

    /** Top-1 accuracy of the classifier head on a labelled folder. */
    static double accuracy(TwoTower model, PretrainTargets targets, Path data, Preprocess pp, int limit) {
        List<String> classes = targets.labels();
        int c = targets.targets().size();
        try (CaptionDataset ds = CaptionDataset.open(data);
             ImageEmbedder head = new ImageEmbedder(c, pp, model::imageOutputs, ImageEmbedder.Options.of(64, 0))) {
            List<CaptionDataset.Row> rows = ds.rows().subList(0, limit > 0 ? Math.min(limit, ds.size()) : ds.size());
            float[] logits = head.embedAll(ImageSource.of(ds, rows.stream().map(CaptionDataset.Row::image).toList()));
            int correct = 0, counted = 0;
            for (int i = 0; i < rows.size(); i++) {
                int best = targets.predict(logits, i * c);
                String truth = rows.get(i).label();
                if (truth != null) {
                    counted++;
                    correct += classes.get(best).equals(truth) ? 1 : 0;
                }
            }
            return counted == 0 ? Double.NaN : (double) correct / counted;
        }
    }
}

package io.lit4j.train;

import com.google.gson.JsonObject;
import io.lit4j.CacheDir;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.OpProfile;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenizerBuilder;
import io.lit4j.data.TrainBatches;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.TextEmbedder;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.io.AtomicFile;
import io.lit4j.io.AtomicFolder;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.report.ProgressBar;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * LiT tuning end to end: builds the starting model ({@link ModelBuilder}), streams image-caption
 * batches ({@link TrainBatches}), embeds a locked image tower once into the on-disk
 * {@link ImageEmbeddingCache}, runs {@link TrainingSession} steps, logs and plots into the
 * {@link RunFolder}, evaluates every K steps, and writes a {@link TrainerCheckpoint} from which
 * {@link #resume} continues exactly. SIGINT/SIGTERM save and stop ({@link StopOnSignal}).
 */
public final class Tuner {
    /** How a run ended. */
    public record Summary(long stepsDone, double firstLoss, double lastLoss, boolean stoppedEarly, Path checkpoint, BadRows badRows,
                          Map<String, Double> lastEval) {
    }

    private Tuner() {
    }

    /**
     * Starts a new run in {@code o.out()} (which must not hold a run already; use {@link #resume}).
     * The run records {@code be}'s thread count, so that a resume can use the same.
     */
    public static Summary run(Backend be, TuneOptions o, PrintStream log) {
        TuneOptions recorded = o.withThreads(be.threads()).withPrecision(o.precision() == null ? Precision.FP32 : o.precision());
        try (RunFolder run = RunFolder.create(Path.of(o.out()), recorded.toJson(), false)) {
            return execute(be, recorded, run, false, log);
        }
    }

    /** The options a run in {@code runDir} was started with (for opening its backend with the same threads). */
    public static TuneOptions recorded(Path runDir) {
        RunFolder run = RunFolder.open(runDir);
        return TuneOptions.fromJson(run.runJson(), runDir.resolve(RunFolder.RUN).toString());
    }

    /** Continues the run in {@code runDir} from its last checkpoint, with the options it was started with. */
    public static Summary resume(Backend be, Path runDir, PrintStream log) {
        return resume(be, runDir, null, log);
    }

    /**
     * As {@link #resume(Backend, Path, PrintStream)}; a run.json written before lit4j recorded the
     * precision resumes at {@code ifUnrecorded} (null: fp32), which is then recorded.
     */
    public static Summary resume(Backend be, Path runDir, Precision ifUnrecorded, PrintStream log) {
        TuneOptions o = recorded(runDir);
        if (o.precision() == null) {
            o = o.withPrecision(ifUnrecorded == null ? Precision.FP32 : ifUnrecorded);
            RunFolder.open(runDir).rewriteRunJson(o.toJson());
        }
        if (o.threads() > 0 && o.threads() != be.threads()) {
            log.println("lit4j tune: the run trained on " + o.threads() + " threads and resumes on " + be.threads()
                    + ": its losses will not be bit-identical to an uninterrupted run");
        }
        try (RunFolder run = RunFolder.open(runDir)) {
            return execute(be, o, run, true, log);
        }
    }

    private static Summary execute(Backend be, TuneOptions o, RunFolder run, boolean resume, PrintStream log) {
        LockSpec lock = LockSpec.parse(o.setup(), o.freeze(), o.unfreeze());
        Path ckpt = run.checkpoint();
        boolean haveCheckpoint = resume && AtomicFolder.recover(ckpt);
        TwoTower model;
        String description;
        if (haveCheckpoint) {
            model = Checkpoints.load(be, ckpt);
            description = "resumed from " + ckpt;
        } else {
            TwoTowerConfig.Loss loss = o.loss() == null ? null : TwoTowerConfig.Loss.valueOf(o.loss().toUpperCase(Locale.ROOT));
            ModelBuilder.Built b = ModelBuilder.build(be, o.model(), o.imageTower(), o.textTower(), o.embedDim(), o.textContext(), loss, lock, o.seed(),
                    o.temperature(), o.bias(), log);
            model = b.model();
            description = b.description();
        }
        try (model; CaptionDataset ds = CaptionDataset.open(Path.of(o.data()))) {
            log.println("lit4j tune: " + description + "; setup " + lock.setup() + "; " + o.precision().label() + " on " + be.threads()
                    + " threads; " + ds.size() + " image-caption rows in " + o.data()
                    + (ds.badRows().isEmpty() ? "" : " (" + ds.badRows().total() + " bad rows skipped)"));
            if (ds.size() < o.batch()) {
                throw new LitException(o.data() + " has " + ds.size() + " usable rows, fewer than one batch of " + o.batch());
            }
            Path tokFile = tokenizerFor(o, model.config(), ds, run.dir(), haveCheckpoint ? ckpt : null, log);
            try (TextTokenizer tok = TextTokenizer.load(tokFile)) {
                TextEmbedder texts = TextEmbedder.of(model, tok); // checks that the tokenizer fits the text tower
                return new Loop(be, o, run, lock, model, ds, texts, tokFile, log).run(haveCheckpoint);
            }
        }
    }

    /** The tokenizer: given, beside the model, in the checkpoint, or built from the captions for a random text tower. */
    private static Path tokenizerFor(TuneOptions o, TwoTowerConfig cfg, CaptionDataset ds, Path out, Path ckpt, PrintStream log) {
        if (ckpt != null && TextTokenizer.findIn(ckpt) != null) {
            return TextTokenizer.findIn(ckpt);
        }
        if (o.tokenizer() != null) {
            return Path.of(o.tokenizer());
        }
        for (String spec : new String[] {o.textTower(), o.model()}) {
            String from = spec != null && KnownModels.isName(spec) && !Files.exists(Path.of(spec)) ? KnownModels.resolve(spec).toString() : spec;
            if (from != null && Files.exists(Path.of(from))) {
                Path p = Path.of(from);
                Path found = TextTokenizer.findIn(Files.isDirectory(p) ? p : p.toAbsolutePath().getParent());
                if (found != null) {
                    return withConventions(found, p, out);
                }
            }
        }
        if (o.setup().charAt(1) != 'u') {
            throw new LitException("no tokenizer (tokenizer.json, a .model or " + TextTokenizer.CONVENTIONS + ") for the pretrained text tower: pass --tokenizer FILE");
        }
        Path built = out.resolve(LitFormat.TOKENIZER);
        if (!Files.isRegularFile(built)) {
            List<String> corpus = new ArrayList<>();
            ds.rows().forEach(r -> corpus.addAll(r.captions()));
            int size = o.vocabSize() > 0 ? Math.min(o.vocabSize(), cfg.text().vocabSize()) : cfg.text().vocabSize();
            int made = TokenizerBuilder.build(corpus, size, built);
            log.println("lit4j tune: built a WordPiece tokenizer of " + made + " tokens from " + corpus.size() + " captions: " + built);
        }
        return built;
    }

    /**
     * A SentencePiece model found beside checkpoint {@code from} is framed as that checkpoint's
     * project does ({@link Checkpoints#textConventions}): the model and a conventions file saying so
     * are written into the run's {@code tokenizer/} folder once, and that file is the run's
     * tokenizer, which every saved checkpoint then copies. Anything else is used as found.
     */
    private static Path withConventions(Path found, Path from, Path out) {
        TextTokenizer.Conventions c = found.getFileName().toString().endsWith(".model") ? Checkpoints.textConventions(from) : null;
        if (c == null) {
            return found;
        }
        Path dir = out.resolve("tokenizer");
        Path conv = dir.resolve(TextTokenizer.CONVENTIONS);
        if (!Files.isRegularFile(conv)) {
            try (TextTokenizer t = TextTokenizer.load(found, c)) {
                Files.createDirectories(dir);
                Files.copy(found, dir.resolve(found.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                AtomicFile.writeString(conv, TextTokenizer.conventionsJson(found.getFileName().toString(), t.conventions().orElseThrow()) + "\n");
            } catch (IOException e) {
                throw new LitException("cannot write the run's tokenizer into " + dir + ": " + e.getMessage(), e);
            }
        }
        return conv;
    }

    /** One run's training loop, with what it owns while it runs. */
    private static final class Loop {
        private final Backend be;
        private final TuneOptions o;
        private final RunFolder run;
        private final LockSpec lock;
        private final TwoTower model;
        private final CaptionDataset ds;
        private final TextEmbedder texts;
        private final Path tokFile;
        private final PrintStream log;

        Loop(Backend be, TuneOptions o, RunFolder run, LockSpec lock, TwoTower model, CaptionDataset ds, TextEmbedder texts, Path tokFile,
             PrintStream log) {
            this.be = be;
            this.o = o;
            this.run = run;
            this.lock = lock;
            this.model = model;
            this.ds = ds;
            this.texts = texts;
            this.tokFile = tokFile;
            this.log = log;
        }

        Summary run(boolean resumed) {
            TwoTowerConfig cfg = model.config();
            AdamW.Config opt = new AdamW.Config(new Schedule(o.lr(), o.warmup(), o.steps(), o.minLr()), 0.9f, 0.999f, 1e-8f,
                    (float) o.weightDecay(), (float) o.clipNorm(), AdamW.Config.kernelsOnly());
            TrainingSession.Options so = new TrainingSession.Options(o.batch(), 4096,
                    o.clampTemperature() ? (float) Math.log(100) : Float.NaN, o.precision());
            // the trainable towers multiply at the run's precision (the session's); the model's own
            // embedding calls (the locked tower's cache, evaluations) stay fp32, as the cache key assumes
            Path ckpt = run.checkpoint();
            try (TrainingSession session = new TrainingSession(model, lock, opt, so);
                 ImageEmbedder images = ImageEmbedder.of(model, ImageEmbedder.Options.of(64, Math.max(1, o.workers())))) {
                long step = 0;
                TrainBatches.State state = TrainBatches.State.START;
                if (resumed) {
                    TrainerCheckpoint saved = TrainerCheckpoint.read(ckpt);
                    step = saved.step();
                    state = saved.data();
                    saved.restore(be, session.optimizer(), ckpt);
                    run.truncateMetrics(step);
                    if (step >= o.steps()) {
                        log.println("lit4j tune: " + run.dir() + " is already complete (" + step + " of " + o.steps() + " steps); checkpoint " + ckpt);
                        return new Summary(step, Double.NaN, Double.NaN, false, ckpt, new BadRows(), Map.of());
                    }
                    log.println("lit4j tune: resuming at step " + step + " of " + o.steps());
                }
                ImageEmbeddingCache cache = null;
                Map<Integer, String> badImages = Map.of();
                if (session.imageLocked() && !"off".equals(o.cache())) {
                    Path root = o.cache() != null ? Path.of(o.cache()) : CacheDir.root().resolve("embeddings");
                    cache = ImageEmbeddingCache.open(root, be, model.params(), images.preprocess().describe(), cfg.embedDim());
                    badImages = cache.fill(images, ds, log);
                }
                TrainBatches.Options bo = TrainBatches.Options.DEFAULT.withBadImages(badImages);
                if (cache != null) {
                    bo = bo.withoutPixels();
                }
                try (ImageEmbeddingCache cacheToClose = cache; // null when the image tower trains: nothing to close
                     TrainBatches batches = new TrainBatches(ds, cache == null ? images.preprocess() : null, texts.tokenizer(),
                             cfg.text().contextLength(), cfg.text().tokenPolicy(), o.batch(), o.seed(), Math.max(0, o.workers()), state, bo);
                     StopOnSignal stop = new StopOnSignal("lit4j-tune");
                     ProgressBar bar = new ProgressBar("tune", o.steps(), log)) {
                    return steps(session, batches, cache, images, stop, bar, step);
                }
            }
        }

        private Summary steps(TrainingSession session, TrainBatches batches, ImageEmbeddingCache cache, ImageEmbedder images,
                              StopOnSignal stop, ProgressBar bar, long start) {
            Path ckpt = run.checkpoint();
            long step = start;
            bar.set(step);
            float[] zimg = new float[o.batch() * model.config().embedDim()];
            long windowStart = System.nanoTime();
            int windowPairs = 0;
            double first = Double.NaN, last = Double.NaN;
            Map<String, Double> lastEval = new LinkedHashMap<>();
            boolean stoppedEarly = false;
            while (step < o.steps()) {
                if (stop.requested()) {
                    stoppedEarly = true;
                    break;
                }
                TrainBatches.Batch b = batches.next();
                float[] cached = null;
                if (cache != null) {
                    cache.gather(b.imageIds(), zimg);
                    cached = zimg;
                }
                TrainingSession.StepResult r = session.step(step, b.pixels(), cached, b.tokens());
                step++;
                windowPairs += o.batch();
                first = Double.isNaN(first) ? r.loss() : first;
                last = r.loss();
                double pairsPerSec = windowPairs / Math.max((System.nanoTime() - windowStart) / 1e9, 1e-9);
                bar.message(String.format("loss %.4f  t %.2f  %.0f pairs/s", r.loss(), r.temperature(), pairsPerSec));
                bar.set(step);
                boolean logNow = step % Math.max(1, o.logEvery()) == 0 || step == o.steps();
                Map<String, Double> ev = Map.of();
                if (o.evalData() != null && o.evalEvery() > 0 && (step % o.evalEvery() == 0 || step == o.steps())) {
                    ev = evaluate(Evaluator.of(model.temperature(), images, texts));
                    lastEval = new LinkedHashMap<>(ev);
                    logNow = true;
                    bar.println(evalLine(step, ev));
                }
                if (logNow) {
                    JsonObject m = new JsonObject();
                    m.addProperty("step", step);
                    m.addProperty("loss", r.loss());
                    m.addProperty("temperature", r.temperature());
                    m.addProperty("lr", r.lr());
                    m.addProperty("grad_norm", r.gradNorm());
                    m.addProperty("pairs_per_s", pairsPerSec);
                    m.addProperty("epoch", b.epoch());
                    ev.forEach(m::addProperty);
                    run.log(m);
                    windowStart = System.nanoTime();
                    windowPairs = 0;
                }
                if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < o.steps()) {
                    TrainerCheckpoint.save(model, session.optimizer(), batches.state(), step, ckpt, tokFile);
                    run.plot("LiT tuning", log);
                }
            }
            if (OpProfile.enabled()) {
                log.println(OpProfile.report());
            }
            TrainerCheckpoint.save(model, session.optimizer(), batches.state(), step, ckpt, tokFile);
            log.println(String.format("lit4j tune: %s at step %d: loss %.4f (first %.4f); checkpoint %s",
                    stoppedEarly ? "stopped" : "done", step, last, first, ckpt));
            BadRows bad = new BadRows();
            bad.addAll(ds.badRows());
            bad.addAll(batches.report());
            run.reportBadRows(bad, "tune", log);
            run.plot("LiT tuning", log);
            return new Summary(step, first, last, stoppedEarly, ckpt, bad, lastEval);
        }

        /** "lit4j tune: step 500: eval top-1 0.8120, top-5 0.9870 (2000 images)": one line per evaluation. */
        private String evalLine(long step, Map<String, Double> ev) {
            StringBuilder sb = new StringBuilder("lit4j tune: step " + step + ": eval");
            String sep = " ";
            for (Map.Entry<String, Double> e : ev.entrySet()) {
                String name = e.getKey().replaceFirst("^eval_", "");
                sb.append(sep).append(name).append(' ').append(name.equals("images") ? String.format("%.0f", e.getValue())
                        : String.format(Locale.ROOT, "%.4f", e.getValue()));
                sep = ", ";
            }
            return sb.append(" on ").append(o.evalData()).toString();
        }

        /** Zero-shot (when the eval data has labels) or retrieval metrics for the model as it is now. */
        private Map<String, Double> evaluate(Evaluator.Embedder now) {
            Map<String, Double> out = new LinkedHashMap<>();
            try (CaptionDataset eval = CaptionDataset.open(Path.of(o.evalData()))) {
                List<String> labels = eval.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().sorted().toList();
                if (!labels.isEmpty()) {
                    Evaluator.ZeroShot z = Evaluator.zeroShot(now, eval, o.evalData(), ZeroShotClassifier.Label.names(labels),
                            Templates.load(o.templates() == null ? Templates.DEFAULT : o.templates()), o.evalLimit(), ProgressBar.silent());
                    out.put("eval_top1", z.top1());
                    out.put("eval_top5", z.top5());
                    out.put("eval_images", (double) z.n());
                } else {
                    Evaluator.Retrieval r = Evaluator.retrieval(now, eval, o.evalData(), o.evalLimit(), ProgressBar.silent());
                    out.put("eval_i2t_r1", r.recall().imageToText(1));
                    out.put("eval_t2i_r1", r.recall().textToImage(1));
                    out.put("eval_images", (double) r.images());
                }
            }
            return out;
        }
    }
}

package io.lit4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.CacheDir;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.OpProfile;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.data.TokenizerBuilder;
import io.lit4j.data.TrainBatches;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.Templates;
import io.lit4j.io.AtomicFile;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.report.LineChart;
import io.lit4j.report.ProgressBar;
import io.lit4j.tensor.Tensor;

import java.awt.AWTError;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * LiT tuning end to end: builds the starting model, streams image-caption batches, embeds a locked
 * image tower once into the on-disk cache, runs {@link TrainingSession} steps, logs
 * {@code metrics.jsonl} and a curves PNG, evaluates every K steps, and writes checkpoints
 * atomically (a lit4j model folder plus optimizer and data-stream state) from which
 * {@link #resume} continues exactly. SIGINT/SIGTERM save and stop.
 *
 * <p>A run folder holds {@code run.json} (the options), {@code metrics.jsonl},
 * {@code curves.png}, {@code checkpoint/} and, when lit4j built one, {@code tokenizer.json}.
 */
public final class Tuner {
    /** Everything a run is made of; saved as run.json so that a resume continues with the same. */
    public record Options(String model, String imageTower, String textTower, int embedDim, String loss,
                          String data, String setup, List<String> freeze, List<String> unfreeze,
                          int steps, int batch, double lr, int warmup, double minLr, double weightDecay, double clipNorm,
                          double temperature, double bias, boolean clampTemperature,
                          long seed, int workers, String out, int saveEvery, int logEvery,
                          String evalData, int evalEvery, int evalLimit, String templates,
                          String tokenizer, int vocabSize, String cache, String precision) {
        public Options {
            freeze = freeze == null ? List.of() : List.copyOf(freeze);
            unfreeze = unfreeze == null ? List.of() : List.copyOf(unfreeze);
            if (steps < 1 || batch < 2) {
                throw new LitException("--steps must be at least 1 and --batch at least 2 (a contrastive batch needs negatives)");
            }
        }

        public String toJson() {
            return new GsonBuilder().setPrettyPrinting().create().toJson(this);
        }

        static Options fromJson(String json) {
            return new Gson().fromJson(json, Options.class);
        }
    }

    /** How a run ended. */
    public record Summary(long stepsDone, double firstLoss, double lastLoss, boolean stoppedEarly, Path checkpoint, BadRows badRows,
                          Map<String, Double> lastEval) {
    }

    static final String CHECKPOINT = "checkpoint";
    static final String STATE = "trainer.json";
    static final String OPTIMIZER = "optimizer.safetensors";

    private Tuner() {
    }

    /** Starts a new run in {@code o.out()} (which must not hold a run already; use {@link #resume}). */
    public static Summary run(Backend be, Options o, PrintStream log) {
        Path out = Path.of(o.out());
        if (Files.exists(out.resolve("run.json"))) {
            throw new LitException(out + " already holds a run; continue it with --resume " + out + " or pick another --out");
        }
        try {
            Files.createDirectories(out);
            AtomicFile.writeString(out.resolve("run.json"), o.toJson() + "\n");
        } catch (IOException e) {
            throw new LitException("cannot create the run folder " + out + ": " + e.getMessage(), e);
        }
        return execute(be, o, out, false, log);
    }

    /** Continues the run in {@code runDir} from its last checkpoint. */
    public static Summary resume(Backend be, Path runDir, PrintStream log) {
        Path json = runDir.resolve("run.json");
        if (!Files.isRegularFile(json)) {
            throw new LitException(runDir + " is not a tuning run (no run.json)");
        }
        try {
            return execute(be, Options.fromJson(Files.readString(json)), runDir, true, log);
        } catch (IOException e) {
            throw new LitException("cannot read " + json + ": " + e.getMessage(), e);
        }
    }

    private static Summary execute(Backend be, Options o, Path out, boolean resume, PrintStream log) {
        LockSpec lock = LockSpec.parse(o.setup(), o.freeze(), o.unfreeze());
        Path ckpt = out.resolve(CHECKPOINT);
        boolean haveCheckpoint = resume && AtomicFolder.recover(ckpt);
        TwoTower model;
        String description;
        if (haveCheckpoint) {
            model = Checkpoints.load(be, ckpt);
            description = "resumed from " + ckpt;
        } else {
            TwoTowerConfig.Loss loss = o.loss() == null ? null : TwoTowerConfig.Loss.valueOf(o.loss().toUpperCase(Locale.ROOT));
            ModelBuilder.Built b = ModelBuilder.build(be, o.model(), o.imageTower(), o.textTower(), o.embedDim(), loss, lock, o.seed(),
                    o.temperature(), o.bias(), log);
            model = b.model();
            description = b.description();
        }
        try (model; CaptionDataset ds = CaptionDataset.open(Path.of(o.data()))) {
            log.println("lit4j tune: " + description + "; setup " + lock.setup() + "; " + ds.size() + " image-caption rows in " + o.data()
                    + (ds.badRows().isEmpty() ? "" : " (" + ds.badRows().total() + " bad rows skipped)"));
            if (ds.size() < o.batch()) {
                throw new LitException(o.data() + " has " + ds.size() + " usable rows, fewer than one batch of " + o.batch());
            }
            Path tokFile = tokenizerFor(o, model.config(), ds, out, haveCheckpoint ? ckpt : null, log);
            try (TextTokenizer tok = TextTokenizer.load(tokFile)) {
                if (tok.vocabSize() > model.config().text().vocabSize()) {
                    throw new LitException(tokFile + " has " + tok.vocabSize() + " tokens, more than the text tower's vocab_size "
                            + model.config().text().vocabSize());
                }
                return loop(be, o, out, lock, model, ds, tok, tokFile, haveCheckpoint, log);
            }
        }
    }

    /** The tokenizer: given, beside the model, in the checkpoint, or built from the captions for a random text tower. */
    private static Path tokenizerFor(Options o, TwoTowerConfig cfg, CaptionDataset ds, Path out, Path ckpt, PrintStream log) {
        if (ckpt != null && Files.isRegularFile(ckpt.resolve(LitFormat.TOKENIZER))) {
            return ckpt.resolve(LitFormat.TOKENIZER);
        }
        if (o.tokenizer() != null) {
            return Path.of(o.tokenizer());
        }
        for (String from : new String[] {o.textTower(), o.model()}) {
            if (from != null && Files.exists(Path.of(from))) {
                Path p = Path.of(from);
                Path dir = Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
                if (Files.isRegularFile(dir.resolve(LitFormat.TOKENIZER))) {
                    return dir.resolve(LitFormat.TOKENIZER);
                }
            }
        }
        if (o.setup().charAt(1) != 'u') {
            throw new LitException("no tokenizer.json for the pretrained text tower: pass --tokenizer FILE");
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

    private static Summary loop(Backend be, Options o, Path out, LockSpec lock, TwoTower model, CaptionDataset ds, TextTokenizer tok,
                                Path tokFile, boolean resumed, PrintStream log) {
        TwoTowerConfig cfg = model.config();
        Preprocess pp = Preprocess.bigVision(cfg.image().imageSize());
        AdamW.Config opt = new AdamW.Config(new Schedule(o.lr(), o.warmup(), o.steps(), o.minLr()), 0.9f, 0.999f, 1e-8f,
                (float) o.weightDecay(), (float) o.clipNorm(), AdamW.Config.kernelsOnly());
        Precision precision = o.precision() == null ? Precision.FP32 : Precision.parse(o.precision());
        TrainingSession.Options so = new TrainingSession.Options(o.batch(), 4096,
                o.clampTemperature() ? (float) Math.log(100) : Float.NaN, precision);
        model.setPrecision(precision); // evaluations during the run embed as the run trains
        Path ckpt = out.resolve(CHECKPOINT);
        Path metrics = out.resolve("metrics.jsonl");
        try (TrainingSession session = new TrainingSession(model, lock, opt, so)) {
            long step = 0;
            TrainBatches.State state = TrainBatches.State.START;
            if (resumed) {
                JsonObject st = readState(ckpt);
                step = st.get("step").getAsLong();
                state = new TrainBatches.State(st.get("epoch").getAsInt(), st.get("position").getAsInt(), st.get("batches").getAsLong());
                loadOptimizer(be, session.optimizer(), ckpt.resolve(OPTIMIZER), st.get("updates").getAsLong());
                truncateMetrics(metrics, step);
                if (step >= o.steps()) {
                    log.println("lit4j tune: " + out + " is already complete (" + step + " of " + o.steps() + " steps); checkpoint " + ckpt);
                    return new Summary(step, Double.NaN, Double.NaN, false, ckpt, new BadRows(), Map.of());
                }
                log.println("lit4j tune: resuming at step " + step + " of " + o.steps());
            }
            TextTokenizer.Policy policy = cfg.text() instanceof BertConfig ? TextTokenizer.Policy.BERT : TextTokenizer.Policy.STICKY_EOS;
            ImageEmbeddingCache cache = null;
            Map<Integer, String> badImages = Map.of();
            if (session.imageLocked() && !"off".equals(o.cache())) {
                Path root = o.cache() != null ? Path.of(o.cache()) : CacheDir.root().resolve("embeddings");
                cache = ImageEmbeddingCache.open(root, be, model.params(), pp.describe(), cfg.embedDim());
                badImages = fillCache(cache, model, ds, pp, Math.max(1, o.workers()), log);
            }
            TrainBatches.Options bo = TrainBatches.Options.DEFAULT.withBadImages(badImages);
            if (cache != null) {
                bo = bo.withoutPixels();
            }
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch saved = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stop.set(true);
                try {
                    saved.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "lit4j-tune-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            double first = Double.NaN, last = Double.NaN;
            Map<String, Double> lastEval = new LinkedHashMap<>();
            boolean stoppedEarly = false;
            try (ImageEmbeddingCache cacheToClose = cache; // null when the image tower trains: nothing to close
                 TrainBatches batches = new TrainBatches(ds, cache == null ? pp : null, tok, cfg.text().contextLength(), policy, o.batch(),
                         o.seed(), Math.max(0, o.workers()), state, bo);
                 BufferedWriter mw = Files.newBufferedWriter(metrics, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                 ProgressBar bar = new ProgressBar("tune", o.steps(), System.err)) {
                bar.set(step);
                float[] zimg = new float[o.batch() * cfg.embedDim()];
                long windowStart = System.nanoTime();
                int windowPairs = 0;
                while (step < o.steps()) {
                    if (stop.get()) {
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
                    if (Double.isNaN(first)) {
                        first = r.loss();
                    }
                    last = r.loss();
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    double pairsPerSec = windowPairs / Math.max(secs, 1e-9);
                    bar.message(String.format("loss %.4f  t %.2f  %.0f pairs/s", r.loss(), r.temperature(), pairsPerSec));
                    bar.set(step);
                    boolean logNow = step % Math.max(1, o.logEvery()) == 0 || step == o.steps();
                    Map<String, Double> ev = Map.of();
                    if (o.evalData() != null && o.evalEvery() > 0 && (step % o.evalEvery() == 0 || step == o.steps())) {
                        ev = evaluate(model, tok, policy, pp, o);
                        lastEval = new LinkedHashMap<>(ev);
                        logNow = true;
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
                        mw.write(m + "\n");
                        mw.flush();
                        windowStart = System.nanoTime();
                        windowPairs = 0;
                    }
                    if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && step < o.steps()) {
                        checkpoint(model, session, batches.state(), step, ckpt, tokFile);
                        plotQuietly(metrics, out.resolve("curves.png"), log);
                    }
                }
                if (OpProfile.enabled()) {
                    log.println(OpProfile.report());
                }
                checkpoint(model, session, batches.state(), step, ckpt, tokFile);
                log.println(String.format("lit4j tune: %s at step %d: loss %.4f (first %.4f); checkpoint %s",
                        stoppedEarly ? "stopped" : "done", step, last, first, ckpt));
                BadRows bad = new BadRows();
                bad.addAll(ds.badRows());
                bad.addAll(batches.report());
                if (!bad.isEmpty()) {
                    Files.writeString(out.resolve("bad_rows.txt"), bad.summary() + "\n");
                    log.println("lit4j tune: " + bad.total() + " bad rows skipped (" + out.resolve("bad_rows.txt") + "):\n" + bad.summary());
                }
                plotQuietly(metrics, out.resolve("curves.png"), log);
                return new Summary(step, first, last, stoppedEarly, ckpt, bad, lastEval);
            } catch (IOException e) {
                throw new LitException("tuning I/O failed in " + out + ": " + e.getMessage(), e);
            } finally {
                saved.countDown(); // lets a SIGINT/SIGTERM shutdown proceed: the checkpoint and summary are written
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already shutting down (SIGINT/SIGTERM): the hook is running
                }
            }
        }
    }

    /** Embeds every dataset image missing from the cache; returns the rows whose image would not decode. */
    private static Map<Integer, String> fillCache(ImageEmbeddingCache cache, TwoTower model, CaptionDataset ds, Preprocess pp, int workers,
                                                  PrintStream log) {
        Map<String, Integer> rowOf = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (CaptionDataset.Row r : ds.rows()) {
            rowOf.put(r.image(), r.index());
            ids.add(r.image());
        }
        List<String> missing = cache.missing(ids);
        Map<Integer, String> bad = new HashMap<>();
        Path badList = cache.folder().resolve("undecodable.tsv");
        if (Files.isRegularFile(badList)) {
            try {
                for (String line : Files.readAllLines(badList)) {
                    String[] kv = line.split("\t", 2);
                    if (rowOf.containsKey(kv[0])) {
                        bad.put(rowOf.get(kv[0]), kv.length > 1 ? kv[1] : "undecodable");
                    }
                }
            } catch (IOException e) {
                throw new LitException("cannot read " + badList + ": " + e.getMessage(), e);
            }
        }
        missing = missing.stream().filter(id -> !bad.containsKey(rowOf.get(id))).toList();
        if (missing.isEmpty()) {
            log.println("lit4j tune: image tower locked; all " + ids.size() + " image embeddings are cached in " + cache.folder());
            return bad;
        }
        log.println("lit4j tune: image tower locked; embedding " + missing.size() + " images once into " + cache.folder());
        int per = pp.floatsPerImage(), chunk = 64;
        ExecutorService decoders = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "lit4j-decode");
            t.setDaemon(true);
            return t;
        });
        try (ProgressBar bar = new ProgressBar("embed images", missing.size(), System.err)) {
            for (int s = 0; s < missing.size(); s += chunk) {
                List<String> part = missing.subList(s, Math.min(missing.size(), s + chunk));
                List<Future<float[]>> decoded = new ArrayList<>();
                for (String id : part) {
                    decoded.add(decoders.submit(() -> Images.pixels(ds.readImage(id), id, pp)));
                }
                List<String> ok = new ArrayList<>();
                float[] px = new float[part.size() * per];
                for (int i = 0; i < part.size(); i++) {
                    try {
                        System.arraycopy(decoded.get(i).get(), 0, px, ok.size() * per, per);
                        ok.add(part.get(i));
                    } catch (ExecutionException e) {
                        String why = String.valueOf(e.getCause().getMessage());
                        bad.put(rowOf.get(part.get(i)), why);
                        Files.writeString(badList, part.get(i) + "\t" + why.replace('\n', ' ') + "\n", StandardCharsets.UTF_8,
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    }
                }
                if (!ok.isEmpty()) {
                    cache.put(ok, model.embedImages(Arrays.copyOf(px, ok.size() * per), ok.size()));
                }
                bar.step(part.size());
            }
            cache.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LitException("interrupted while embedding images", e);
        } catch (IOException e) {
            throw new LitException("cannot write " + badList + ": " + e.getMessage(), e);
        } finally {
            decoders.shutdownNow();
        }
        return bad;
    }

    /** Zero-shot (when the eval data has labels) or retrieval metrics for the model as it is now. */
    private static Map<String, Double> evaluate(TwoTower model, TextTokenizer tok, TextTokenizer.Policy policy, Preprocess pp, Options o) {
        int ctx = model.config().text().contextLength();
        Evaluator.Embedder m = Evaluator.of(model.config().embedDim(), model.temperature(), pp, model::embedImages, texts -> {
            float[] outv = new float[texts.size() * model.config().embedDim()];
            for (int s = 0; s < texts.size(); s += 256) {
                List<String> part = texts.subList(s, Math.min(texts.size(), s + 256));
                TokenBatch tb = tok.encode(part, ctx, policy);
                System.arraycopy(model.embedTexts(tb), 0, outv, s * model.config().embedDim(), part.size() * model.config().embedDim());
            }
            return outv;
        });
        Map<String, Double> out = new LinkedHashMap<>();
        try (CaptionDataset eval = CaptionDataset.open(Path.of(o.evalData()))) {
            List<String> labels = eval.rows().stream().map(CaptionDataset.Row::label).filter(Objects::nonNull).distinct().sorted().toList();
            if (!labels.isEmpty()) {
                Evaluator.ZeroShot z = Evaluator.zeroShot(m, eval, o.evalData(), labels, Templates.load(o.templates() == null ? "clip_best" : o.templates()),
                        o.evalLimit(), ProgressBar.silent());
                out.put("eval_top1", z.top1());
                out.put("eval_top5", z.top5());
            } else {
                Evaluator.Retrieval r = Evaluator.retrieval(m, eval, o.evalData(), o.evalLimit(), ProgressBar.silent());
                out.put("eval_i2t_r1", r.recall().imageToText(1));
                out.put("eval_t2i_r1", r.recall().textToImage(1));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ checkpoints

    private static void checkpoint(TwoTower model, TrainingSession s, TrainBatches.State data, long step, Path ckpt, Path tokenizer) {
        JsonObject st = new JsonObject();
        st.addProperty("step", step);
        st.addProperty("epoch", data.epoch());
        st.addProperty("position", data.position());
        st.addProperty("batches", data.batches());
        st.addProperty("updates", s.optimizer().updates());
        Backend be = model.backend();
        LitFormat.save(model, ckpt, tokenizer, folder -> {
            try (Arena arena = Arena.ofConfined()) {
                List<HostArray> arrays = new ArrayList<>();
                for (Map.Entry<String, Tensor> e : s.optimizer().state().entrySet()) {
                    long[] shape = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                    arrays.add(HostArray.ofFloats(e.getKey(), shape, be.download(e.getValue()), arena));
                }
                SafetensorsWriter.write(folder.resolve(OPTIMIZER), Map.of(), arrays);
            }
            AtomicFile.writeString(folder.resolve(STATE), st + "\n");
        });
    }

    private static JsonObject readState(Path ckpt) {
        try {
            return JsonParser.parseString(Files.readString(ckpt.resolve(STATE))).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new LitException(ckpt.resolve(STATE) + ": cannot read the trainer state: " + e.getMessage(), e);
        }
    }

    private static void loadOptimizer(Backend be, AdamW opt, Path file, long updates) {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (Map.Entry<String, Tensor> e : opt.state().entrySet()) {
                if (!r.contains(e.getKey())) {
                    throw new LitException(file + ": no optimizer state for '" + e.getKey() + "' (was the run's setup changed?)");
                }
                be.upload(r.read(e.getKey()).toFloatArray(), e.getValue());
            }
        }
        opt.restore(updates);
    }

    /** Drops metrics logged after the checkpoint: the resumed run logs those steps again. */
    private static void truncateMetrics(Path metrics, long step) {
        if (!Files.isRegularFile(metrics)) {
            return;
        }
        try {
            StringBuilder keep = new StringBuilder();
            for (String line : Files.readAllLines(metrics)) {
                if (!line.isBlank() && JsonParser.parseString(line).getAsJsonObject().get("step").getAsLong() <= step) {
                    keep.append(line).append('\n');
                }
            }
            AtomicFile.writeString(metrics, keep.toString());
        } catch (IOException | RuntimeException e) {
            throw new LitException(metrics + ": cannot rewrite the metrics log: " + e.getMessage(), e);
        }
    }

    /** The chart is a convenience: if drawing fails (e.g. fonts during JVM shutdown), say so and go on. */
    private static void plotQuietly(Path metrics, Path png, PrintStream log) {
        try {
            plot(metrics, png);
        } catch (RuntimeException | LinkageError | AWTError e) {
            log.println("lit4j tune: could not draw " + png + ": " + e);
        }
    }

    /** Loss and temperature over steps (and eval metrics in a panel below), from metrics.jsonl. */
    static void plot(Path metrics, Path png) {
        List<double[]> rows = new ArrayList<>();
        List<double[]> evalRows = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(metrics)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonObject m = JsonParser.parseString(line).getAsJsonObject();
                double s = m.get("step").getAsDouble();
                rows.add(new double[] {s, m.get("loss").getAsDouble(), m.get("temperature").getAsDouble()});
                String key = m.has("eval_top1") ? "eval_top1" : m.has("eval_t2i_r1") ? "eval_t2i_r1" : null;
                if (key != null) {
                    evalRows.add(new double[] {s, m.get(key).getAsDouble()});
                }
            }
        } catch (IOException e) {
            throw new LitException("cannot read " + metrics + ": " + e.getMessage(), e);
        }
        if (rows.isEmpty()) {
            return;
        }
        double[] x = rows.stream().mapToDouble(r -> r[0]).toArray();
        LineChart chart = new LineChart("LiT tuning", "step");
        chart.addSeries("loss", x, rows.stream().mapToDouble(r -> r[1]).toArray(), "left");
        chart.addSeries("temperature", x, rows.stream().mapToDouble(r -> r[2]).toArray(), "right");
        chart.yLabel("loss");
        chart.rightYLabel("temperature");
        if (!evalRows.isEmpty()) {
            chart.addPanel("eval accuracy").addSeries("zero-shot / recall@1", evalRows.stream().mapToDouble(r -> r[0]).toArray(),
                    evalRows.stream().mapToDouble(r -> r[1]).toArray());
        }
        chart.save(png);
    }
}

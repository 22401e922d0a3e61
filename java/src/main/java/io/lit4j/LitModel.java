package io.lit4j;

import io.lit4j.backend.Backends;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TextTokenizer;
import io.lit4j.embed.Batcher;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.embed.TextEmbedder;
import io.lit4j.eval.Embeddings;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * lit4j's public API: a loaded two-tower model with its tokenizer and image preprocessing, ready
 * to embed images and texts, classify images zero-shot against any labels, and retrieve. One
 * instance serves many threads (parameters are read-only; each call has its own activations);
 * close it to free the native memory.
 *
 * <pre>{@code
 * try (LitModel model = LitModel.loadDefault()) {
 *     List<ZeroShotClassifier.Scored> ranked = model.classify(Path.of("cat.png"), List.of("cat", "dog"));
 *     System.out.println(ranked.get(0).label() + " " + ranked.get(0).probability());
 * }
 * }</pre>
 *
 * <p>Run the JVM with {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED}:
 * without the first the Java kernels run as plain loops (slower, and said once on stderr); without
 * the second the JDK warns when oneDNN is loaded.
 */
public final class LitModel implements AutoCloseable, Evaluator.Embedder {
    /** The 7 prompt templates big_vision found best for zero-shot ImageNet ("clip_best"). */
    public static final String DEFAULT_TEMPLATES = Templates.DEFAULT;

    /** How to open a model. {@code backend}: "auto", "onednn" or "scalar"; {@code threads} ≤ 0: all processors. */
    public record Options(String backend, int threads, Precision precision, Path tokenizer, int batchSize) {
        public static Options defaults() {
            return new Options("auto", 0, Precision.FP32, null, 32);
        }

        public Options withBackend(String b) {
            return new Options(b, threads, precision, tokenizer, batchSize);
        }

        public Options withThreads(int t) {
            return new Options(backend, t, precision, tokenizer, batchSize);
        }

        public Options withPrecision(Precision p) {
            return new Options(backend, threads, p, tokenizer, batchSize);
        }

        public Options withTokenizer(Path t) {
            return new Options(backend, threads, precision, t, batchSize);
        }

        public Options withBatchSize(int b) {
            return new Options(backend, threads, precision, tokenizer, b);
        }
    }

    /** A retrieval hit: the row in the index, its id, the cosine similarity. */
    public record Hit(int row, String id, float score) {
    }

    private final Backends.Choice engine;
    private final TwoTower model;
    private final TextTokenizer tokenizer;      // null without a text tower
    private final ImageEmbedder images;         // null without an image tower
    private final TextEmbedder texts;           // null without a text tower
    private final Map<List<Object>, ZeroShotClassifier> classifiers = new ConcurrentHashMap<>();

    private LitModel(Backends.Choice engine, TwoTower model, TextTokenizer tokenizer, int batchSize) {
        this.engine = engine;
        this.model = model;
        this.tokenizer = tokenizer;
        this.texts = tokenizer != null ? TextEmbedder.of(model, tokenizer) : null; // checks the tokenizer fits the tower
        // one decoding thread overlaps reading the next images with the tower's work on this batch
        this.images = model.config().hasImage() ? ImageEmbedder.of(model, ImageEmbedder.Options.of(batchSize, 1)) : null;
    }

    public static LitModel load(Path path) {
        return load(path, Options.defaults());
    }

    /** The name that means "the model lit4j ships" wherever a model path is asked for. */
    public static final String DEFAULT_MODEL = "default";

    /** The shipped default model (see models/default/MODEL_CARD.md) with the default options. */
    public static LitModel loadDefault() {
        return loadDefault(Options.defaults());
    }

    /** The shipped default model (see models/default/MODEL_CARD.md). */
    public static LitModel loadDefault(Options options) {
        return load(DefaultModel.path(), options);
    }

    /** {@code "default"}, a path, or a name {@link KnownModels} knows ({@code minilm}): the shipped model or any checkpoint. */
    public static LitModel open(String spec, Options options) {
        if (spec == null || spec.equals(DEFAULT_MODEL)) {
            return loadDefault(options);
        }
        return load(KnownModels.isName(spec) && !Files.exists(Path.of(spec)) ? KnownModels.resolve(spec) : Path.of(spec), options);
    }

    /** Loads any checkpoint {@link Checkpoints} reads, with the tokenizer beside it (or {@code options.tokenizer()}). */
    public static LitModel load(Path path, Options options) {
        Backends.Choice engine = Backends.open(options.backend(), options.threads());
        TwoTower model = null;
        TextTokenizer tok = null;
        try {
            model = Checkpoints.load(engine.backend(), path);
            model.setPrecision(options.precision());
            model.freezeForInference(); // a served model keeps one copy of its weights, packed for the matmuls
            Path tokPath = options.tokenizer() != null ? options.tokenizer() : findTokenizer(path);
            if (model.config().hasText()) {
                if (tokPath == null) {
                    throw new LitException(path + ": no tokenizer beside the model (tokenizer.json, a .model or " + TextTokenizer.CONVENTIONS + "); pass one (--tokenizer FILE)");
                }
                // a SentencePiece model found beside the checkpoint is framed as the checkpoint's project does
                tok = TextTokenizer.load(tokPath, options.tokenizer() != null ? null : Checkpoints.textConventions(path));
            }
            LitModel loaded = new LitModel(engine, model, tok, Math.max(1, options.batchSize()));
            engine.backend().releaseThread(); // packing ran ops here; whoever embeds next runs at full speed (see releaseThread())
            return loaded;
        } catch (RuntimeException e) {
            if (tok != null) {
                tok.close();
            }
            if (model != null) {
                model.close();
            }
            engine.close();
            throw e;
        }
    }

    private static Path findTokenizer(Path model) {
        return TextTokenizer.findIn(Files.isDirectory(model) ? model : model.toAbsolutePath().getParent());
    }

    public TwoTowerConfig config() {
        return model.config();
    }

    /** The underlying model, {@linkplain TwoTower#freezeForInference frozen for inference}: it embeds, but cannot be trained or saved. */
    public TwoTower twoTower() {
        return model;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** How image files become model input for this model; null for a model without an image tower. */
    public Preprocess preprocess() {
        return images == null ? null : images.preprocess();
    }

    public int embedDim() {
        return model.config().embedDim();
    }

    @Override
    public int dim() {
        return embedDim();
    }

    /** The learned temperature exp(t). */
    @Override
    public float temperature() {
        return model.temperature();
    }

    /** Which backend runs the model and why it was picked. */
    public String backendDescription() {
        return engine.backend().name() + " (" + engine.reason() + ")";
    }

    // ------------------------------------------------------------------ images

    /**
     * The image tower's embedder: files and datasets in bounded batches, decoded on a worker
     * thread, bad files an error or (when asked) skipped and reported.
     */
    @Override
    public ImageEmbedder images() {
        if (images == null) {
            throw new LitException("this model has no image tower");
        }
        return images;
    }

    /** L2-normalised embeddings ([n, dim], row-major) of image files; a file that does not decode is an error naming it. */
    public float[] embedImageFiles(List<Path> files) {
        return images().embedAll(ImageSource.files(files));
    }

    /** As {@link #embedImageFiles}, one array of dim per file. */
    public float[][] embedImageFileRows(List<Path> files) {
        return Embeddings.rows(embedImageFiles(files), embedDim());
    }

    /** The L2-normalised embedding (dim) of one image file. */
    public float[] embedImage(Path file) {
        return embedImageFiles(List.of(file));
    }

    /** Embeddings ([n, dim], row-major) of decoded images. */
    public float[] embedImages(List<BufferedImage> decoded) {
        return images().embedDecoded(decoded);
    }

    /** As {@link #embedImages}, one array of dim per image. */
    public float[][] embedImageRows(List<BufferedImage> decoded) {
        return Embeddings.rows(embedImages(decoded), embedDim());
    }

    /** The L2-normalised embedding (dim) of one decoded image. */
    public float[] embedImage(BufferedImage image) {
        return embedImages(List.of(image));
    }

    /** Embeddings of pixels already preprocessed ([n, S, S, 3] NHWC floats, as {@link #preprocess()} makes them). */
    public float[] embedPixels(float[] nhwc, int n) {
        return images().embedPixels(nhwc, n);
    }

    // ------------------------------------------------------------------ texts

    /** The text tower's embedder: texts tokenized as the tower expects, in bounded chunks. */
    @Override
    public TextEmbedder texts() {
        if (texts == null) {
            throw new LitException("this model has no text tower");
        }
        return texts;
    }

    /** L2-normalised embeddings ([n, dim], row-major) of texts, tokenized as the text tower expects. */
    public float[] embedTexts(List<String> list) {
        return texts().embed(list);
    }

    /** As {@link #embedTexts}, one array of dim per text. */
    public float[][] embedTextRows(List<String> list) {
        return Embeddings.rows(embedTexts(list), embedDim());
    }

    /** The L2-normalised embedding (dim) of one text. */
    public float[] embedText(String text) {
        return embedTexts(List.of(text));
    }

    // ------------------------------------------------------------------ services

    /**
     * Frees what the backend keeps for the calling thread's parallel work (oneDNN: its OpenMP team
     * of worker threads); the thread's next call builds it again. Call it on a thread that has
     * embedded and will not for a while, e.g. before a {@link #batcher} or a service's own thread
     * takes over: OpenMP's workers wait by spinning only while the teams of all threads together
     * need no more threads than there are CPUs, so with the default thread count (every CPU) one
     * idle team on another thread turns every barrier of every call into a sleep and a wake-up
     * (batch-1 text twice as slow). {@link #load} does this for the loading thread.
     */
    public void releaseThread() {
        engine.backend().releaseThread();
    }

    /** Threads one call may use: the backend's team (oneDNN: the OpenMP team size). */
    public int threads() {
        return engine.backend().threads();
    }

    /**
     * The calling thread's calls from now on run on {@code n} of the backend's {@link #threads()}
     * (1 to {@code threads()}; oneDNN: the thread's OpenMP team size): for a service thread whose
     * small requests do not pay for waking the others. At the default model's shapes the
     * embeddings are the same, bit for bit, whatever the team ({@code BatchRowIndependenceTest});
     * where oneDNN splits a long reduction over the threads they differ in the last bits. A
     * {@link #batcher} sizes its own thread's team per batch, checking each size first
     * ({@link Batcher.Options#smallBatchRows}).
     */
    public void useThreads(int n) {
        engine.backend().useThreads(n);
    }

    /**
     * A micro-batcher over this model's towers, for services: concurrent single texts and images
     * share forward passes on one model thread, with results identical to {@link #embedTexts} and
     * {@link #embedImages} of each alone (see {@link Batcher}). The caller closes it, before this model.
     */
    public Batcher batcher(Batcher.Options options) {
        int imageRows = model.config().hasImage() ? model.config().image().tokens() : 0;
        return new Batcher(texts, images, options, new Batcher.Team(threads(), engine.backend()::useThreads, imageRows));
    }

    // ------------------------------------------------------------------ zero-shot and retrieval

    /**
     * A zero-shot classifier for {@code classes} ({@link ZeroShotClassifier.Label#of} a name and its
     * aliases, or {@link ZeroShotClassifier.Label#names} for plain names) with templates "clip_80",
     * "clip_best" or a file of one template per line; built once per class list and reused.
     */
    public ZeroShotClassifier classifier(List<ZeroShotClassifier.Label> classes, String templates) {
        return classifier(classes, Templates.load(templates));
    }

    public ZeroShotClassifier classifier(List<ZeroShotClassifier.Label> classes, List<String> templates) {
        return classifiers.computeIfAbsent(List.of(List.copyOf(classes), List.copyOf(templates)),
                k -> ZeroShotClassifier.build(List.copyOf(classes), templates, embedDim(), temperature(), texts()::embed));
    }

    /** Top-{@code k} classes with probabilities for each image file. */
    public List<List<ZeroShotClassifier.Scored>> classify(List<Path> images, List<ZeroShotClassifier.Label> classes, String templates, int k) {
        return classifier(classes, templates).classify(embedImageFiles(images), k);
    }

    /**
     * Every label for one image file, the most probable first, with the {@link #DEFAULT_TEMPLATES}.
     * Each label is one class name, used as it is (a comma is part of the name).
     */
    public List<ZeroShotClassifier.Scored> classify(Path image, List<String> labels) {
        return classifier(ZeroShotClassifier.Label.names(labels), DEFAULT_TEMPLATES).classify(embedImage(image), labels.size()).get(0);
    }

    /** As {@link #classify(Path, List)}, for a decoded image. */
    public List<ZeroShotClassifier.Scored> classify(BufferedImage image, List<String> labels) {
        return classifier(ZeroShotClassifier.Label.names(labels), DEFAULT_TEMPLATES).classify(embedImage(image), labels.size()).get(0);
    }

    /**
     * Cosine similarities [image][text] between image files and texts, the texts taken as they are
     * (no prompt templates: write "a photo of a cat" if that is what you mean).
     */
    public float[][] similarity(List<Path> images, List<String> texts) {
        return similarity(embedImageFileRows(images), embedTextRows(texts));
    }

    /** Cosine similarities [a row][b row] of L2-normalised embeddings of this model (e.g. {@link #embedImageRows}, {@link #embedTextRows}). */
    public float[][] similarity(float[][] a, float[][] b) {
        int e = embedDim();
        float[] s = Embeddings.similarities(Embeddings.flatten(a, e, "similarity: first embeddings"),
                Embeddings.flatten(b, e, "similarity: second embeddings"), e);
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = Arrays.copyOfRange(s, i * b.length, (i + 1) * b.length);
        }
        return out;
    }

    /** For each image file, the probability of each text as the model gives it: softmax(temperature · cosine) over the texts. */
    public float[][] probabilities(List<Path> images, List<String> texts) {
        return probabilities(similarity(images, texts));
    }

    /** softmax(temperature · cosine) over each row of {@link #similarity} results. */
    public float[][] probabilities(float[][] cosines) {
        float[][] out = new float[cosines.length][];
        for (int i = 0; i < cosines.length; i++) {
            double[] p = Embeddings.softmax(cosines[i], cosines[i].length, 0, temperature());
            out[i] = new float[p.length];
            for (int j = 0; j < p.length; j++) {
                out[i][j] = (float) p[j];
            }
        }
        return out;
    }

    /** The {@code k} rows of {@code index} ([rows, dim], normalised) most similar to {@code query}. */
    public List<Hit> retrieve(float[] index, List<String> ids, String query, int k) {
        int e = embedDim();
        if (index.length != ids.size() * e) {
            throw new LitException("retrieve: an index of " + index.length / Math.max(1, e) + " rows has " + ids.size() + " ids");
        }
        float[] q = embedTexts(List.of(query));
        float[] sim = Embeddings.similarities(q, index, e);
        List<Hit> hits = new ArrayList<>();
        for (int j : Embeddings.topK(sim, ids.size(), 0, k)) {
            hits.add(new Hit(j, ids.get(j), sim[j]));
        }
        return hits;
    }

    @Override
    public void close() {
        if (images != null) {
            images.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        model.close();
        engine.close();
    }
}

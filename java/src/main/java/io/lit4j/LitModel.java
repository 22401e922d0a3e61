package io.lit4j;

import io.lit4j.backend.Backends;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.eval.Embeddings;
import io.lit4j.eval.Evaluator;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;

import java.awt.image.BufferedImage;
import java.io.IOException;
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
 * try (LitModel model = LitModel.load(Path.of("models/default"))) {
 *     var top = model.classify(List.of(Path.of("cat.png")), List.of("cat", "dog"), LitModel.DEFAULT_TEMPLATES, 1);
 *     System.out.println(top.get(0).get(0).label());
 * }
 * }</pre>
 */
public final class LitModel implements AutoCloseable, Evaluator.Embedder {
    /** The 7 prompt templates big_vision found best for zero-shot ImageNet ("clip_best"). */
    public static final String DEFAULT_TEMPLATES = "clip_best";

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
    }

    /** A retrieval hit: the row in the index, its id, the cosine similarity. */
    public record Hit(int row, String id, float score) {
    }

    private final Backends.Choice engine;
    private final TwoTower model;
    private final TextTokenizer tokenizer;
    private final Preprocess preprocess;
    private final int batchSize;
    private final Map<List<Object>, ZeroShotClassifier> classifiers = new ConcurrentHashMap<>();

    private LitModel(Backends.Choice engine, TwoTower model, TextTokenizer tokenizer, int batchSize) {
        this.engine = engine;
        this.model = model;
        this.tokenizer = tokenizer;
        this.batchSize = batchSize;
        this.preprocess = model.config().hasImage() ? Preprocess.bigVision(model.config().image().imageSize()) : null;
    }

    public static LitModel load(Path path) {
        return load(path, Options.defaults());
    }

    /** The name that means "the model lit4j ships" wherever a model path is asked for. */
    public static final String DEFAULT_MODEL = "default";

    /** The shipped default model (see models/default/MODEL_CARD.md). */
    public static LitModel loadDefault(Options options) {
        return load(DefaultModel.path(), options);
    }

    /** {@code "default"} or a path: the shipped model or any checkpoint. */
    public static LitModel open(String spec, Options options) {
        return spec == null || spec.equals(DEFAULT_MODEL) ? loadDefault(options) : load(Path.of(spec), options);
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
                    throw new LitException(path + ": no tokenizer.json beside the model; pass one (--tokenizer FILE)");
                }
                tok = TextTokenizer.load(tokPath);
                if (tok.vocabSize() > model.config().text().vocabSize()) {
                    throw new LitException(tokPath + ": the tokenizer has " + tok.vocabSize() + " tokens but the text tower only "
                            + model.config().text().vocabSize());
                }
            }
            return new LitModel(engine, model, tok, Math.max(1, options.batchSize()));
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
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        Path t = dir.resolve(LitFormat.TOKENIZER);
        return Files.isRegularFile(t) ? t : null;
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

    @Override
    public Preprocess preprocess() {
        return preprocess;
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

    /** L2-normalised embeddings ([n, dim], row-major) of image files. */
    public float[] embedImageFiles(List<Path> files) {
        List<float[]> pixels = new ArrayList<>(files.size());
        for (Path f : files) {
            try {
                pixels.add(Images.pixels(Files.readAllBytes(f), f.toString(), preprocess()));
            } catch (IOException e) {
                throw new LitException(f + ": cannot read: " + e.getMessage(), e);
            }
        }
        return embedPixelList(pixels);
    }

    /** Embeddings of decoded images. */
    public float[] embedImages(List<BufferedImage> images) {
        List<float[]> pixels = new ArrayList<>(images.size());
        for (BufferedImage im : images) {
            pixels.add(Images.toNhwc(im, preprocess()));
        }
        return embedPixelList(pixels);
    }

    /** Embeddings of pixels already preprocessed ([n, S, S, 3] NHWC floats, as {@link #preprocess()} makes them). */
    @Override
    public float[] embedPixels(float[] nhwc, int n) {
        int per = preprocess().floatsPerImage();
        if (nhwc.length != (long) n * per) {
            throw new LitException("embedPixels: " + nhwc.length + " floats are not " + n + " images of " + per);
        }
        float[] out = new float[n * embedDim()];
        for (int s = 0; s < n; s += batchSize) {
            int b = Math.min(batchSize, n - s);
            float[] chunk = Arrays.copyOfRange(nhwc, s * per, (s + b) * per);
            System.arraycopy(model.embedImages(chunk, b), 0, out, s * embedDim(), b * embedDim());
        }
        return out;
    }

    private float[] embedPixelList(List<float[]> pixels) {
        int per = preprocess().floatsPerImage();
        float[] all = new float[pixels.size() * per];
        for (int i = 0; i < pixels.size(); i++) {
            System.arraycopy(pixels.get(i), 0, all, i * per, per);
        }
        return embedPixels(all, pixels.size());
    }

    // ------------------------------------------------------------------ texts

    /** L2-normalised embeddings ([n, dim]) of texts, tokenized as the text tower expects. */
    @Override
    public float[] embedTexts(List<String> texts) {
        if (tokenizer == null) {
            throw new LitException("this model has no text tower");
        }
        int ctx = model.config().text().contextLength();
        TextTokenizer.Policy policy = model.config().text() instanceof BertConfig ? TextTokenizer.Policy.BERT : TextTokenizer.Policy.STICKY_EOS;
        int e = embedDim();
        float[] out = new float[texts.size() * e];
        for (int s = 0; s < texts.size(); s += 256) {
            List<String> part = texts.subList(s, Math.min(texts.size(), s + 256));
            TokenBatch tb = tokenizer.encode(part, ctx, policy);
            System.arraycopy(model.embedTexts(tb), 0, out, s * e, part.size() * e);
        }
        return out;
    }

    // ------------------------------------------------------------------ zero-shot and retrieval

    /**
     * A zero-shot classifier for {@code labels} (each "name" or "name,alias,alias") with templates
     * "clip_80", "clip_best" or a file of one template per line; built once per label set and reused.
     */
    public ZeroShotClassifier classifier(List<String> labels, String templates) {
        return classifier(labels, Templates.load(templates));
    }

    public ZeroShotClassifier classifier(List<String> labels, List<String> templates) {
        return classifiers.computeIfAbsent(List.of(List.copyOf(labels), List.copyOf(templates)), k -> {
            List<ZeroShotClassifier.Label> parsed = labels.stream().map(ZeroShotClassifier.Label::parse).toList();
            return ZeroShotClassifier.build(parsed, templates, embedDim(), temperature(), this::embedTexts);
        });
    }

    /** Top-{@code k} labels with probabilities for each image file. */
    public List<List<ZeroShotClassifier.Scored>> classify(List<Path> images, List<String> labels, String templates, int k) {
        return classifier(labels, templates).classify(embedImageFiles(images), k);
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
        if (tokenizer != null) {
            tokenizer.close();
        }
        model.close();
        engine.close();
    }
}

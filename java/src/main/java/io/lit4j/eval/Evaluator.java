package io.lit4j.eval;

import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.embed.TextEmbedder;
import io.lit4j.report.ProgressBar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * Zero-shot classification and retrieval over a caption dataset, for any model that can embed
 * pixels and texts (the public {@code LitModel}, or a model mid-tuning).
 */
public final class Evaluator {
    private Evaluator() {
    }

    /** What evaluation needs from a model: its temperature and the two ways into its embedding space. */
    public interface Embedder {
        float temperature();

        ImageEmbedder images();

        TextEmbedder texts();

        default int dim() {
            return images().dim();
        }
    }

    /** An {@link Embedder} of parts (the trainer's, for its model in training). */
    public static Embedder of(float temperature, ImageEmbedder images, TextEmbedder texts) {
        return new Embedder() {
            @Override
            public float temperature() {
                return temperature;
            }

            @Override
            public ImageEmbedder images() {
                return images;
            }

            @Override
            public TextEmbedder texts() {
                return texts;
            }
        };
    }

    /** Zero-shot accuracy on labelled images. */
    public record ZeroShot(String dataset, int n, double top1, double top5, List<String> classes, long[][] confusion) {
    }

    /** Retrieval recall on captioned images. */
    public record Retrieval(String dataset, int images, int texts, Metrics.Recall recall) {
    }

    /**
     * Classifies every labelled row of {@code ds} against {@code classes} (a row's label must equal
     * one of the names or aliases, case-insensitively).
     * Rows whose label is missing or unknown are an error naming the label.
     */
    public static ZeroShot zeroShot(Embedder m, CaptionDataset ds, String name, List<ZeroShotClassifier.Label> classes, List<String> templates,
                                    int limit, ProgressBar progress) {
        return zeroShot(m, ds, name, classes, templates, null, limit, progress);
    }

    /**
     * As above, with {@code labelToClass} mapping a row's label to its class index (for datasets
     * whose labels are not among the prompt names, e.g. Fashion-MNIST's "T-shirt/top"); null
     * matches labels against the class names and aliases.
     */
    public static ZeroShot zeroShot(Embedder m, CaptionDataset ds, String name, List<ZeroShotClassifier.Label> classes, List<String> templates,
                                    ToIntFunction<String> labelToClass, int limit, ProgressBar progress) {
        return zeroShot(m, ds, name, classes, templates, labelToClass, limit, progress, r -> true);
    }

    /** As above, over only the rows {@code include} accepts (e.g. a scenes split's held-out pairs). */
    public static ZeroShot zeroShot(Embedder m, CaptionDataset ds, String name, List<ZeroShotClassifier.Label> classes, List<String> templates,
                                    ToIntFunction<String> labelToClass, int limit, ProgressBar progress,
                                    Predicate<CaptionDataset.Row> include) {
        List<ZeroShotClassifier.Label> labels = List.copyOf(classes);
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int c = 0; c < labels.size(); c++) {
            index.putIfAbsent(labels.get(c).name().toLowerCase(Locale.ROOT), c);
            for (String a : labels.get(c).aliases()) {
                index.putIfAbsent(a.toLowerCase(Locale.ROOT), c);
            }
        }
        List<CaptionDataset.Row> rows = new ArrayList<>();
        for (CaptionDataset.Row r : ds.rows()) {
            if (limit > 0 && rows.size() >= limit) {
                break;
            }
            if (!include.test(r)) {
                continue;
            }
            if (r.label() == null) {
                throw new LitException(ds.source() + ": image " + r.image() + " has no \"label\"; zero-shot evaluation needs labelled images");
            }
            if (labelToClass == null && !index.containsKey(r.label().toLowerCase(Locale.ROOT))) {
                throw new LitException(ds.source() + ": image " + r.image() + " is labelled '" + r.label() + "', which is not among the "
                        + labels.size() + " classes");
            }
            rows.add(r);
        }
        ZeroShotClassifier clf = ZeroShotClassifier.build(labels, templates, m.dim(), m.temperature(), m.texts()::embed);
        float[] z = embed(m, ds, rows, progress);
        int[] truth = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            String label = rows.get(i).label();
            truth[i] = labelToClass != null ? labelToClass.applyAsInt(label) : index.get(label.toLowerCase(Locale.ROOT));
        }
        float[] scores = Embeddings.similarities(z, clf.classEmbeddings(), m.dim());
        int c = labels.size();
        int[] pred = clf.predict(z);
        return new ZeroShot(name, rows.size(), Metrics.topKAccuracy(scores, c, truth, 1), Metrics.topKAccuracy(scores, c, truth, Math.min(5, c)),
                labels.stream().map(ZeroShotClassifier.Label::name).toList(), Metrics.confusion(truth, pred, c));
    }

    /** The number of steps {@link #retrieval} reports to its progress bar: the images, then their captions. */
    public static long retrievalWork(CaptionDataset ds, int limit) {
        List<CaptionDataset.Row> rows = firstRows(ds, limit);
        return rows.size() + rows.stream().mapToLong(r -> r.captions().size()).sum();
    }

    /**
     * Recall@1/5/10 both ways over the rows of {@code ds} (every caption of every image). A caption
     * that repeats is embedded once (templated captions repeat: the reference test split's 10 000
     * captions are about 600 sentences); a text's embedding does not depend on the texts batched
     * with it, so the recalls are those of embedding every caption ({@code EvaluatorRetrievalTest}).
     */
    public static Retrieval retrieval(Embedder m, CaptionDataset ds, String name, int limit, ProgressBar progress) {
        List<CaptionDataset.Row> rows = firstRows(ds, limit);
        float[] zi = embed(m, ds, rows, progress);
        Map<String, Integer> distinct = new LinkedHashMap<>();
        List<Integer> owner = new ArrayList<>(), which = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            for (String cap : rows.get(i).captions()) {
                which.add(distinct.computeIfAbsent(cap, k -> distinct.size()));
                owner.add(i);
            }
        }
        float[] zd = m.texts().embed(List.copyOf(distinct.keySet()), progress::step);
        progress.step(which.size() - distinct.size());
        int d = m.dim();
        float[] zt = new float[Math.multiplyExact(which.size(), d)];
        for (int t = 0; t < which.size(); t++) {
            System.arraycopy(zd, which.get(t) * d, zt, t * d, d);
        }
        float[] sim = Embeddings.similarities(zi, zt, d);
        int[] own = owner.stream().mapToInt(Integer::intValue).toArray();
        return new Retrieval(name, rows.size(), which.size(), Metrics.recall(sim, rows.size(), which.size(), own, 1, 5, 10));
    }

    /** The first {@code limit} rows of {@code ds} (all of them when {@code limit <= 0}): what retrieval evaluates. */
    private static List<CaptionDataset.Row> firstRows(CaptionDataset ds, int limit) {
        return limit > 0 && ds.rows().size() > limit ? ds.rows().subList(0, limit) : ds.rows();
    }

    /** The embeddings of the images of {@code rows}, in order; an image that does not decode is an error naming it. */
    public static float[] embed(Embedder m, CaptionDataset ds, List<CaptionDataset.Row> rows, ProgressBar progress) {
        return m.images().embedAll(ImageSource.of(ds, rows.stream().map(CaptionDataset.Row::image).toList()), false, progress::step)
                .embeddings();
    }
}

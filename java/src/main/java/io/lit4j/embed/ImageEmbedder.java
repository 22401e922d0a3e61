package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.data.BadRows;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.model.TwoTower;

import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import java.util.function.LongConsumer;

/**
 * Images to embeddings, the one way lit4j does it (the API, the {@code embed}, {@code classify}
 * and {@code eval} commands, the trainer's embedding cache). Images are read and decoded on this
 * embedder's worker threads, a bounded window ahead and in input order, while the calling thread
 * runs the tower on full batches; files that cannot be read or decoded are either an error naming
 * the file or, when asked, skipped and reported. Memory holds at most {@code lookahead + 1}
 * batches of pixels however many images there are. One embedder serves many threads.
 */
public final class ImageEmbedder implements AutoCloseable {
    /** What turns preprocessed pixels into vectors: {@code n} NHWC images in, {@code [n, dim]} out. */
    @FunctionalInterface
    public interface Tower {
        float[] run(float[] pixels, int n);
    }

    /**
     * {@code batchSize}: images per forward pass; {@code workers}: decoding threads (0: decode on the
     * calling thread); {@code lookahead}: batches decoded ahead of the one being embedded.
     */
    public record Options(int batchSize, int workers, int lookahead) {
        public Options {
            if (batchSize < 1 || workers < 0 || workers > 256 || lookahead < 1 || lookahead > 16) {
                throw new LitException("image embedder: batch size " + batchSize + " (>= 1), workers " + workers + " (0..256), lookahead "
                        + lookahead + " (1..16)");
            }
        }

        public static Options of(int batchSize, int workers) {
            return new Options(batchSize, workers, 2);
        }
    }

    /** Receives each embedded batch in input order, and each image skipped. */
    public interface Sink {
        /** {@code indices[j]} (into the source) is the image of row {@code j} of {@code embeddings} ({@code [indices.length, dim]}). */
        void embedded(int[] indices, float[] embeddings);

        /** Image {@code index} could not be read or decoded (only when bad images are skipped). */
        default void skipped(int index, BadRows.Reason reason, String why) {
        }
    }

    /** All of a source's embeddings: rows for the images kept, in order, their indices and names, and what was skipped. */
    public record Result(float[] embeddings, int[] indices, List<String> names, BadRows skipped) {
    }

    private final int dim;
    private final Preprocess preprocess;
    private final Tower tower;
    private final Options options;
    private final ThreadPoolExecutor decoders;

    public ImageEmbedder(int dim, Preprocess preprocess, Tower tower, Options options) {
        this.dim = dim;
        this.preprocess = preprocess;
        this.tower = tower;
        this.options = options;
        if (options.workers() == 0) {
            this.decoders = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            this.decoders = new ThreadPoolExecutor(options.workers(), options.workers(), 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "lit4j-decode-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.decoders.allowCoreThreadTimeOut(true); // an idle embedder holds no threads
        }
    }

    /** A model's image tower: L2-normalised embeddings, pixels as the model's {@link TwoTower#preprocess()} says. */
    public static ImageEmbedder of(TwoTower model, Options options) {
        if (!model.config().hasImage()) {
            throw new LitException("this model has no image tower");
        }
        return new ImageEmbedder(model.config().embedDim(), model.preprocess(), model::embedImages, options);
    }

    public int dim() {
        return dim;
    }

    public Preprocess preprocess() {
        return preprocess;
    }

    /**
     * Embeds every image of {@code source}, streaming batches to {@code sink}. A bad image is an
     * error naming it unless {@code skipBad}; skipped ones are counted in the returned report.
     * {@code progress} hears the number of images done (embedded or skipped) as they are.
     */
    public BadRows embed(ImageSource source, boolean skipBad, Sink sink, LongConsumer progress) {
        return embed(source, i -> skipBad, sink, progress);
    }

    /** As above, with bad image {@code i} skipped only where {@code skipBad} accepts {@code i} (e.g. images listed from a folder). */
    public BadRows embed(ImageSource source, IntPredicate skipBad, Sink sink, LongConsumer progress) {
        int n = source.size(), per = preprocess.floatsPerImage(), batch = options.batchSize();
        int window = Math.multiplyExact(options.lookahead(), batch);
        BadRows bad = new BadRows();
        ArrayDeque<Future<float[]>> inFlight = new ArrayDeque<>();
        float[] pixels = new float[Math.multiplyExact(Math.min(batch, Math.max(n, 1)), per)];
        int[] rows = new int[batch];
        int filled = 0, next = 0;
        try {
            for (int i = 0; i < n; i++) {
                while (next < n && next < i + window) {
                    inFlight.addLast(decode(source, next++));
                }
                float[] image;
                try {
                    image = await(inFlight.pollFirst());
                } catch (LitException e) {
                    if (!skipBad.test(i)) {
                        throw e;
                    }
                    BadRows.Reason reason = BadRows.Reason.forImage(e.getMessage());
                    bad.add(reason, source.name(i), -1, e.getMessage());
                    sink.skipped(i, reason, e.getMessage());
                    progress.accept(1);
                    continue;
                }
                System.arraycopy(image, 0, pixels, filled * per, per);
                rows[filled++] = i;
                if (filled == batch) {
                    sink.embedded(rows.clone(), tower.run(pixels, filled));
                    progress.accept(filled);
                    filled = 0;
                }
            }
            if (filled > 0) {
                sink.embedded(Arrays.copyOf(rows, filled), tower.run(Arrays.copyOf(pixels, filled * per), filled));
                progress.accept(filled);
            }
            return bad;
        } finally {
            inFlight.forEach(f -> f.cancel(false));
        }
    }

    /** Embeds every image of {@code source} and collects the result (see {@link #embed(ImageSource, boolean, Sink, LongConsumer)}). */
    public Result embedAll(ImageSource source, boolean skipBad, LongConsumer progress) {
        return embedAll(source, i -> skipBad, progress);
    }

    /** As above, skipping bad image {@code i} only where {@code skipBad} accepts {@code i}. */
    public Result embedAll(ImageSource source, IntPredicate skipBad, LongConsumer progress) {
        List<float[]> parts = new ArrayList<>();
        List<int[]> kept = new ArrayList<>();
        BadRows bad = embed(source, skipBad, (rows, z) -> {
            kept.add(rows);
            parts.add(z);
        }, progress);
        int total = kept.stream().mapToInt(r -> r.length).sum();
        float[] all = new float[Math.multiplyExact(total, dim)];
        int[] indices = new int[total];
        int at = 0;
        for (int p = 0; p < parts.size(); p++) {
            System.arraycopy(parts.get(p), 0, all, at * dim, kept.get(p).length * dim);
            System.arraycopy(kept.get(p), 0, indices, at, kept.get(p).length);
            at += kept.get(p).length;
        }
        List<String> names = Arrays.stream(indices).mapToObj(source::name).toList();
        return new Result(all, indices, names, bad);
    }

    /** Embeddings ({@code [n, dim]}) of every image of {@code source}; any bad image is an error naming it. */
    public float[] embedAll(ImageSource source) {
        return embedAll(source, false, done -> { }).embeddings();
    }

    /** Embeddings of images already decoded, in batches. */
    public float[] embedDecoded(List<BufferedImage> images) {
        int per = preprocess.floatsPerImage(), batch = options.batchSize();
        float[] out = new float[Math.multiplyExact(images.size(), dim)];
        for (int s = 0; s < images.size(); s += batch) {
            int b = Math.min(batch, images.size() - s);
            float[] px = new float[b * per];
            for (int i = 0; i < b; i++) {
                Images.toNhwc(images.get(s + i), preprocess, px, i * per);
            }
            System.arraycopy(tower.run(px, b), 0, out, s * dim, b * dim);
        }
        return out;
    }

    /** Embeddings of {@code n} images already preprocessed ({@code [n, S, S, 3]} NHWC floats), in batches. */
    public float[] embedPixels(float[] nhwc, int n) {
        int per = preprocess.floatsPerImage(), batch = options.batchSize();
        if (nhwc.length != (long) n * per) {
            throw new LitException("embedPixels: " + nhwc.length + " floats are not " + n + " images of " + per);
        }
        if (n <= batch) {
            return tower.run(nhwc, n);
        }
        float[] out = new float[Math.multiplyExact(n, dim)];
        for (int s = 0; s < n; s += batch) {
            int b = Math.min(batch, n - s);
            System.arraycopy(tower.run(Arrays.copyOfRange(nhwc, s * per, (s + b) * per), b), 0, out, s * dim, b * dim);
        }
        return out;
    }

    private Future<float[]> decode(ImageSource source, int i) {
        FutureTask<float[]> task = new FutureTask<>(() -> {
            try {
                return Images.pixels(source.read(i), source.name(i), preprocess);
            } catch (RuntimeException e) {
                if (e instanceof LitException) {
                    throw e;
                }
                throw new LitException(source.name(i) + ": cannot decode: " + e, e); // a decoder bug: still name the file
            }
        });
        if (decoders != null) {
            decoders.execute(task);
        }
        return task;
    }

    private static float[] await(Future<float[]> f) {
        if (f instanceof FutureTask<float[]> t && !t.isDone()) {
            t.run(); // no workers, or not started yet: decode here (a task runs at most once)
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LitException("interrupted while decoding images", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof LitException le) {
                throw le;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new LitException("decoding an image failed: " + c, c);
        }
    }

    /** Stops the decoding threads. */
    @Override
    public void close() {
        if (decoders != null) {
            decoders.shutdownNow();
        }
    }
}

package io.lit4j.data;

import io.lit4j.LitException;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An endless, deterministic stream of training batches from a {@link CaptionDataset}.
 *
 * <p><b>Order.</b> Epoch {@code e} visits the rows in a permutation drawn by a Fisher-Yates
 * shuffle driven by SplitMix64 seeded from {@code (seed, e)} (both specified here, so the order
 * never changes with the JDK). A row with several captions uses caption
 * {@link #captionIndex(long, int, int, int)}, a hash of {@code (seed, epoch, row)}. Batches do
 * not stop at epoch ends: a batch that reaches the end of epoch {@code e} is filled from the
 * start of epoch {@code e + 1} (as big_vision's repeated input pipeline does), so every batch has
 * exactly {@code batchSize} rows; {@link Batch#epoch()} is the epoch of its first row. With fewer
 * rows than {@code batchSize}, or at an epoch seam, a row can appear twice in one batch.
 *
 * <p><b>Bad rows.</b> A row whose caption is longer than the context, or whose image cannot be
 * read or decoded, is skipped (the batch is filled from the following rows) and counted once
 * per (row, reason) in {@link #report()}. Skips depend only on the data, so they are
 * deterministic too. If two epochs' worth of consecutive rows all fail, {@link #next()} throws.
 *
 * <p><b>Resume.</b> {@link #state()} after k batches, passed as {@code start} to a new stream
 * over the same dataset and settings, continues with batch k+1 exactly. The report is not part of
 * the state: a resumed stream counts only what it sees.
 *
 * <p><b>Threads.</b> Reading, decoding and resizing run on {@code workers} daemon threads of an
 * executor owned by this object ({@code workers == 0}: on the caller's thread), with up to
 * {@code lookahead} batches in flight; results are consumed strictly in order, so the output is
 * the same for any number of workers. {@link #next()} is for one consumer thread.
 * {@link #close()} stops the workers (it does not close the dataset or the tokenizer).
 */
public final class TrainBatches implements AutoCloseable {
    /** Where a stream is: the next row is {@code order(epoch)[position]}; {@code batches} served so far. */
    public record State(int epoch, int position, long batches) {
        public static final State START = new State(0, 0, 0);

        public State {
            if (epoch < 0 || position < 0 || batches < 0) {
                throw new LitException("batch stream state: negative field in " + epoch + "/" + position + "/" + batches);
            }
        }
    }

    /**
     * One batch: {@code pixels} is {@code B * S * S * 3} floats (NHWC) or null when pixels are not
     * decoded ({@link Options#decodePixels()} false); {@code epoch} is the epoch of the first row.
     */
    public record Batch(int[] rowIndices, String[] imageIds, float[] pixels, TokenBatch tokens, int epoch) {
        public int size() {
            return rowIndices.length;
        }
    }

    /**
     * Less common settings. {@code decodePixels = false} skips reading and decoding images entirely
     * (for training against cached image embeddings: only row indices, image ids and tokens are
     * produced; images that would not decode are then not detected, so the stream can differ from
     * a pixel stream over a dataset with broken images, unless those rows are listed in
     * {@code badImages}). {@code lookahead}: batches in flight, 1..16. {@code badImages}: rows
     * already known not to decode (row index to reason), skipped as {@link BadRows.Reason#BAD_IMAGE}
     * in either mode, e.g. those a locked tower's embedding cache could not embed.
     */
    public record Options(boolean decodePixels, int lookahead, Map<Integer, String> badImages) {
        public static final Options DEFAULT = new Options(true, 2, Map.of());

        public Options {
            if (lookahead < 1 || lookahead > 16) {
                throw new LitException("batch stream: lookahead " + lookahead + " is outside 1..16");
            }
            badImages = Map.copyOf(badImages);
        }

        public Options withoutPixels() {
            return new Options(false, lookahead, badImages);
        }

        public Options withLookahead(int n) {
            return new Options(decodePixels, n, badImages);
        }

        public Options withBadImages(Map<Integer, String> rows) {
            return new Options(decodePixels, lookahead, rows);
        }
    }

    private sealed interface Result permits Ok, Bad {
    }

    private record Ok(int row, int[] ids, float[] pixels) implements Result {
    }

    private record Bad(int row, BadRows.Reason reason, String detail) implements Result {
    }

    private record Pending(int epoch, int position, int row, FutureTask<Result> task) {
    }

    private final CaptionDataset ds;
    private final Preprocess pp;
    private final TextTokenizer tok;
    private final int contextLength;
    private final TextTokenizer.Policy policy;
    private final int batchSize;
    private final long seed;
    private final Options options;
    private final int n;
    private final ThreadPoolExecutor executor;
    private final int window;
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    private final Map<Integer, int[]> orders = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, int[]> eldest) {
            return size() > 4;
        }
    };
    private final BadRows report = new BadRows();
    private final Set<Long> reported = new HashSet<>();
    private final Map<Integer, Bad> badImages = new ConcurrentHashMap<>();

    // consumer cursor (what state() reports) and producer cursor (next row to schedule)
    private int epoch;
    private int position;
    private long batches;
    private int prodEpoch;
    private int prodPosition;
    private boolean closed;

    /** A stream with {@link Options#DEFAULT} (pixels decoded, 2 batches of look-ahead). */
    public TrainBatches(CaptionDataset ds, Preprocess pp, TextTokenizer tok, int contextLength,
                        TextTokenizer.Policy policy, int batchSize, long seed, int workers, State start) {
        this(ds, pp, tok, contextLength, policy, batchSize, seed, workers, start, Options.DEFAULT);
    }

    /** {@code pp} may be null when {@code options.decodePixels()} is false. */
    public TrainBatches(CaptionDataset ds, Preprocess pp, TextTokenizer tok, int contextLength,
                        TextTokenizer.Policy policy, int batchSize, long seed, int workers, State start, Options options) {
        if (ds.size() == 0) {
            throw new LitException(ds.source() + ": no usable rows to train on (" + ds.badRows().summary() + ")");
        }
        for (CaptionDataset.Row r : ds.rows()) {
            if (r.captions().isEmpty()) {
                throw new LitException(ds.source() + ": row " + r.index() + " (" + r.image()
                        + ") has no caption - a training stream needs a captioned dataset");
            }
        }
        if (batchSize < 1) {
            throw new LitException("batch stream: batch size " + batchSize + " < 1");
        }
        if (workers < 0 || workers > 256) {
            throw new LitException("batch stream: workers " + workers + " is outside 0..256");
        }
        if (options.decodePixels() && pp == null) {
            throw new LitException("batch stream: decoding pixels needs a Preprocess");
        }
        if (contextLength < 2) {
            throw new LitException("batch stream: context length " + contextLength + " < 2");
        }
        tok.encodeSingle("", contextLength, policy); // fails now if the vocabulary lacks [CLS] / EOS
        this.ds = ds;
        this.pp = pp;
        this.tok = tok;
        this.contextLength = contextLength;
        this.policy = policy;
        this.batchSize = batchSize;
        this.seed = seed;
        this.options = options;
        this.n = ds.size();
        State s = start == null ? State.START : start;
        if (s.position() > n) {
            throw new LitException("batch stream: state position " + s.position() + " is past the " + n
                    + " rows of " + ds.source() + " - a state from another dataset?");
        }
        this.epoch = s.position() == n ? s.epoch() + 1 : s.epoch();
        this.position = s.position() == n ? 0 : s.position();
        this.batches = s.batches();
        this.prodEpoch = epoch;
        this.prodPosition = position;
        this.window = Math.multiplyExact(options.lookahead(), batchSize);
        if (workers == 0) {
            this.executor = null;
        } else {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory tf = r -> {
                Thread t = new Thread(r, "lit4j-data-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            this.executor = new ThreadPoolExecutor(workers, workers, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), tf);
            this.executor.allowCoreThreadTimeOut(true);
        }
    }

    /** The next batch of exactly {@code batchSize} rows. */
    public Batch next() {
        if (closed) {
            throw new LitException("batch stream is closed");
        }
        int[] rows = new int[batchSize];
        String[] ids = new String[batchSize];
        int[] tokens = new int[batchSize * contextLength];
        float[] pixels = options.decodePixels() ? new float[Math.multiplyExact(batchSize, pp.floatsPerImage())] : null;
        int firstEpoch = -1;
        int filled = 0;
        long failuresInARow = 0;
        int curEpoch = epoch;
        int curPosition = position;
        while (filled < batchSize) {
            fill();
            Pending p = inFlight.pollFirst();
            fill();
            Result r = await(p);
            curEpoch = p.position() + 1 == n ? p.epoch() + 1 : p.epoch();
            curPosition = p.position() + 1 == n ? 0 : p.position() + 1;
            switch (r) {
                case Ok ok -> {
                    if (firstEpoch < 0) {
                        firstEpoch = p.epoch();
                    }
                    rows[filled] = ok.row();
                    ids[filled] = ds.row(ok.row()).image();
                    System.arraycopy(ok.ids(), 0, tokens, filled * contextLength, contextLength);
                    if (pixels != null) {
                        System.arraycopy(ok.pixels(), 0, pixels, filled * pp.floatsPerImage(), pp.floatsPerImage());
                    }
                    filled++;
                    failuresInARow = 0;
                }
                case Bad bad -> {
                    if (reported.add(((long) bad.row() << 8) | bad.reason().ordinal())) {
                        report.add(bad.reason(), ds.row(bad.row()).image(), -1, bad.detail());
                    }
                    if (++failuresInARow >= 2L * n) {
                        // leave the stream where it stopped so state() stays meaningful
                        epoch = curEpoch;
                        position = curPosition;
                        throw new LitException(ds.source() + ": every row failed for two epochs in a row - nothing to train on ("
                                + report.summary() + ")");
                    }
                }
            }
        }
        epoch = curEpoch;
        position = curPosition;
        batches++;
        return new Batch(rows, ids, pixels, new TokenBatch(tokens, batchSize, contextLength), firstEpoch);
    }

    /** Where the stream is after the batches returned so far. */
    public State state() {
        return new State(epoch, position, batches);
    }

    /** Rows skipped so far, once per (row, reason). */
    public BadRows report() {
        return report;
    }

    /** The visiting order of an epoch: a permutation of {@code 0 .. size-1}. */
    public int[] order(int epoch) {
        return permutation(seed, epoch, n);
    }

    /** The permutation of {@code 0 .. n-1} for {@code (seed, epoch)}: Fisher-Yates over SplitMix64. */
    public static int[] permutation(long seed, int epoch, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplitMix rng = new SplitMix(mix64(mix64(seed) + 0x9E3779B97F4A7C15L * (epoch + 1L)));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Which of {@code count} captions row {@code row} uses in {@code epoch}. */
    public static int captionIndex(long seed, int epoch, int row, int count) {
        if (count <= 1) {
            return 0;
        }
        long h = mix64(mix64(mix64(seed ^ 0x632BE59BD9B4E019L) + epoch) + row);
        return (int) Long.remainderUnsigned(h, count);
    }

    /** SplitMix64's output function (Steele, Lea, Flood 2014). */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** SplitMix64: fixed here so the shuffle never depends on the JDK's generators. */
    static final class SplitMix {
        private long state;

        SplitMix(long seed) {
            this.state = seed;
        }

        long nextLong() {
            state += 0x9E3779B97F4A7C15L;
            return mix64(state);
        }

        /** Uniform in {@code [0, bound)}, by rejection (no modulo bias). */
        int nextInt(int bound) {
            long r;
            long m;
            do {
                r = nextLong() >>> 1;
                m = r % bound;
            } while (r - m + (bound - 1) < 0);
            return (int) m;
        }
    }

    private int[] orderCached(int e) {
        return orders.computeIfAbsent(e, k -> permutation(seed, k, n));
    }

    /** Schedules rows until {@code window} are in flight. */
    private void fill() {
        while (inFlight.size() < window) {
            int e = prodEpoch;
            int pos = prodPosition;
            int row = orderCached(e)[pos];
            FutureTask<Result> task = new FutureTask<>(() -> load(e, row));
            inFlight.addLast(new Pending(e, pos, row, task));
            if (executor != null) {
                executor.execute(task);
            }
            if (++prodPosition == n) {
                prodPosition = 0;
                prodEpoch++;
            }
        }
    }

    private Result await(Pending p) {
        FutureTask<Result> t = p.task();
        if (executor == null) {
            t.run();
        }
        try {
            return t.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LitException("batch stream interrupted while waiting for row " + p.row(), e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Error err) {
                throw err;
            }
            throw new LitException(ds.source() + ": data worker failed on row " + p.row() + " ("
                    + ds.row(p.row()).image() + "): " + c, c);
        }
    }

    /** Runs on a worker: tokenize, then read and decode. Data problems become {@link Bad}. */
    private Result load(int e, int row) {
        CaptionDataset.Row r = ds.row(row);
        String caption = r.captions().get(captionIndex(seed, e, row, r.captions().size()));
        TextTokenizer.Single s = tok.encodeSingle(caption, contextLength, policy);
        if (s.tooLong()) {
            return new Bad(row, BadRows.Reason.CAPTION_TOO_LONG, s.length() + " tokens > context " + contextLength
                    + ": \"" + abbreviate(caption) + "\"");
        }
        Bad before = badImages.get(row);
        if (before != null) {
            return before; // decoding is deterministic: it would fail the same way again
        }
        String known = options.badImages().get(row);
        if (known != null) {
            return new Bad(row, BadRows.Reason.BAD_IMAGE, known);
        }
        if (!options.decodePixels()) {
            return new Ok(row, s.ids(), null);
        }
        try {
            byte[] bytes = ds.readImage(r.image());
            return new Ok(row, s.ids(), Images.pixels(bytes, r.image(), pp));
        } catch (LitException ex) {
            Bad bad = new Bad(row, BadRows.Reason.forImage(ex.getMessage()), ex.getMessage());
            badImages.put(row, bad);
            return bad;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Pending p : inFlight) {
            p.task().cancel(false);
        }
        inFlight.clear();
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}

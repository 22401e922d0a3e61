package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.data.Images;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;

import java.awt.image.BufferedImage;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Dynamic micro-batching for services: concurrent single requests (a text, an image) are gathered
 * into batches and embedded by one model thread, so many callers share one forward pass. Each
 * tower has a bounded queue; the one model thread (oneDNN already uses every core, so two batches
 * at once would only fight) follows DJL Serving's policy: block for the first request, take what
 * is queued behind it, then wait at most {@link Options#maxDelay} for more (by default not at all,
 * so an idle service answers at once). A text batch is bounded by a count and by a budget of real
 * tokens (as HuggingFace text-embeddings-inference counts them: each text's tokenized length, at
 * most the tower's fixed context length); an image batch by a count. Tokenizing and decoding
 * happen on the caller's thread, never on the model thread.
 *
 * <p>A request carries a deadline: one still queued when it passes is not run and completes with
 * {@link DeadlineExceeded}. {@link CompletableFuture#cancel Cancelling} a returned future takes a
 * queued request off its queue. A full queue refuses with {@link QueueFull}. Futures complete on
 * the model thread: attach heavy work with the {@code *Async} methods.
 *
 * <p><b>The numbers cannot depend on who else was in the batch.</b> A batched embedding is the
 * same, bit for bit, as {@code LitModel.embedTexts(List.of(text))} or {@code embedImages(List.of(image))},
 * because no row's arithmetic depends on the batch size M: every text is padded to the tower's fixed
 * context length (never to the longest text of the batch), so each row sees the same shapes;
 * attention, LayerNorm, pooling and the L2 norm work per sequence or per row; and each matmul runs
 * on weights packed once into one blocked layout, whose blocking fixes the order in which every
 * output element sums over K whatever the number of rows (and the model thread runs a small batch
 * on one thread only where that was found to give the same bits, see {@link Options#smallBatchRows}). {@code BatchRowIndependenceTest} holds
 * oneDNN (fp32 and bf16, 2 and 8 threads) and the scalar oracle to this (batch 1 against odd sizes
 * and 32); the same held at BERT-base and text-B shapes with 2 to 64 oneDNN threads. A kernel choice that made
 * a row depend on M (a batch-1 fast path, say) would have to keep it, or this class would have to
 * run fixed batch shapes.
 *
 * <p>{@link #close()} is graceful: it refuses new requests ({@link Closed}), finishes every request
 * already queued, and returns when the model thread has stopped.
 */
public final class Batcher implements AutoCloseable {
    /** The tower names a {@link Listener} hears. */
    public static final String TEXT = "text", IMAGE = "image";

    /**
     * How batches form and run. {@code maxBatchTexts} and {@code maxBatchTokens} (real tokens,
     * summed) bound a text batch, {@code maxBatchImages} an image batch; {@code maxDelay}: how long
     * a batch waits for more requests once its first has been taken (zero: not at all);
     * {@code queueCapacity}: requests each tower's queue holds before it refuses with {@link QueueFull}.
     *
     * <p>{@code smallBatchRows}: a batch whose forward pass has at most this many rows (texts × the
     * text tower's context length, every text being padded to it; images × the image tower's
     * tokens) runs on a team of one thread instead of the backend's whole team (0: never). Such a
     * batch is too small to pay for waking and joining the other threads at each of its ops, and
     * when another process holds a core a team waits for its descheduled thread at every op; a
     * team of one runs each op inline and leaves the other cores to the service's HTTP threads.
     * A batch size runs on one thread only once one synthetic batch of that size has given the
     * whole team's bits there (oneDNN splits a long reduction over the threads at some shapes,
     * which changes the last bits: {@code TeamSizeTest}); the default towers pass at every small
     * size ({@code BatchRowIndependenceTest}). A backend with one thread, or without teams (scalar),
     * is left alone.
     *
     * <p>{@code idleSpin}: how long the model thread, its queues empty after a batch, keeps polling
     * for the next request before it parks (zero: it parks at once). A request that arrives
     * within it starts without a wake-up of the model thread, at the cost of that much CPU per idle
     * period; it adds no delay to anything.
     */
    public record Options(int maxBatchTexts, int maxBatchTokens, int maxBatchImages, Duration maxDelay, int queueCapacity,
                          int smallBatchRows, Duration idleSpin) {
        public Options {
            if (maxBatchTexts < 1 || maxBatchTokens < 1 || maxBatchImages < 1 || queueCapacity < 1 || maxDelay == null
                    || maxDelay.isNegative()) {
                throw new LitException("batcher: max batch texts " + maxBatchTexts + ", tokens " + maxBatchTokens + ", images "
                        + maxBatchImages + " and queue capacity " + queueCapacity + " must be >= 1, max delay " + maxDelay
                        + " >= 0");
            }
            if (smallBatchRows < 0 || idleSpin == null || idleSpin.isNegative()) {
                throw new LitException("batcher: small batch rows " + smallBatchRows + " and idle spin " + idleSpin + " must be >= 0");
            }
        }

        /**
         * 64 texts or 16384 tokens, 32 images, no delay, 1024 requests per queue; batches of at
         * most {@value #SMALL_BATCH_ROWS} rows on one thread; no idle spin.
         */
        public static Options defaults() {
            return new Options(64, 16384, 32, Duration.ZERO, 1024, SMALL_BATCH_ROWS, Duration.ZERO);
        }

        /**
         * The default {@code smallBatchRows}: the default model's text tower has 24 positions, so one
         * or two texts (24 to 48 rows of width 128) run on one thread; an image (65 rows) and a
         * larger tower's single text (BERT's 128 positions) keep the whole team.
         */
        public static final int SMALL_BATCH_ROWS = 64;

        public Options withMaxBatchTexts(int n) {
            return new Options(n, maxBatchTokens, maxBatchImages, maxDelay, queueCapacity, smallBatchRows, idleSpin);
        }

        public Options withMaxBatchTokens(int n) {
            return new Options(maxBatchTexts, n, maxBatchImages, maxDelay, queueCapacity, smallBatchRows, idleSpin);
        }

        public Options withMaxBatchImages(int n) {
            return new Options(maxBatchTexts, maxBatchTokens, n, maxDelay, queueCapacity, smallBatchRows, idleSpin);
        }

        public Options withMaxDelay(Duration d) {
            return new Options(maxBatchTexts, maxBatchTokens, maxBatchImages, d, queueCapacity, smallBatchRows, idleSpin);
        }

        public Options withQueueCapacity(int n) {
            return new Options(maxBatchTexts, maxBatchTokens, maxBatchImages, maxDelay, n, smallBatchRows, idleSpin);
        }

        public Options withSmallBatchRows(int rows) {
            return new Options(maxBatchTexts, maxBatchTokens, maxBatchImages, maxDelay, queueCapacity, rows, idleSpin);
        }

        public Options withIdleSpin(Duration d) {
            return new Options(maxBatchTexts, maxBatchTokens, maxBatchImages, maxDelay, queueCapacity, smallBatchRows, d);
        }
    }

    /**
     * The backend's thread team as the model thread sizes it for each batch: {@code threads} in
     * all, {@code use} sets the calling thread's team ({@code Backend.useThreads}), and
     * {@code imageRows} is the rows of one image's forward pass (the image tower's tokens; 0 when
     * unknown, which keeps image batches on the whole team).
     */
    public record Team(int threads, IntConsumer use, int imageRows) {
        /** A backend whose team the batcher leaves alone. */
        public static final Team FIXED = new Team(1, n -> { }, 0);

        public Team {
            if (threads < 1 || use == null || imageRows < 0) {
                throw new LitException("batcher: a team of " + threads + " threads (>= 1), " + imageRows + " rows an image (>= 0)");
            }
        }
    }

    /**
     * One request's embedding (L2-normalised, dim floats) and how it was made: nanoseconds from
     * being queued to its batch starting, the batch's forward pass, the batch's size and real
     * tokens (0 for images).
     */
    public record Embedded(float[] vector, long queueNanos, long inferenceNanos, int batchSize, int batchTokens) {
    }

    /** Hears every batch the model thread runs (for metrics); called on the model thread, so keep it quick. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = (tower, size, tokens, queueNanosMax, inferenceNanos) -> { };

        void batch(String tower, int size, int tokens, long queueNanosMax, long inferenceNanos);
    }

    /** What {@link #warm} did: forward passes run, time taken, and whether the JIT had settled (else the time ran out). */
    public record Warmup(int passes, Duration took, boolean settled) {
    }

    /** A tower's queue was full: the request was not taken (a service answers 429). */
    public static final class QueueFull extends LitException {
        QueueFull(String message) {
            super(message);
        }
    }

    /** A request's deadline passed before it could run: it was not run (a service answers 503). */
    public static final class DeadlineExceeded extends LitException {
        DeadlineExceeded(String message) {
            super(message);
        }
    }

    /** The batcher was closed: it takes no new requests. */
    public static final class Closed extends LitException {
        Closed(String message) {
            super(message);
        }
    }

    /** A request waiting for its batch: its inputs, its deadline, and when it was queued. */
    private final class Pending extends CompletableFuture<Embedded> {
        final Queue queue;
        final int[] ids;         // texts: one row of context-length ids
        final float[] pixels;    // images: one preprocessed NHWC image
        final int tokens;
        final Instant deadline;
        long queuedAt;

        Pending(Queue queue, int[] ids, float[] pixels, int tokens, Instant deadline) {
            this.queue = queue;
            this.ids = ids;
            this.pixels = pixels;
            this.tokens = tokens;
            this.deadline = deadline;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                withdraw(this);
            }
            return cancelled;
        }
    }

    /** One tower's bounded queue and the size of its batches. */
    private static final class Queue {
        final String tower;
        final int maxCount;
        final ArrayDeque<Pending> waiting = new ArrayDeque<>();

        Queue(String tower, int maxCount) {
            this.tower = tower;
            this.maxCount = maxCount;
        }
    }

    private final TextEmbedder texts;     // null without a text tower
    private final ImageEmbedder images;   // null without an image tower
    private final Options options;
    private final Team team;
    private int teamInUse;                // the model thread's team size now (0: not set yet); model thread only
    private final Map<List<Object>, Boolean> oneThreadIsExact = new HashMap<>(); // (tower, batch size) -> verdict; model thread only
    private final Queue textQueue, imageQueue;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<FutureTask<?>> chores = new ArrayDeque<>(); // work for the model thread: warming; guarded by lock
    private boolean closed;                                             // guarded by lock
    private volatile long arrivals;       // requests and chores queued, and closing: what an idle spin watches; written under lock
    private volatile Listener listener = Listener.NONE;
    private final Thread modelThread;

    /** A batcher over a model's towers ({@code texts} or {@code images} may be null where the model has none) that leaves the backend's team alone. */
    public Batcher(TextEmbedder texts, ImageEmbedder images, Options options) {
        this(texts, images, options, Team.FIXED);
    }

    /** A batcher whose model thread sizes the backend's {@code team} for each batch ({@link Options#smallBatchRows}). */
    public Batcher(TextEmbedder texts, ImageEmbedder images, Options options, Team team) {
        if (texts != null && options.maxBatchTokens() < texts.contextLength()) {
            throw new LitException("batcher: max batch tokens " + options.maxBatchTokens() + " is less than the text tower's context length "
                    + texts.contextLength() + ", so a long text could never run");
        }
        this.texts = texts;
        this.images = images;
        this.options = options;
        this.team = team;
        this.textQueue = new Queue(TEXT, options.maxBatchTexts());
        this.imageQueue = new Queue(IMAGE, options.maxBatchImages());
        this.modelThread = Thread.ofPlatform().name("lit4j-batcher").daemon().start(this::serve);
    }

    public Options options() {
        return options;
    }

    /** Hears every batch from now on ({@link Listener#NONE} to stop). */
    public void setListener(Listener l) {
        listener = l == null ? Listener.NONE : l;
    }

    /**
     * The embedding of {@code text}, tokenized here on the caller's thread, embedded in the next
     * text batch with room for it. The future fails with {@link QueueFull}, {@link DeadlineExceeded}
     * or {@link Closed}; a null text, or a model without a text tower, throws at once.
     */
    public CompletableFuture<Embedded> text(String text, Instant deadline) {
        if (texts == null) {
            throw new LitException("this model has no text tower");
        }
        if (text == null || deadline == null) {
            throw new LitException("batcher: a text request needs a text and a deadline");
        }
        if (!deadline.isAfter(Instant.now())) {
            return CompletableFuture.failedFuture(expired(TEXT, deadline));
        }
        TextTokenizer.Encoded e = texts.encode(List.of(text));
        int tokens = Math.min(e.lengths()[0], texts.contextLength());
        return submit(new Pending(textQueue, e.batch().ids(), null, tokens, deadline));
    }

    /**
     * The embedding of a decoded image, preprocessed here on the caller's thread, embedded in the
     * next image batch with room for it. Failures as for {@link #text}.
     */
    public CompletableFuture<Embedded> image(BufferedImage decoded, Instant deadline) {
        if (images == null) {
            throw new LitException("this model has no image tower");
        }
        if (decoded == null || deadline == null) {
            throw new LitException("batcher: an image request needs an image and a deadline");
        }
        if (!deadline.isAfter(Instant.now())) {
            return CompletableFuture.failedFuture(expired(IMAGE, deadline));
        }
        return submit(new Pending(imageQueue, null, Images.toNhwc(decoded, images.preprocess()), 0, deadline));
    }

    /** Text requests waiting for a batch. */
    public int queuedTexts() {
        return queued(textQueue);
    }

    /** Image requests waiting for a batch. */
    public int queuedImages() {
        return queued(imageQueue);
    }

    private int queued(Queue q) {
        lock.lock();
        try {
            return q.waiting.size();
        } finally {
            lock.unlock();
        }
    }

    private CompletableFuture<Embedded> submit(Pending p) {
        lock.lock();
        try {
            if (closed) {
                p.completeExceptionally(new Closed("batcher: closed, no new " + p.queue.tower + " requests"));
            } else if (p.queue.waiting.size() >= options.queueCapacity()) {
                p.completeExceptionally(new QueueFull("batcher: the " + p.queue.tower + " queue is full (" + options.queueCapacity()
                        + " requests waiting)"));
            } else {
                p.queuedAt = System.nanoTime();
                p.queue.waiting.addLast(p);
                arrivals++;
                arrived.signal();
            }
        } finally {
            lock.unlock();
        }
        return p;
    }

    private void withdraw(Pending p) {
        lock.lock();
        try {
            p.queue.waiting.remove(p);
        } finally {
            lock.unlock();
        }
    }

    private static DeadlineExceeded expired(String tower, Instant deadline) {
        return new DeadlineExceeded("batcher: the " + tower + " request's deadline " + deadline + " passed before it could run");
    }

    // ------------------------------------------------------------------ the model thread

    /** A batch taken off one queue, and the requests found expired while taking it (to fail outside the lock). */
    private record Batch(Queue queue, List<Pending> requests, List<Pending> expired, FutureTask<?> chore) {
    }

    private void serve() {
        while (true) {
            Batch b = next();
            if (b == null) {
                return;
            }
            if (b.chore() != null) {
                b.chore().run();
                continue;
            }
            b.expired().forEach(p -> p.completeExceptionally(expired(p.queue.tower, p.deadline)));
            run(b.queue(), b.requests());
        }
    }

    /** Blocks for the first request, takes what is queued behind it, then waits up to maxDelay for more; null once closed and drained. */
    private Batch next() {
        long spin = options.idleSpin().toNanos();
        lock.lock();
        try {
            while (true) {
                while (textQueue.waiting.isEmpty() && imageQueue.waiting.isEmpty() && chores.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    if (spin > 0) {
                        long seen = arrivals;
                        lock.unlock();
                        try {
                            spinWhile(seen, spin);
                        } finally {
                            lock.lock();
                        }
                        spin = 0; // once per idle period; then park
                        continue;
                    }
                    arrived.awaitUninterruptibly();
                }
                if (!chores.isEmpty()) {
                    return new Batch(null, List.of(), List.of(), chores.pollFirst());
                }
                Queue q = oldestFirst();
                List<Pending> batch = new ArrayList<>(), expired = new ArrayList<>();
                int[] tokens = {0};
                long formedBy = System.nanoTime() + options.maxDelay().toNanos();
                boolean full = take(q, batch, tokens, expired);
                while (!full && !batch.isEmpty() && !closed) {
                    long left = formedBy - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        arrived.awaitNanos(left);
                    } catch (InterruptedException e) {
                        break; // nothing interrupts this thread but the JVM going down: run what we have
                    }
                    full = take(q, batch, tokens, expired);
                }
                if (!batch.isEmpty() || !expired.isEmpty()) {
                    return new Batch(q, batch, expired, null);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Polls (without the lock) until something arrives after {@code seen} or {@code nanos} have passed. */
    private void spinWhile(long seen, long nanos) {
        long end = System.nanoTime() + nanos;
        while (arrivals == seen && System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /** The queue whose first request has waited longest (so neither tower starves). */
    private Queue oldestFirst() {
        if (imageQueue.waiting.isEmpty()) {
            return textQueue;
        }
        if (textQueue.waiting.isEmpty()) {
            return imageQueue;
        }
        return textQueue.waiting.peekFirst().queuedAt - imageQueue.waiting.peekFirst().queuedAt <= 0 ? textQueue : imageQueue;
    }

    /** Moves requests from the head of {@code q} into {@code batch} while they fit; true when the batch is full. Guarded by lock. */
    private boolean take(Queue q, List<Pending> batch, int[] tokens, List<Pending> expired) {
        Instant now = Instant.now();
        while (!q.waiting.isEmpty()) {
            Pending p = q.waiting.peekFirst();
            if (p.isDone()) { // cancelled between its cancel and its withdrawal
                q.waiting.pollFirst();
                continue;
            }
            if (!p.deadline.isAfter(now)) {
                expired.add(q.waiting.pollFirst());
                continue;
            }
            if (batch.size() == q.maxCount || (!batch.isEmpty() && tokens[0] + p.tokens > options.maxBatchTokens())) {
                return true;
            }
            batch.add(q.waiting.pollFirst());
            tokens[0] += p.tokens;
        }
        return batch.size() == q.maxCount;
    }

    /** Runs one batch and completes its requests (the listener hears it first). */
    private void run(Queue q, List<Pending> requests) {
        Instant now = Instant.now();
        List<Pending> live = new ArrayList<>();
        for (Pending p : requests) {
            if (p.isDone()) {
                continue; // cancelled while the batch formed
            }
            if (!p.deadline.isAfter(now)) {
                p.completeExceptionally(expired(q.tower, p.deadline)); // passed during maxDelay
            } else {
                live.add(p);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        int n = live.size(), tokens = live.stream().mapToInt(p -> p.tokens).sum();
        long start = System.nanoTime(), queueMax = 0;
        for (Pending p : live) {
            queueMax = Math.max(queueMax, start - p.queuedAt);
        }
        float[] z;
        try {
            useTeamFor(q == textQueue ? TEXT : IMAGE, n);
            z = q == textQueue ? embedTexts(live) : embedImages(live);
        } catch (RuntimeException | Error e) {
            LitException failure = e instanceof LitException le ? le : new LitException("batcher: a " + q.tower + " batch of " + n + " failed: " + e, e);
            live.forEach(p -> p.completeExceptionally(failure));
            return;
        }
        long inference = System.nanoTime() - start;
        try {
            listener.batch(q.tower, n, tokens, queueMax, inference);
        } catch (RuntimeException e) {
            // a metrics listener's failure must not fail the requests or stop the model thread
        }
        int dim = z.length / n;
        for (int i = 0; i < n; i++) {
            Pending p = live.get(i);
            p.complete(new Embedded(Arrays.copyOfRange(z, i * dim, (i + 1) * dim), start - p.queuedAt, inference, n, tokens));
        }
    }

    /**
     * Sizes the model thread's team for a batch of {@code n} inputs of {@code tower}: one thread when
     * its forward pass has at most {@link Options#smallBatchRows} rows and one thread was found to
     * give the whole team's bits at this size ({@link #oneThreadGivesTheSameBits}), the whole team otherwise.
     */
    private void useTeamFor(String tower, int n) {
        long rows = (long) n * (tower.equals(TEXT) ? texts.contextLength() : team.imageRows());
        boolean small = team.threads() > 1 && rows > 0 && rows <= options.smallBatchRows();
        useTeam(small && oneThreadIsExact.computeIfAbsent(List.of(tower, n), k -> oneThreadGivesTheSameBits(tower, n)) ? 1 : team.threads());
    }

    private void useTeam(int threads) {
        if (threads != teamInUse) {
            team.use().accept(threads);
            teamInUse = threads;
        }
    }

    /**
     * Whether a batch of {@code n} inputs of {@code tower} gives the same bits on one thread as on
     * the whole team: one synthetic batch run on both. oneDNN splits each primitive's work by the
     * team it was made for, and for some shapes (a long reduction beneath a tiny output) it splits
     * the reduction itself over the threads, which changes the order of the sums and so the bits
     * ({@code TeamSizeTest}). The split depends only on the shapes and the team, never on the
     * data, so one batch of a size tells for every batch of that size: the same order gives the same
     * bits for any input, and a different order shows on almost any input. Run once per size (the
     * warm-up does it for every size), on the model thread.
     */
    private boolean oneThreadGivesTheSameBits(String tower, int n) {
        useTeam(team.threads());
        float[] whole = synthetic(tower, n);
        useTeam(1);
        return Arrays.equals(whole, synthetic(tower, n));
    }

    /** A forward pass of {@code n} made-up inputs of {@code tower}: every text position a real token, images of varied pixels. */
    private float[] synthetic(String tower, int n) {
        if (tower.equals(TEXT)) {
            int ctx = texts.contextLength(), vocab = texts.tokenizer().vocabSize();
            int[] ids = new int[n * ctx];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1 + i % (vocab - 1); // every position a real token: the most work a text can be
            }
            return texts.embedTokens(new TokenBatch(ids, n, ctx));
        }
        float[] px = new float[n * images.preprocess().floatsPerImage()];
        for (int i = 0; i < px.length; i++) {
            px[i] = (i * 37 % 201 - 100) / 100f; // [-1, 1], no two neighbours alike
        }
        return images.embedPixels(px, n);
    }

    private float[] embedTexts(List<Pending> batch) {
        int ctx = texts.contextLength();
        int[] ids = new int[batch.size() * ctx];
        for (int i = 0; i < batch.size(); i++) {
            System.arraycopy(batch.get(i).ids, 0, ids, i * ctx, ctx);
        }
        return texts.embedTokens(new TokenBatch(ids, batch.size(), ctx));
    }

    private float[] embedImages(List<Pending> batch) {
        int per = images.preprocess().floatsPerImage();
        float[] px = new float[batch.size() * per];
        for (int i = 0; i < batch.size(); i++) {
            System.arraycopy(batch.get(i).pixels, 0, px, i * per, per);
        }
        return images.embedPixels(px, batch.size());
    }

    // ------------------------------------------------------------------ warming

    /**
     * Runs each tower, on the model thread, at every batch size it will use (so every shape's
     * primitives exist), then at batch 1 and at its largest batch again and again until the JIT has
     * compiled the Java kernels (three passes in a row with no compilation) or {@code limit} has
     * passed. Requests queue meanwhile. A service calls this before it says it is ready, so the
     * first request is as fast as the thousandth.
     */
    public Warmup warm(Duration limit) {
        FutureTask<Warmup> task = new FutureTask<>(() -> warmHere(System.nanoTime() + limit.toNanos()));
        lock.lock();
        try {
            if (closed) {
                throw new Closed("batcher: closed, cannot warm");
            }
            chores.addLast(task);
            arrivals++;
            arrived.signal();
        } finally {
            lock.unlock();
        }
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LitException("batcher: interrupted while warming", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof LitException le ? le : new LitException("batcher: warming failed: " + e.getCause(), e.getCause());
        }
    }

    private Warmup warmHere(long end) {
        long start = System.nanoTime();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watchJit = jit != null && jit.isCompilationTimeMonitoringSupported();
        int passes = 0, quiet = 0, largest = Math.max(textBatchMax(), imageBatchMax());
        for (int n = 1; n <= largest && System.nanoTime() < end; n++) {
            passes += warmPass(n);
        }
        long compiled = watchJit ? jit.getTotalCompilationTime() : 0;
        while (quiet < 3 && System.nanoTime() < end) {
            for (int n : IntStream.of(1, textBatchMax(), imageBatchMax()).filter(n -> n > 0).distinct().toArray()) {
                passes += warmPass(n);
            }
            long now = watchJit ? jit.getTotalCompilationTime() : compiled + 1;
            quiet = now == compiled ? quiet + 1 : 0;
            compiled = now;
        }
        return new Warmup(passes, Duration.ofNanos(System.nanoTime() - start), quiet >= 3);
    }

    private int textBatchMax() {
        return texts == null ? 0 : Math.min(options.maxBatchTexts(), options.maxBatchTokens());
    }

    private int imageBatchMax() {
        return images == null ? 0 : options.maxBatchImages();
    }

    /** One forward pass of {@code n} rows in each tower whose batches can be that large; the passes run. */
    private int warmPass(int n) {
        int passes = 0;
        for (String tower : new String[] {TEXT, IMAGE}) {
            if (n <= (tower.equals(TEXT) ? textBatchMax() : imageBatchMax())) {
                useTeamFor(tower, n); // on the team a batch of n will run on, so its primitives are made
                synthetic(tower, n);
                passes++;
            }
        }
        return passes;
    }

    /** Refuses new requests, finishes every queued one, and returns once the model thread has stopped. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrivals++;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() == modelThread) {
            return; // a listener or a completion callback closing us: the loop drains and stops by itself
        }
        boolean interrupted = false;
        while (modelThread.isAlive()) {
            try {
                modelThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}

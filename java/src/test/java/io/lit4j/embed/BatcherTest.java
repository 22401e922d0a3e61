package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The micro-batcher on the shipped model: batched results equal unbatched ones bit for bit under
 * concurrency, batches form and keep to their budgets, and full queues, passed deadlines,
 * cancellation and closing behave as documented. A listener that holds the model thread on its
 * first batch (a {@link Gate}) makes the queue's contents deterministic.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BatcherTest {
    static LitModel model;

    @BeforeAll
    static void load() {
        model = LitModel.loadDefault();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Instant later() {
        return Instant.now().plusSeconds(60);
    }

    /** A listener that stops the model thread on its first batch until released, and records every batch. */
    static final class Gate implements Batcher.Listener {
        final CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        final List<int[]> batches = Collections.synchronizedList(new ArrayList<>()); // {size, tokens} of each text batch
        final List<Integer> imageBatches = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void batch(String tower, int size, int tokens, long queueNanosMax, long inferenceNanos) {
            if (tower.equals(Batcher.TEXT)) {
                batches.add(new int[] {size, tokens});
            } else {
                imageBatches.add(size);
            }
            if (entered.getCount() > 0) {
                entered.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Runs a first text through the batcher and waits until the model thread is held in its batch. */
        void hold(Batcher b) throws InterruptedException {
            b.setListener(this);
            b.text("the gate", later());
            assertTrue(entered.await(30, TimeUnit.SECONDS), "the model thread never ran the gate");
        }
    }

    static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    @ParameterizedTest
    @ValueSource(strings = {"onednn", "scalar"})
    void concurrentRequestsGetTheirUnbatchedEmbeddingsBitForBit(String backend) throws Exception {
        try (LitModel m = LitModel.loadDefault(LitModel.Options.defaults().withBackend(backend))) {
            List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(21), 48);
            List<BufferedImage> images = BatchRowIndependenceTest.randomImages(new Random(22), 16);
            List<float[]> expected = new ArrayList<>();
            texts.forEach(t -> expected.add(m.embedTexts(List.of(t))));
            images.forEach(i -> expected.add(m.embedImages(List.of(i))));
            Gate gate = new Gate();
            List<CompletableFuture<Batcher.Embedded>> got = new ArrayList<>(Collections.nCopies(64, null));
            try (Batcher b = m.batcher(Batcher.Options.defaults().withMaxBatchTexts(16).withMaxBatchImages(5))) {
                gate.hold(b);
                CountDownLatch submitted = new CountDownLatch(64);
                try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < 64; i++) {
                        int r = i;
                        callers.submit(() -> {
                            got.set(r, r < 48 ? b.text(texts.get(r), later()) : b.image(images.get(r - 48), later()));
                            submitted.countDown();
                        });
                    }
                    assertTrue(submitted.await(30, TimeUnit.SECONDS));
                }
                assertEquals(48, b.queuedTexts());
                assertEquals(16, b.queuedImages());
                gate.release.countDown();
                for (int i = 0; i < 64; i++) {
                    Batcher.Embedded e = got.get(i).get(60, TimeUnit.SECONDS);
                    assertArrayEquals(expected.get(i), e.vector(), backend + ": request " + i);
                    assertTrue(e.batchSize() >= 1 && e.inferenceNanos() > 0 && e.queueNanos() >= 0, e.toString());
                }
            }
            assertEquals(List.of(16, 16, 16), gate.batches.subList(1, gate.batches.size()).stream().map(s -> s[0]).toList());
            assertEquals(List.of(5, 5, 5, 1), gate.imageBatches);
        }
    }

    @Test
    void concurrentSubmittersFormBatchesWithoutBeingHeld() throws Exception {
        List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(23), 64);
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (Batcher b = model.batcher(Batcher.Options.defaults().withMaxDelay(Duration.ofMillis(20)))) {
            b.setListener((tower, size, tokens, queueMax, inference) -> sizes.add(size));
            List<CompletableFuture<Batcher.Embedded>> got = new ArrayList<>();
            try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<CompletableFuture<Batcher.Embedded>>> f = new ArrayList<>();
                texts.forEach(t -> f.add(callers.submit(() -> b.text(t, later()))));
                for (var x : f) {
                    got.add(x.get());
                }
            }
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(model.embedTexts(List.of(texts.get(i))), got.get(i).get(30, TimeUnit.SECONDS).vector(), "text " + i);
            }
        }
        assertEquals(64, sizes.stream().mapToInt(Integer::intValue).sum());
        assertTrue(sizes.stream().anyMatch(s -> s > 1), "no batch formed: " + sizes);
    }

    @Test
    void aTextBatchKeepsToItsTokenBudget() throws Exception {
        int ctx = model.texts().contextLength(), budget = ctx + ctx / 2;
        List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(24), 40, 3);
        int[] lengths = model.texts().encode(texts).lengths();
        Gate gate = new Gate();
        List<CompletableFuture<Batcher.Embedded>> got = new ArrayList<>();
        try (Batcher b = model.batcher(Batcher.Options.defaults().withMaxBatchTokens(budget))) {
            gate.hold(b);
            texts.forEach(t -> got.add(b.text(t, later())));
            gate.release.countDown();
            for (int i = 0; i < texts.size(); i++) {
                Batcher.Embedded e = got.get(i).get(30, TimeUnit.SECONDS);
                assertTrue(e.batchTokens() <= budget, e.batchTokens() + " tokens > " + budget);
            }
        }
        // the budget is greedy over real token lengths, each at most the context length
        List<Integer> expected = new ArrayList<>();
        int size = 0, tokens = 0;
        for (int len : lengths) {
            int t = Math.min(len, ctx);
            if (size > 0 && tokens + t > budget) {
                expected.add(size);
                size = 0;
                tokens = 0;
            }
            size++;
            tokens += t;
        }
        expected.add(size);
        assertEquals(expected, gate.batches.subList(1, gate.batches.size()).stream().map(s -> s[0]).toList());
        assertTrue(expected.stream().anyMatch(s -> s > 1), "the texts were too long to test a budget: " + expected);
        LitException tooSmall = assertThrows(LitException.class, () -> model.batcher(Batcher.Options.defaults().withMaxBatchTokens(ctx - 1)));
        assertTrue(tooSmall.getMessage().contains("context length " + ctx), tooSmall.getMessage());
    }

    @Test
    void aFullQueueRefusesWithQueueFull() throws Exception {
        Gate gate = new Gate();
        try (Batcher b = model.batcher(Batcher.Options.defaults().withQueueCapacity(2))) {
            gate.hold(b);
            var first = b.text("one", later());
            var second = b.text("two", later());
            var refused = b.text("three", later());
            assertInstanceOf(Batcher.QueueFull.class, failure(refused));
            assertTrue(failure(refused).getMessage().contains("text queue is full (2"), failure(refused).getMessage());
            var image = b.image(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), later()); // the image queue is its own
            gate.release.countDown();
            assertArrayEquals(model.embedText("one"), first.get(30, TimeUnit.SECONDS).vector());
            assertArrayEquals(model.embedText("two"), second.get(30, TimeUnit.SECONDS).vector());
            image.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestWhoseDeadlinePassedIsNotRun() throws Exception {
        Gate gate = new Gate();
        try (Batcher b = model.batcher(Batcher.Options.defaults())) {
            assertInstanceOf(Batcher.DeadlineExceeded.class, failure(b.text("late", Instant.now().minusMillis(1))));
            gate.hold(b);
            var late = b.text("late", Instant.now().plusMillis(50));
            var onTime = b.text("on time", later());
            Thread.sleep(100);
            gate.release.countDown();
            Throwable why = failure(late);
            assertInstanceOf(Batcher.DeadlineExceeded.class, why);
            assertTrue(why.getMessage().contains("deadline"), why.getMessage());
            assertEquals(1, onTime.get(30, TimeUnit.SECONDS).batchSize());
        }
        assertEquals(2, gate.batches.size()); // the gate and "on time"; "late" never ran
    }

    @Test
    void cancellingTakesARequestOffTheQueue() throws Exception {
        Gate gate = new Gate();
        try (Batcher b = model.batcher(Batcher.Options.defaults())) {
            gate.hold(b);
            var cancelled = b.text("never mind", later());
            var kept = b.text("kept", later());
            assertEquals(2, b.queuedTexts());
            assertTrue(cancelled.cancel(false));
            assertEquals(1, b.queuedTexts());
            gate.release.countDown();
            assertEquals(1, kept.get(30, TimeUnit.SECONDS).batchSize());
            assertTrue(cancelled.isCancelled());
        }
        assertEquals(2, gate.batches.size());
    }

    @Test
    void closingFinishesWhatIsQueuedAndRefusesNewRequests() throws Exception {
        Gate gate = new Gate();
        Batcher b = model.batcher(Batcher.Options.defaults().withMaxBatchTexts(3));
        gate.hold(b);
        List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(25), 10);
        List<CompletableFuture<Batcher.Embedded>> got = new ArrayList<>();
        texts.forEach(t -> got.add(b.text(t, later())));
        AtomicReference<Throwable> closeFailed = new AtomicReference<>();
        Thread closer = Thread.ofVirtual().start(() -> {
            try {
                b.close();
            } catch (Throwable t) {
                closeFailed.set(t);
            }
        });
        while (!b.text("refused", later()).isCompletedExceptionally()) {
            Thread.sleep(1); // until close has begun (probes queued before then are served with the rest)
        }
        assertInstanceOf(Batcher.Closed.class, failure(b.text("refused", later())));
        assertFalse(got.get(9).isDone());
        gate.release.countDown();
        closer.join(30_000);
        assertFalse(closer.isAlive());
        assertEquals(null, closeFailed.get());
        for (int i = 0; i < texts.size(); i++) {
            assertTrue(got.get(i).isDone(), "close returned before request " + i + " was done");
            assertArrayEquals(model.embedText(texts.get(i)), got.get(i).get().vector());
        }
        assertThrows(Batcher.Closed.class, () -> b.warm(Duration.ofSeconds(1)));
    }

    /**
     * The team policy on a stand-in team: batches of at most {@code smallBatchRows} rows run on one
     * thread once a synthetic batch of their size gave the whole team's bits, other sizes on the
     * whole team, each size checked once. The stand-in text tower changes a bit of a batch of 2 on
     * one thread (as oneDNN does where it splits a reduction), so 2 must stay on the whole team.
     */
    @Test
    void smallBatchesRunOnOneThreadWhereItGivesTheSameBits() throws Exception {
        TextEmbedder real = model.texts();
        int ctx = real.contextLength();
        int[] team = {0};
        List<int[]> ran = Collections.synchronizedList(new ArrayList<>()); // {batch size, team} of every forward pass
        TextEmbedder standIn = new TextEmbedder(real.tokenizer(), model.config().text(), real.dim(), tokens -> {
            float[] z = real.embedTokens(tokens);
            ran.add(new int[] {tokens.batch(), team[0]});
            if (team[0] == 1 && tokens.batch() == 2) {
                z[0] = Math.nextUp(z[0]);
            }
            return z;
        });
        List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(26), 6);
        Gate gate = new Gate();
        List<CompletableFuture<Batcher.Embedded>> got = new ArrayList<>();
        Batcher.Options o = Batcher.Options.defaults().withMaxBatchTexts(3).withSmallBatchRows(2 * ctx);
        try (Batcher b = new Batcher(standIn, null, o, new Batcher.Team(2, n -> team[0] = n, 0))) {
            gate.hold(b);                                   // a batch of 1: checked, then on one thread
            texts.subList(0, 5).forEach(t -> got.add(b.text(t, later())));
            gate.release.countDown();                       // 3 (over the rows: the whole team), then 2 (checked: refused)
            for (var f : got) {
                f.get(30, TimeUnit.SECONDS);
            }
            got.add(b.text(texts.get(5), later()));         // 1 again: one thread, no second check
            got.getLast().get(30, TimeUnit.SECONDS);
        }
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(model.embedText(texts.get(i)), got.get(i).get().vector(), "text " + i);
        }
        assertEquals(List.of("1@2", "1@1", "1@1", "3@2", "2@2", "2@1", "2@2", "1@1"),
                ran.stream().map(r -> r[0] + "@" + r[1]).toList(), "{batch}@{team} of every pass: the checks and the batches");
    }

    @Test
    void badTeamOptionsAreRefused() {
        LitException rows = assertThrows(LitException.class, () -> Batcher.Options.defaults().withSmallBatchRows(-1));
        assertTrue(rows.getMessage().contains("small batch rows -1"), rows.getMessage());
        LitException spin = assertThrows(LitException.class, () -> Batcher.Options.defaults().withIdleSpin(Duration.ofNanos(-1)));
        assertTrue(spin.getMessage().contains("idle spin"), spin.getMessage());
        LitException team = assertThrows(LitException.class, () -> new Batcher.Team(0, n -> { }, 0));
        assertTrue(team.getMessage().contains("team of 0 threads"), team.getMessage());
    }

    /**
     * With an idle spin the model thread polls for a while after each batch: requests that arrive
     * during it and after it are served with their own bits, and closing ends a spin at once.
     */
    @Test
    void anIdleSpinServesWhatArrivesAndEndsWhenClosed() throws Exception {
        List<String> texts = BatchRowIndependenceTest.randomTexts(new Random(27), 4);
        long closedIn;
        try (Batcher b = model.batcher(Batcher.Options.defaults().withIdleSpin(Duration.ofSeconds(30)))) {
            for (String t : texts) {
                assertArrayEquals(model.embedText(t), b.text(t, later()).get(30, TimeUnit.SECONDS).vector(), t);
            }
            assertTrue(b.warm(Duration.ofMillis(1)).passes() > 0); // a chore ends a spin too
            assertArrayEquals(model.embedText("after warming"), b.text("after warming", later()).get(30, TimeUnit.SECONDS).vector());
            long t0 = System.nanoTime();
            b.close(); // the model thread is spinning: closing must not wait for its 30 s
            closedIn = System.nanoTime() - t0;
        }
        assertTrue(closedIn < Duration.ofSeconds(10).toNanos(), "close took " + closedIn / 1e6 + " ms");
    }

    @Test
    void warmingRunsEveryBatchShapeWithinItsLimit() {
        try (Batcher b = model.batcher(Batcher.Options.defaults().withMaxBatchTexts(8).withMaxBatchImages(4))) {
            long start = System.nanoTime();
            Batcher.Warmup w = b.warm(Duration.ofSeconds(10));
            long took = System.nanoTime() - start;
            assertTrue(w.passes() >= 8 + 4, w.toString());
            assertTrue(took < Duration.ofSeconds(20).toNanos(), w.toString());
            assertArrayEquals(model.embedText("after warming"), b.text("after warming", later()).join().vector());
        }
    }
}

package io.lit4j.data;

import io.lit4j.LitException;
import io.lit4j.data.BadRows.Reason;
import io.lit4j.data.CaptionDataset.Row;
import io.lit4j.data.TextTokenizer.Policy;
import io.lit4j.data.TrainBatches.Batch;
import io.lit4j.data.TrainBatches.Options;
import io.lit4j.data.TrainBatches.State;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainBatchesTest {
    @TempDir
    static Path tmp;

    static final int ROWS = 23;
    static final int BROKEN = 5;
    static final int LONG = 11;
    static final int CTX = 8;
    static final int B = 5;
    static final Preprocess PP = Preprocess.bigVision(6);

    static CaptionDataset ds;
    static TextTokenizer tok;

    @BeforeAll
    static void setUp() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        List<Row> rows = new ArrayList<>();
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            String name = "img/" + i + ".png";
            files.put(name, i == BROKEN ? "garbage, not an image".getBytes(StandardCharsets.UTF_8)
                    : Fixtures.png(Fixtures.pattern(7 + i % 5, 9 + i % 3, i)));
            List<String> caps = i == LONG
                    ? List.of("a very long caption that has many more words than the context can hold at all")
                    : i % 4 == 0 ? List.of("a photo of item " + i, "item number " + i, "the " + i + " thing")
                    : List.of("a photo of item " + i);
            rows.add(new Row(i, name, caps));
            corpus.addAll(caps);
        }
        Path dir = Fixtures.folder(tmp.resolve("ds"), files);
        CaptionDataset.writeJsonl(dir, rows);
        ds = CaptionDataset.open(dir);
        assertEquals(ROWS, ds.size());
        Path tj = tmp.resolve("tokenizer.json");
        TokenizerBuilder.build(corpus, 500, tj);
        tok = TextTokenizer.load(tj);
    }

    @AfterAll
    static void tearDown() {
        ds.close();
        tok.close();
    }

    static TrainBatches stream(long seed, int workers, State start) {
        return new TrainBatches(ds, PP, tok, CTX, Policy.BERT, B, seed, workers, start);
    }

    static List<Batch> take(TrainBatches s, int n) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(s.next());
        }
        return out;
    }

    static void assertSameBatch(Batch a, Batch b, String what) {
        assertArrayEquals(a.rowIndices(), b.rowIndices(), what + ": rows");
        assertArrayEquals(a.imageIds(), b.imageIds(), what + ": image ids");
        assertArrayEquals(a.pixels(), b.pixels(), what + ": pixels");
        assertArrayEquals(a.tokens().ids(), b.tokens().ids(), what + ": tokens");
        assertEquals(a.epoch(), b.epoch(), what + ": epoch");
    }

    static void assertSame(List<Batch> a, List<Batch> b, String what) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertSameBatch(a.get(i), b.get(i), what + " batch " + i);
        }
    }

    /** The rows a stream must visit: each epoch's permutation minus the rows that fail. */
    static List<int[]> expectedRows(long seed, int epochs, Set<Integer> skip) {
        List<int[]> out = new ArrayList<>(); // {epoch, row}
        for (int e = 0; e < epochs; e++) {
            for (int r : TrainBatches.permutation(seed, e, ROWS)) {
                if (!skip.contains(r)) {
                    out.add(new int[] {e, r});
                }
            }
        }
        return out;
    }

    @Test
    void followsTheShuffledOrderSkippingBadRowsWithCorrectContent() {
        try (TrainBatches s = stream(7, 2, State.START)) {
            List<int[]> expected = expectedRows(7, 4, Set.of(BROKEN, LONG));
            List<Batch> batches = take(s, 14); // 70 rows: more than three epochs of 21 good rows
            int k = 0;
            for (Batch b : batches) {
                assertEquals(B, b.size());
                assertEquals(expected.get(k)[0], b.epoch(), "batch epoch is its first row's epoch");
                for (int i = 0; i < B; i++, k++) {
                    int row = expected.get(k)[1];
                    int epoch = expected.get(k)[0];
                    assertEquals(row, b.rowIndices()[i], "row " + k);
                    assertEquals(ds.row(row).image(), b.imageIds()[i]);
                    float[] px = Images.pixels(ds.readImage(ds.row(row).image()), ds.row(row).image(), PP);
                    assertArrayEquals(px, Arrays.copyOfRange(b.pixels(), i * PP.floatsPerImage(), (i + 1) * PP.floatsPerImage()));
                    List<String> caps = ds.row(row).captions();
                    String caption = caps.get(TrainBatches.captionIndex(7, epoch, row, caps.size()));
                    int[] ids = tok.encode(List.of(caption), CTX, Policy.BERT).ids();
                    assertArrayEquals(ids, Arrays.copyOfRange(b.tokens().ids(), i * CTX, (i + 1) * CTX));
                }
            }
            // every good row once per epoch: the first 21 rows are a permutation of the good rows
            Set<Integer> first = new HashSet<>();
            for (int i = 0; i < 21; i++) {
                first.add(batches.get(i / B).rowIndices()[i % B]);
            }
            assertEquals(21, first.size());
            assertFalse(first.contains(BROKEN) || first.contains(LONG));

            BadRows r = s.report();
            assertEquals(Map.of(Reason.BAD_IMAGE, 1L, Reason.CAPTION_TOO_LONG, 1L), r.counts(), r.toString());
            assertTrue(r.examples().get(0).where().startsWith("img/"), r.toString());
            assertEquals(expectedState(7, 70, Set.of(BROKEN, LONG), 14), s.state());
        }
    }

    /** The state after {@code good} usable rows were taken: the position just past the last one. */
    static State expectedState(long seed, int good, Set<Integer> skip, long batches) {
        int taken = 0;
        for (int e = 0; ; e++) {
            int[] order = TrainBatches.permutation(seed, e, ROWS);
            for (int pos = 0; pos < ROWS; pos++) {
                if (!skip.contains(order[pos]) && ++taken == good) {
                    return pos + 1 == ROWS ? new State(e + 1, 0, batches) : new State(e, pos + 1, batches);
                }
            }
        }
    }

    @Test
    void sameSeedSameBatchesOtherSeedOtherBatches() {
        List<Batch> a;
        List<Batch> b;
        List<Batch> c;
        try (TrainBatches s = stream(42, 2, State.START)) {
            a = take(s, 10);
        }
        try (TrainBatches s = stream(42, 2, State.START)) {
            b = take(s, 10);
        }
        try (TrainBatches s = stream(43, 2, State.START)) {
            c = take(s, 10);
        }
        assertSame(a, b, "same seed");
        boolean differ = false;
        for (int i = 0; i < a.size(); i++) {
            differ |= !Arrays.equals(a.get(i).rowIndices(), c.get(i).rowIndices());
        }
        assertTrue(differ, "another seed gives another order");
    }

    @Test
    void resumingFromAStateContinuesExactly() {
        List<Batch> all = new ArrayList<>();
        List<State> states = new ArrayList<>();
        try (TrainBatches s = stream(9, 2, State.START)) {
            states.add(s.state());
            for (int i = 0; i < 16; i++) {
                all.add(s.next());
                states.add(s.state());
            }
        }
        assertEquals(State.START, states.get(0));
        for (int k : new int[] {0, 1, 3, 4, 5, 9, 12}) {
            assertEquals(k, states.get(k).batches());
            try (TrainBatches r = stream(9, 1, states.get(k))) {
                List<Batch> rest = take(r, 4);
                assertSame(all.subList(k, k + 4), rest, "resumed after " + k);
                assertEquals(states.get(k + 4), r.state());
            }
        }
        // a state at the very end of an epoch is the start of the next
        try (TrainBatches r = stream(9, 0, new State(0, ROWS, 0)); TrainBatches q = stream(9, 0, new State(1, 0, 0))) {
            assertSameBatch(q.next(), r.next(), "end of epoch 0 == start of epoch 1");
        }
        assertThrows(LitException.class, () -> stream(9, 0, new State(0, ROWS + 1, 0)));
    }

    @Test
    void outputDoesNotDependOnWorkersOrLookahead() {
        List<Batch> ref;
        try (TrainBatches s = stream(5, 0, State.START)) {
            ref = take(s, 12);
        }
        for (int workers : new int[] {1, 3}) {
            for (int look : new int[] {1, 4}) {
                try (TrainBatches s = new TrainBatches(ds, PP, tok, CTX, Policy.BERT, B, 5, workers, State.START,
                        Options.DEFAULT.withLookahead(look))) {
                    assertSame(ref, take(s, 12), workers + " workers, lookahead " + look);
                }
            }
        }
    }

    @Test
    void withoutPixelsIsCheapAndOnlySkipsLongCaptions() {
        try (TrainBatches s = new TrainBatches(ds, null, tok, CTX, Policy.BERT, B, 7, 0, State.START,
                Options.DEFAULT.withoutPixels())) {
            List<int[]> expected = expectedRows(7, 2, Set.of(LONG));
            int k = 0;
            for (Batch b : take(s, 8)) {
                assertNull(b.pixels());
                for (int i = 0; i < B; i++, k++) {
                    assertEquals(expected.get(k)[1], b.rowIndices()[i]);
                }
            }
            assertEquals(Map.of(Reason.CAPTION_TOO_LONG, 1L), s.report().counts());
        }
    }

    @Test
    void captionChoiceVariesByEpochAndPermutationIsPinned() {
        Set<Integer> seen = new HashSet<>();
        for (int e = 0; e < 30; e++) {
            int c = TrainBatches.captionIndex(1, e, 4, 3);
            assertTrue(c >= 0 && c < 3);
            seen.add(c);
        }
        assertEquals(3, seen.size(), "all captions of a row get used over epochs");
        assertEquals(0, TrainBatches.captionIndex(1, 0, 4, 1));
        // pinned: if this changes, resumed runs and cached orders change
        int[] p = TrainBatches.permutation(42, 0, 10);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted);
        assertArrayEquals(PERM_42_0_10, p, Arrays.toString(p));
        assertFalse(Arrays.equals(p, TrainBatches.permutation(42, 1, 10)));
    }

    static final int[] PERM_42_0_10 = {4, 9, 1, 2, 0, 6, 7, 8, 5, 3};

    @Test
    void allRowsFailingThrowsInsteadOfHanging() throws IOException {
        Path dir = tmp.resolve("allbad");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("x.png"), "nope");
        Files.writeString(dir.resolve("y.png"), "nope");
        CaptionDataset.writeJsonl(dir, List.of(new Row(0, "x.png", List.of("a photo")), new Row(1, "y.png", List.of("a photo"))));
        try (CaptionDataset bad = CaptionDataset.open(dir);
             TrainBatches s = new TrainBatches(bad, PP, tok, CTX, Policy.BERT, 2, 1, 1, State.START)) {
            String m = assertThrows(LitException.class, s::next).getMessage();
            assertTrue(m.contains("every row failed"), m);
        }
    }

    @Test
    void workersAreDaemonsAndCloseStopsThem() throws InterruptedException {
        TrainBatches s = stream(3, 2, State.START);
        s.next();
        boolean found = false;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("lit4j-data-")) {
                found = true;
                assertTrue(t.isDaemon(), t.getName());
            }
        }
        assertTrue(found, "worker threads exist");
        s.close();
        assertThrows(LitException.class, s::next);
        assertThrows(LitException.class, () -> new TrainBatches(ds, PP, tok, CTX, Policy.BERT, 0, 1, 1, State.START));
        assertThrows(LitException.class, () -> new TrainBatches(ds, null, tok, CTX, Policy.BERT, 2, 1, 1, State.START));
    }
}

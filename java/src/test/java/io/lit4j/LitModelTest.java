package io.lit4j;

import io.lit4j.eval.ZeroShotClassifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API's shortcuts on the shipped model: one-image classify, embeddings as rows, similarity and probabilities. */
class LitModelTest {
    static LitModel model;
    static Path bag, sneaker;

    @BeforeAll
    static void load() {
        model = LitModel.loadDefault();
        bag = ReadmeExampleTest.sample("Bag");
        sneaker = ReadmeExampleTest.sample("Sneaker");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void classifyOneImageRanksEveryLabel() throws IOException {
        List<String> labels = List.of("sneaker", "bag", "dress", "trousers");
        List<ZeroShotClassifier.Scored> ranked = model.classify(bag, labels);
        assertEquals(labels.size(), ranked.size());
        assertEquals("bag", ranked.get(0).label());
        double total = 0;
        for (int i = 0; i < ranked.size(); i++) {
            total += ranked.get(i).probability();
            if (i > 0) {
                assertTrue(ranked.get(i - 1).probability() >= ranked.get(i).probability(), ranked.toString());
            }
        }
        assertEquals(1, total, 1e-5);
        BufferedImage decoded = ImageIO.read(bag.toFile());
        List<ZeroShotClassifier.Scored> same = model.classify(decoded, labels);
        for (int i = 0; i < ranked.size(); i++) {
            assertEquals(ranked.get(i).label(), same.get(i).label());
            assertEquals(ranked.get(i).probability(), same.get(i).probability(), 1e-5);
        }
    }

    @Test
    void aLabelWithACommaIsOneClass() {
        List<ZeroShotClassifier.Scored> ranked = model.classify(bag, List.of("bag, handbag", "sneaker"));
        assertEquals(2, ranked.size());
        assertEquals("bag, handbag", ranked.get(0).label());
    }

    @Test
    void aliasesAreAListOfNames() {
        var classes = List.of(ZeroShotClassifier.Label.of("footwear", "sneaker", "running shoe"), ZeroShotClassifier.Label.of("bag", "handbag"));
        var top = model.classify(List.of(bag, sneaker), classes, LitModel.DEFAULT_TEMPLATES, 1);
        assertEquals("bag", top.get(0).get(0).label());
        assertEquals("footwear", top.get(1).get(0).label());
    }

    @Test
    void embeddingsAsRowsMatchTheFlatArrays() throws IOException {
        int e = model.embedDim();
        List<String> texts = List.of("a bag", "a sneaker", "a red triangle");
        float[] flat = model.embedTexts(texts);
        float[][] rows = model.embedTextRows(texts);
        assertEquals(texts.size(), rows.length);
        for (int i = 0; i < rows.length; i++) {
            assertEquals(e, rows[i].length);
            assertArrayEquals(Arrays.copyOfRange(flat, i * e, (i + 1) * e), rows[i], 1e-6f);
        }
        assertArrayEquals(rows[1], model.embedText("a sneaker"), 1e-5f);
        float[][] files = model.embedImageFileRows(List.of(bag, sneaker));
        assertArrayEquals(files[1], model.embedImage(sneaker), 1e-5f);
        float[][] decoded = model.embedImageRows(List.of(ImageIO.read(bag.toFile()), ImageIO.read(sneaker.toFile())));
        assertArrayEquals(files[0], decoded[0], 1e-5f);
        assertArrayEquals(files[1], model.embedImage(ImageIO.read(sneaker.toFile())), 1e-5f);
    }

    @Test
    void similarityIsTheCosineAndProbabilitiesFollowIt() {
        List<Path> images = List.of(bag, sneaker);
        List<String> texts = List.of("a photo of a bag", "a photo of a sneaker", "a photo of a dress");
        float[][] cos = model.similarity(images, texts);
        float[][] zi = model.embedImageFileRows(images), zt = model.embedTextRows(texts);
        assertEquals(2, cos.length);
        for (int i = 0; i < 2; i++) {
            assertEquals(3, cos[i].length);
            for (int j = 0; j < 3; j++) {
                double dot = 0;
                for (int k = 0; k < zi[i].length; k++) {
                    dot += (double) zi[i][k] * zt[j][k];
                }
                assertEquals(dot, cos[i][j], 1e-5);
            }
        }
        float[][] p = model.probabilities(images, texts);
        for (int i = 0; i < 2; i++) {
            double sum = 0;
            for (float v : p[i]) {
                sum += v;
            }
            assertEquals(1, sum, 1e-5);
            // softmax(t·cos): the ratio of two probabilities is exp(t·Δcos)
            assertEquals(Math.exp(model.temperature() * (cos[i][0] - cos[i][1])), p[i][0] / p[i][1], 1e-3 * p[i][0] / p[i][1]);
        }
        assertTrue(p[0][0] > p[0][1] && p[1][1] > p[1][0], "bag→bag, sneaker→sneaker");
        LitException e = assertThrows(LitException.class, () -> model.similarity(new float[][] {new float[3]}, zt));
        assertTrue(e.getMessage().contains("row 0 has 3 values, expected " + model.embedDim()), e.getMessage());
    }

    @Test
    void theShortcutsServeManyThreads() throws Exception {
        List<String> labels = List.of("bag", "sneaker", "dress");
        var expected = model.classify(bag, labels);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<ZeroShotClassifier.Scored>>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Path image = i % 2 == 0 ? bag : sneaker;
                fs.add(pool.submit(() -> model.classify(image, labels)));
            }
            for (int i = 0; i < fs.size(); i++) {
                var got = fs.get(i).get();
                assertEquals(i % 2 == 0 ? "bag" : "sneaker", got.get(0).label());
                if (i % 2 == 0) {
                    assertEquals(expected.get(0).probability(), got.get(0).probability(), 1e-5);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * {@link LitModel#releaseThread} ends the calling thread's OpenMP team and changes no result.
     * A team's workers are native threads that inherit the name of the thread that made them, so
     * the team on a thread named here is counted in /proc/self/task.
     */
    @Test
    void releasingAThreadsTeamEndsItsWorkersAndChangesNoResult() throws Exception {
        String name = "lit4j-omp-probe"; // 15 characters: Linux keeps that many of a thread's name
        try (LitModel two = LitModel.loadDefault(LitModel.Options.defaults().withThreads(2))) {
            float[] before = two.embedText("a photo of a cat");
            int[] counts = new int[3];
            float[][] got = new float[2][];
            Throwable[] failed = new Throwable[1];
            Thread t = Thread.ofPlatform().name(name).start(() -> {
                try {
                    got[0] = two.embedText("a photo of a cat");
                    counts[0] = namedTasks(name); // the thread and its team's one worker
                    two.releaseThread();
                    two.releaseThread(); // twice is harmless
                    counts[1] = awaitTasks(name, 1);
                    got[1] = two.embedText("a photo of a cat"); // a new team
                    counts[2] = namedTasks(name);
                } catch (Throwable e) {
                    failed[0] = e;
                }
            });
            t.join(60_000);
            if (failed[0] != null) {
                throw new AssertionError(failed[0]);
            }
            assertEquals(2, counts[0], "threads named " + name + " after one call with 2 OpenMP threads");
            assertEquals(1, counts[1], "the team's worker outlived releaseThread");
            assertEquals(2, counts[2], "the next call did not build a team again");
            assertArrayEquals(before, got[0]);
            assertArrayEquals(before, got[1]);
        }
    }

    private static int awaitTasks(String name, int want) throws IOException, InterruptedException {
        int n = namedTasks(name);
        for (long end = System.nanoTime() + 5_000_000_000L; n != want && System.nanoTime() < end; n = namedTasks(name)) {
            Thread.sleep(10);
        }
        return n;
    }

    /** The threads of this process whose Linux name is {@code name}. */
    private static int namedTasks(String name) throws IOException {
        int n = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    n += Files.readString(task.resolve("comm")).strip().equals(name) ? 1 : 0;
                } catch (IOException e) {
                    // the thread ended while we looked
                }
            }
        }
        return n;
    }
}

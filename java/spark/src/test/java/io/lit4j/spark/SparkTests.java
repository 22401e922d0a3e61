package io.lit4j.spark;

import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.Scenes;
import org.apache.spark.sql.SparkSession;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/** The tests' Spark: one local[2] session on loopback for the JVM, and corpora to feed it. */
final class SparkTests {
    private static SparkSession spark;

    private SparkTests() {
    }

    /** The shared local[2] session (made again if a test stopped it). */
    static synchronized SparkSession local() {
        if (spark == null || spark.sparkContext().isStopped()) {
            spark = SparkSession.builder().master("local[2]").appName("lit4j-spark-test").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
        }
        return spark;
    }

    /** Stops the shared session (before a test that needs another master). */
    static synchronized void stopLocal() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
        ExecutorModels.closeAll();
    }

    /**
     * {@code n} generated scenes (32 px PNGs with captions) in {@code dir}, plus {@code bad} rows
     * whose files are not images (garbage, a truncated PNG), listed in the same captions.jsonl.
     */
    static Path scenes(Path dir, int n, int bad, long seed) throws IOException {
        Path root = dir.resolve("scenes-" + n + "-" + seed);
        Scenes.generate(Scenes.Config.defaults().withSeed(seed).withImageSize(32).withCounts(n, 0, 4).withCaptionsPerImage(2), root);
        Path train = root.resolve("train");
        byte[] good = Files.readAllBytes(train.resolve("images/000000.png"));
        for (int i = 0; i < bad; i++) {
            String name = String.format("images/bad%02d.png", i);
            byte[] bytes = i % 2 == 0 ? "this is not an image".getBytes(StandardCharsets.UTF_8) : Arrays.copyOf(good, good.length / 3);
            Files.write(train.resolve(name), bytes);
            Files.writeString(train.resolve(CaptionDataset.JSONL), CaptionDataset.captionLine(name, List.of("a broken picture " + i), null) + "\n",
                    StandardOpenOption.APPEND);
        }
        return train;
    }

    /** Runs a job's command line; fails with its output unless it exits 0. */
    static String job(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = Jobs.run(args, new PrintStream(out, true), new PrintStream(err, true));
        String all = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        if (rc != 0) {
            throw new AssertionError("lit4j-spark " + String.join(" ", args) + " exited " + rc + ":\n" + all);
        }
        return all;
    }
}

package io.lit4j.eval;

import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.Scenes;
import io.lit4j.embed.TextEmbedder;
import io.lit4j.report.ProgressBar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retrieval embeds each distinct caption once: its recalls are exactly those of embedding every
 * caption on its own, with captions that repeat across images.
 */
class EvaluatorRetrievalTest {
    @Test
    void repeatedCaptionsAreEmbeddedOnceWithTheRecallsOfEmbeddingEachAlone(@TempDir Path dir) throws Exception {
        Scenes.generate(Scenes.Config.defaults().withSeed(5).withImageSize(32).withCounts(0, 0, 48), dir);
        Path test = dir.resolve("test");
        // the scenes' own captions are all different: give the images two each from a pool of five
        String[] pool = {"a red circle", "a blue star", "a green square on the left", "a small yellow triangle", "two shapes"};
        StringBuilder tsv = new StringBuilder();
        try (CaptionDataset generated = CaptionDataset.open(test)) {
            for (CaptionDataset.Row r : generated.rows()) {
                tsv.append(r.image()).append('\t').append(pool[r.index() % 5]).append('\n');
                tsv.append(r.image()).append('\t').append(pool[(r.index() * 3 + 1) % 5]).append('\n');
            }
        }
        Files.delete(test.resolve("captions.jsonl"));
        Files.writeString(test.resolve("captions.tsv"), tsv);
        try (LitModel m = LitModel.loadDefault(); CaptionDataset ds = CaptionDataset.open(test)) {
            List<CaptionDataset.Row> rows = ds.rows();
            List<String> texts = new ArrayList<>();
            List<Integer> owner = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                for (String c : rows.get(i).captions()) {
                    texts.add(c);
                    owner.add(i);
                }
            }
            assertTrue(new HashSet<>(texts).size() < texts.size(), "the scenes' captions repeat: " + texts.size() + " captions");

            int d = m.dim();
            float[] zi = Evaluator.embed(m, ds, rows, ProgressBar.silent()), zt = new float[texts.size() * d];
            for (int t = 0; t < texts.size(); t++) {
                System.arraycopy(m.texts().embed(List.of(texts.get(t))), 0, zt, t * d, d);
            }
            Metrics.Recall alone = Metrics.recall(Embeddings.similarities(zi, zt, d), rows.size(), texts.size(),
                    owner.stream().mapToInt(Integer::intValue).toArray(), 1, 5, 10);

            long[] embedded = {0};
            TextEmbedder counting = new TextEmbedder(m.texts().tokenizer(), m.config().text(), d, batch -> {
                embedded[0] += batch.batch();
                return m.texts().embedTokens(batch);
            });
            Evaluator.Retrieval r = Evaluator.retrieval(Evaluator.of(m.temperature(), m.images(), counting), ds, "scenes", 0, ProgressBar.silent());
            assertEquals(pool.length, embedded[0], "each distinct caption goes through the tower once");
            assertEquals(rows.size(), r.images());
            assertEquals(texts.size(), r.texts(), "every caption counts, repeated or not");
            assertArrayEquals(alone.imageToText(), r.recall().imageToText(), 0.0, "image to text");
            assertArrayEquals(alone.textToImage(), r.recall().textToImage(), 0.0, "text to image");
        }
    }
}

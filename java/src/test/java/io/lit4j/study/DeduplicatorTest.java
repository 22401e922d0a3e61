package io.lit4j.study;

import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.dedup.DedupRule;
import io.lit4j.io.Png;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Deduplicator} on a set with known duplicates planted in it: every planted one is removed
 * for its reason, and no distinct image is.
 */
class DeduplicatorTest {
    private static byte[] blobs(SplittableRandom rng) {
        int w = 28;
        byte[] px = new byte[w * w];
        for (int b = 0; b < 3; b++) { // a few bright rectangles on black: structure a perceptual hash sees
            int x0 = rng.nextInt(20), y0 = rng.nextInt(20), x1 = x0 + 4 + rng.nextInt(8), y1 = y0 + 4 + rng.nextInt(8);
            int v = 80 + rng.nextInt(176);
            for (int y = y0; y < Math.min(w, y1); y++) {
                for (int x = x0; x < Math.min(w, x1); x++) {
                    px[y * w + x] = (byte) v;
                }
            }
        }
        return px;
    }

    private static void folder(Path dir, List<byte[]> images, String prefix) throws Exception {
        Files.createDirectories(dir.resolve("images"));
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < images.size(); i++) {
            String name = "images/" + prefix + i + ".png";
            Files.write(dir.resolve(name), Png.encodeGray(28, 28, images.get(i)));
            jsonl.append(CaptionDataset.captionLine(name, List.of("picture number " + i), null)).append('\n');
        }
        Files.writeString(dir.resolve(CaptionDataset.JSONL), jsonl);
    }

    @Test
    void plantedDuplicatesGoAndDistinctImagesStay(@TempDir Path dir) throws Exception {
        SplittableRandom rng = new SplittableRandom(5);
        List<byte[]> eval = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            eval.add(blobs(rng));
        }
        List<byte[]> train = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            train.add(blobs(rng));
        }
        train.add(train.get(3).clone());            // 40: exact copy of 3
        byte[] near = train.get(7).clone();
        near[0] = (byte) 9;                         // 41: one dark pixel changed in a corner of 7
        train.add(near);
        train.add(eval.get(2).clone());             // 42: an evaluation image
        byte[] nearEval = eval.get(5).clone();
        nearEval[27] = (byte) 7;
        train.add(nearEval);                        // 43: nearly an evaluation image
        folder(dir.resolve("train"), train, "t");
        folder(dir.resolve("eval"), eval, "e");
        Deduplicator.Result r;
        try (LitModel m = LitModel.loadDefault(LitModel.Options.defaults().withThreads(2))) {
            r = Deduplicator.run(m, dir.resolve("train"), List.of(dir.resolve("eval")), dir.resolve("out"), DedupRule.DEFAULT,
                    new PrintStream(OutputStream.nullOutputStream()));
        }
        assertEquals(44, r.rows());
        assertEquals(1, r.exactPixels(), r.dropped().toString());
        assertEquals(1, r.exactAgainstEval(), r.dropped().toString());
        assertEquals(1, r.nearInSet(), r.dropped().toString());
        assertEquals(1, r.nearAgainstEval(), r.dropped().toString());
        assertEquals(Set.of(40, 41, 42, 43), r.dropped().stream().map(Deduplicator.Dropped::row).collect(Collectors.toSet()));
        assertEquals("images/t3.png", r.dropped().stream().filter(d -> d.row() == 40).findFirst().orElseThrow().duplicateOf());
        assertEquals(40, r.kept());
        try (CaptionDataset cleaned = CaptionDataset.open(r.cleaned())) {
            assertEquals(40, cleaned.size());
            assertEquals("images/t39.png", cleaned.rows().getLast().image());
            assertEquals(List.of("picture number 39"), cleaned.rows().getLast().captions());
        }
        assertNotNull(ImageIO.read(r.sheet().toFile()));
        assertTrue(Files.readString(r.report()).contains("\"near_against_eval\": 1"));
    }
}

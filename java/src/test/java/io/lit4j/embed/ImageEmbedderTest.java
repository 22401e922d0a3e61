package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.data.BadRows;
import io.lit4j.data.Preprocess;
import io.lit4j.io.Png;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one image-embedding path, on a stand-in tower (each image's vector is its pixel mean and the
 * batch size it ran in): input order, skipping or refusing bad files, and memory bounded by the
 * batch and look-ahead however many images there are.
 */
class ImageEmbedderTest {
    static final Preprocess PP = Preprocess.bigVision(4);

    /** {@code n} 4x4 PNGs of grey level {@code i % 250}; the indices in {@code bad} hold bytes that are no image. */
    static ImageSource pngs(int n, List<Integer> bad, AtomicInteger reads) {
        return new ImageSource() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public String name(int i) {
                return "img-" + i + ".png";
            }

            @Override
            public byte[] read(int i) {
                reads.incrementAndGet();
                if (bad.contains(i)) {
                    return ("not a png " + i).getBytes();
                }
                int[] argb = new int[16];
                Arrays.fill(argb, 0xFF000000 | (i % 250) * 0x010101);
                return Png.encodeRgb(4, 4, argb);
            }
        };
    }

    /** A tower that returns, per image, {mean pixel value, batch size}. */
    static ImageEmbedder.Tower meanAndBatch(AtomicInteger embedded) {
        return (px, n) -> {
            embedded.addAndGet(n);
            float[] out = new float[2 * n];
            int per = px.length / n;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < per; j++) {
                    s += px[i * per + j];
                }
                out[2 * i] = (float) (s / per);
                out[2 * i + 1] = n;
            }
            return out;
        };
    }

    static float grey(int i) {
        return (float) ((i % 250) / 127.5 - 1);
    }

    @Test
    void rowsComeInInputOrderAndBadFilesAreSkippedAndReported() {
        AtomicInteger reads = new AtomicInteger(), embedded = new AtomicInteger();
        try (ImageEmbedder e = new ImageEmbedder(2, PP, meanAndBatch(embedded), new ImageEmbedder.Options(5, 2, 2))) {
            List<Long> progress = new ArrayList<>();
            ImageEmbedder.Result r = e.embedAll(pngs(23, List.of(0, 7, 22), reads), true, progress::add);
            assertEquals(20, r.indices().length);
            int row = 0;
            for (int i = 0; i < 23; i++) {
                if (i == 0 || i == 7 || i == 22) {
                    continue;
                }
                assertEquals(i, r.indices()[row]);
                assertEquals("img-" + i + ".png", r.names().get(row));
                assertEquals(grey(i), r.embeddings()[2 * row], 1e-5, "row " + row + " is image " + i);
                row++;
            }
            for (int k = 0; k < 20; k++) { // 20 good images: four full batches of 5, the bad ones left out of them
                assertEquals(5f, r.embeddings()[2 * k + 1]);
            }
            assertEquals(3, r.skipped().count(BadRows.Reason.BAD_IMAGE));
            assertTrue(r.skipped().examples().get(0).where().equals("img-0.png"), r.skipped().toString());
            assertEquals(23, progress.stream().mapToLong(Long::longValue).sum(), "progress counts every image, skipped ones too");
            assertEquals(20, embedded.get());
        }
    }

    @Test
    void withoutSkippingABadFileIsAnErrorNamingIt() {
        try (ImageEmbedder e = new ImageEmbedder(2, PP, meanAndBatch(new AtomicInteger()), ImageEmbedder.Options.of(4, 1))) {
            LitException x = assertThrows(LitException.class, () -> e.embedAll(pngs(10, List.of(6), new AtomicInteger())));
            assertTrue(x.getMessage().contains("img-6.png") && x.getMessage().contains("not an image"), x.getMessage());
        }
    }

    /** A folder of 10,000 images is read a bounded window ahead of the tower: memory is bounded by the batch, not the folder. */
    @Test
    void decodingStaysABoundedWindowAheadOfTheTower() {
        AtomicInteger reads = new AtomicInteger(), embedded = new AtomicInteger();
        int batch = 8, lookahead = 2;
        int[] ahead = {0};
        ImageEmbedder.Tower tower = meanAndBatch(embedded);
        ImageEmbedder.Tower watching = (px, n) -> {
            ahead[0] = Math.max(ahead[0], reads.get() - embedded.get());
            return tower.run(px, n);
        };
        try (ImageEmbedder e = new ImageEmbedder(2, PP, watching, new ImageEmbedder.Options(batch, 2, lookahead))) {
            ImageEmbedder.Result r = e.embedAll(pngs(10_000, List.of(), reads), false, done -> { });
            assertEquals(10_000, r.indices().length);
            assertEquals(10_000, embedded.get());
        }
        assertTrue(ahead[0] <= (lookahead + 1) * batch, "decoded " + ahead[0] + " images ahead of the tower; the window is "
                + (lookahead + 1) * batch);
        assertTrue(ahead[0] >= batch, "the window was never used: " + ahead[0]);
    }

    @Test
    void pixelsAndDecodedImagesGoThroughTheSameBatches() {
        try (ImageEmbedder e = new ImageEmbedder(2, PP, meanAndBatch(new AtomicInteger()), ImageEmbedder.Options.of(3, 0))) {
            float[] px = new float[7 * PP.floatsPerImage()];
            for (int i = 0; i < 7; i++) {
                Arrays.fill(px, i * PP.floatsPerImage(), (i + 1) * PP.floatsPerImage(), grey(i));
            }
            float[] z = e.embedPixels(px, 7);
            float[] fromFiles = e.embedAll(pngs(7, List.of(), new AtomicInteger()));
            assertArrayEquals(fromFiles, z, 1e-6f);
            assertEquals(1f, z[2 * 6 + 1], "7 images in batches of 3: the last forward holds one");
        }
    }
}

package io.lit4j.datasets;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IDX reader on tiny files written here: valid, truncated, wrong magic, lying sizes. */
class IdxTest {
    @TempDir
    Path tmp;

    /** An IDX image file: header says (count, rows, cols), followed by {@code dataBytes} bytes. */
    static byte[] images(int magic, int count, int rows, int cols, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(16 + dataBytes);
        b.putInt(magic).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) (i * 7 + 1));
        }
        return b.array();
    }

    static byte[] labels(int magic, int count, byte... values) {
        ByteBuffer b = ByteBuffer.allocate(8 + values.length);
        b.putInt(magic).putInt(count).put(values);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(raw);
        }
        return out.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private LitException fails(String name, byte[] bytes, boolean asImages) throws IOException {
        Path p = file(name, bytes);
        LitException e = assertThrows(LitException.class, () -> {
            if (asImages) {
                Idx.readImages(p);
            } else {
                Idx.readLabels(p);
            }
        });
        assertTrue(e.getMessage().contains(p.toString()), "the error names the file: " + e.getMessage());
        return e;
    }

    @Test
    void readsValidPlainAndGzippedFiles() throws IOException {
        byte[] raw = images(Idx.MAGIC_IMAGES, 3, 2, 4, 24);
        for (Path p : new Path[] {file("i.idx", raw), file("i.idx.gz", gzip(raw)), file("gz-without-suffix", gzip(raw))}) {
            Idx.Images im = Idx.readImages(p);
            assertEquals(3, im.count());
            assertEquals(2, im.rows());
            assertEquals(4, im.cols());
            assertArrayEquals(Arrays.copyOfRange(raw, 16 + 8, 16 + 16), im.image(1));
        }
        byte[] lab = labels(Idx.MAGIC_LABELS, 4, (byte) 0, (byte) 9, (byte) 200, (byte) 3);
        assertArrayEquals(new byte[] {0, 9, (byte) 200, 3}, Idx.readLabels(file("l.idx", lab)));
        assertArrayEquals(new byte[] {0, 9, (byte) 200, 3}, Idx.readLabels(file("l.idx.gz", gzip(lab))));
        assertEquals(0, Idx.readImages(file("empty.idx", images(Idx.MAGIC_IMAGES, 0, 28, 28, 0))).count());
    }

    @Test
    void wrongMagic() throws IOException {
        LitException e = fails("l-as-images.gz", gzip(labels(Idx.MAGIC_LABELS, 1, (byte) 1)), true);
        assertTrue(e.getMessage().contains("label file"), e.getMessage());
        e = fails("i-as-labels", images(Idx.MAGIC_IMAGES, 1, 1, 1, 1), false);
        assertTrue(e.getMessage().contains("image file"), e.getMessage());
        e = fails("png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true);
        assertTrue(e.getMessage().contains("not an IDX file"), e.getMessage());
        e = fails("floats", images(0x00000D03, 1, 1, 1, 4), true);
        assertTrue(e.getMessage().contains("not unsigned byte"), e.getMessage());
    }

    @Test
    void truncated() throws IOException {
        byte[] raw = images(Idx.MAGIC_IMAGES, 3, 2, 4, 24);
        fails("cut.idx", Arrays.copyOf(raw, raw.length - 5), true);
        fails("header-only.idx", Arrays.copyOf(raw, 10), true);
        fails("empty", new byte[0], true);
        byte[] gz = gzip(raw);
        fails("cut.gz", Arrays.copyOf(gz, gz.length - 6), true);
        fails("cut-more.gz", Arrays.copyOf(gz, gz.length / 2), true);
        byte[] lab = gzip(labels(Idx.MAGIC_LABELS, 4, (byte) 0, (byte) 1, (byte) 2, (byte) 3));
        fails("labels-cut.gz", Arrays.copyOf(lab, lab.length - 3), false);
    }

    @Test
    void lyingSizesFailBeforeAllocating() throws IOException {
        // 2^31-1 images of 4096x4096 would be ~32 PB: refused from the header and the file size alone
        LitException e = fails("huge.idx", images(Idx.MAGIC_IMAGES, Integer.MAX_VALUE, 4096, 4096, 8), true);
        assertTrue(e.getMessage().contains("header says"), e.getMessage());
        fails("huge.gz", gzip(images(Idx.MAGIC_IMAGES, Integer.MAX_VALUE, 4096, 4096, 8)), true);
        // the header promises more (or fewer) images than the data holds
        fails("more.idx", images(Idx.MAGIC_IMAGES, 5, 2, 4, 24), true);
        fails("more.gz", gzip(images(Idx.MAGIC_IMAGES, 5, 2, 4, 24)), true);
        e = fails("fewer.gz", gzip(images(Idx.MAGIC_IMAGES, 2, 2, 4, 24)), true);
        assertTrue(e.getMessage().contains("2 images of 2x4"), e.getMessage());
        fails("labels-more.gz", gzip(labels(Idx.MAGIC_LABELS, 1000, (byte) 1, (byte) 2)), false);
        fails("labels-fewer", labels(Idx.MAGIC_LABELS, 1, (byte) 1, (byte) 2), false);
        // negative or absurd dimensions
        e = fails("negative.idx", images(Idx.MAGIC_IMAGES, -1, 2, 4, 24), true);
        assertTrue(e.getMessage().contains("implausible"), e.getMessage());
        fails("zero-rows.idx", images(Idx.MAGIC_IMAGES, 3, 0, 4, 24), true);
        fails("wide.idx", images(Idx.MAGIC_IMAGES, 1, 1, 100_000, 100_000), true);
        fails("neg-labels", labels(Idx.MAGIC_LABELS, -5), false);
    }

    @Test
    void missingFile() {
        LitException e = assertThrows(LitException.class, () -> Idx.readLabels(tmp.resolve("nope.gz")));
        assertTrue(e.getMessage().contains("nope.gz"), e.getMessage());
    }
}

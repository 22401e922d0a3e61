package io.lit4j.datasets;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FashionMnistTest {
    @TempDir
    Path tmp;

    private static void assumeInstalled() {
        assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST is not installed in " + FashionMnist.folder()
                + " (apt install dataset-fashion-mnist, or set -D" + FashionMnist.PROPERTY + " / $"
                + FashionMnist.ENV + "); skipping the tests that read it");
    }

    @Test
    void classNamesAndAliases() {
        assertEquals(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                "Bag", "Ankle boot"), FashionMnist.classNames());
        assertEquals(10, FashionMnist.aliases().size());
        assertEquals("pullover,sweater,jumper", FashionMnist.aliases().get(2));
        assertEquals("sneaker,trainer,running shoe", FashionMnist.aliases().get(7));
        for (int c = 0; c < 10; c++) {
            assertEquals(c, FashionMnist.classIndex(FashionMnist.classNames().get(c)));
            for (String a : FashionMnist.aliases().get(c).split(",")) {
                assertEquals(c, FashionMnist.classIndex(a), a);
            }
            // the caption nouns are exactly the aliases, so captions use the classifier's words
            assertEquals(List.of(FashionMnist.aliases().get(c).split(",")), FashionCaptions.CLASSES.get(c).nouns());
        }
        assertEquals(-1, FashionMnist.classIndex("hat"));
    }

    @Test
    void countsAndClassBalanceWhenInstalled() {
        assumeInstalled();
        for (FashionMnist.Split s : FashionMnist.Split.values()) {
            FashionMnist.Data d = FashionMnist.load(s);
            assertEquals(s.expectedCount(), d.size(), s.name());
            assertEquals(28, d.rows());
            assertEquals(28, d.cols());
            int[] per = new int[10];
            for (int i = 0; i < d.size(); i++) {
                assertEquals(784, d.images()[i].length);
                per[d.label(i)]++;
            }
            for (int c = 0; c < 10; c++) {
                assertEquals(d.size() / 10, per[c], s + " class " + c);
            }
        }
        assertEquals(60_000, FashionMnist.Split.TRAIN.expectedCount());
        assertEquals(10_000, FashionMnist.Split.TEST.expectedCount());
    }

    @Test
    void exportWritesACaptionedFolderWhenInstalled() throws IOException {
        assumeInstalled();
        Path out = tmp.resolve("fm");
        FashionMnist.export(out, FashionMnist.Split.TEST, 50, 7);
        FashionMnist.Data d = FashionMnist.load(FashionMnist.Split.TEST);
        List<String> lines = Files.readAllLines(out.resolve("captions.jsonl"));
        assertEquals(50, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
            assertEquals(String.format("images/test-%05d.png", i), o.get("image").getAsString());
            assertEquals(d.className(i), o.get("label").getAsString());
            int n = o.getAsJsonArray("captions").size();
            assertTrue(n >= 2 && n <= 3, lines.get(i));
            BufferedImage img = ImageIO.read(out.resolve(o.get("image").getAsString()).toFile());
            assertEquals(28, img.getWidth());
            byte[] back = new byte[784];
            img.getRaster().getDataElements(0, 0, 28, 28, back);
            assertArrayEquals(d.images()[i], back, "pixels as in the IDX file");
        }
    }

    @Test
    void exportFromDataIsDeterministicAndUpscales() throws IOException {
        byte[][] imgs = new byte[12][784];
        byte[] labels = new byte[12];
        for (int i = 0; i < 12; i++) {
            labels[i] = (byte) (i % 10);
            for (int p = 0; p < 784; p++) {
                imgs[i][p] = (byte) ((p * (i + 1)) % 256);
            }
        }
        FashionMnist.Data d = new FashionMnist.Data(FashionMnist.Split.TRAIN, 28, 28, imgs, labels);
        FashionMnist.export(tmp.resolve("a"), d, 0, 3, FashionMnist.ExportOptions.defaults());
        FashionMnist.export(tmp.resolve("b"), d, 0, 3, FashionMnist.ExportOptions.defaults());
        assertEquals(Files.readString(tmp.resolve("a/captions.jsonl")), Files.readString(tmp.resolve("b/captions.jsonl")));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/images/train-00011.png")),
                Files.readAllBytes(tmp.resolve("b/images/train-00011.png")));
        assertEquals(12, Files.readAllLines(tmp.resolve("a/captions.jsonl")).size());
        FashionMnist.export(tmp.resolve("c"), d, 5, 4, new FashionMnist.ExportOptions(8, false));
        List<String> lines = Files.readAllLines(tmp.resolve("c/captions.jsonl"));
        assertEquals(5, lines.size());
        assertFalse(lines.equals(Files.readAllLines(tmp.resolve("a/captions.jsonl")).subList(0, 5)), "another seed");
        BufferedImage big = ImageIO.read(tmp.resolve("c/images/train-00003.png").toFile());
        assertEquals(224, big.getWidth());
        assertEquals(imgs[3][28 * 5 + 9] & 0xFF, big.getRaster().getSample(9 * 8 + 7, 5 * 8 + 3, 0));
        assertThrows(LitException.class,
                () -> FashionMnist.export(tmp.resolve("a"), d, 0, 3, FashionMnist.ExportOptions.defaults()),
                "an existing folder is not overwritten");
    }

    @Test
    void loadReadsTinyFilesAndChecksThatTheyAgree() throws IOException {
        Path dir = tmp.resolve("fake");
        Files.createDirectories(dir);
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"),
                IdxTest.gzip(IdxTest.images(Idx.MAGIC_IMAGES, 2, 28, 28, 2 * 784)));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
                IdxTest.gzip(IdxTest.labels(Idx.MAGIC_LABELS, 2, (byte) 9, (byte) 0)));
        FashionMnist.Data d = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(2, d.size());
        assertEquals("Ankle boot", d.className(0));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
                IdxTest.gzip(IdxTest.labels(Idx.MAGIC_LABELS, 3, (byte) 9, (byte) 0, (byte) 1)));
        LitException e = assertThrows(LitException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains("2 images but"), e.getMessage());
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
                IdxTest.gzip(IdxTest.labels(Idx.MAGIC_LABELS, 2, (byte) 10, (byte) 0)));
        e = assertThrows(LitException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains("label 10"), e.getMessage());
        e = assertThrows(LitException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
    }
}

package io.lit4j.io;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PngTest {
    @Test
    void rgbRoundTripsThroughImageIo() throws IOException {
        for (int[] wh : new int[][] {{1, 1}, {7, 3}, {64, 64}, {33, 17}}) {
            int w = wh[0];
            int h = wh[1];
            SplittableRandom r = new SplittableRandom(w * 31L + h);
            int[] px = new int[w * h];
            for (int i = 0; i < px.length; i++) {
                // mix smooth and noisy rows so that every filter type gets chosen somewhere
                px[i] = (i / w) % 2 == 0 ? (i * 2 % 256) * 0x010101 : r.nextInt(1 << 24);
            }
            byte[] png = Png.encodeRgb(w, h, px);
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertEquals(w, img.getWidth());
            assertEquals(h, img.getHeight());
            int[] back = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < px.length; i++) {
                assertEquals(px[i], back[i] & 0xFFFFFF, "pixel " + i + " of " + w + "x" + h);
            }
            assertArrayEquals(png, Png.encodeRgb(w, h, px), "same pixels, same bytes");
        }
    }

    @Test
    void grayRoundTripsThroughImageIo() throws IOException {
        int w = 28;
        int h = 28;
        byte[] px = new byte[w * h];
        new SplittableRandom(5).nextBytes(px);
        byte[] png = Png.encodeGray(w, h, px);
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
        byte[] back = new byte[w * h];
        img.getRaster().getDataElements(0, 0, w, h, back);
        assertArrayEquals(px, back);
    }

    @Test
    void rejectsWrongPixelCount() {
        assertThrows(LitException.class, () -> Png.encodeRgb(4, 4, new int[15]));
        assertThrows(LitException.class, () -> Png.encodeGray(0, 4, new byte[0]));
    }
}
